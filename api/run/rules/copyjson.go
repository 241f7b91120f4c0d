package rules

import "encoding/json"

// CopyJSON converts in to out through JSON, for types that share their JSON
// shape: the same settings in two API versions (which differ only by
// fields the other lacks), or in rules' own types. A field added to both is
// carried without a conversion function to forget. out is reset first and
// shares no memory with in.
func CopyJSON[T any](in any, out *T) error {
	var zero T
	*out = zero
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}
