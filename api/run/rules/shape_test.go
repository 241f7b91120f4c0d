package rules_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/open-supervisor/supervisor/api/run/rules"
	"github.com/open-supervisor/supervisor/api/run/v1alpha1"
	"github.com/open-supervisor/supervisor/api/run/v1alpha2"
	"github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// TestSettingsShapeIsEveryVersions: the settings rules read every version's
// spec.settings through JSON, so a field one side has and the other lacks
// would go unchecked or undefaulted. Add it to rules' types too.
func TestSettingsShapeIsEveryVersions(t *testing.T) {
	want := jsonShape(reflect.TypeFor[rules.Settings](), "")
	for name, typ := range map[string]reflect.Type{
		"v1alpha1": reflect.TypeFor[v1alpha1.Settings](),
		"v1alpha2": reflect.TypeFor[v1alpha2.Settings](),
		"v1alpha3": reflect.TypeFor[v1alpha3.Settings](),
	} {
		got := jsonShape(typ, "")
		for path, kind := range want {
			if got[path] != kind {
				t.Errorf("%s: settings%s is %q, rules has %q", name, path, got[path], kind)
			}
		}
		for path, kind := range got {
			if _, ok := want[path]; !ok {
				t.Errorf("%s: settings%s (%s) is missing from rules.Settings", name, path, kind)
			}
		}
	}
}

// jsonShape maps the JSON path of every field under t to its kind.
func jsonShape(t reflect.Type, prefix string) map[string]string {
	out := map[string]string{}
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		if t.Kind() == reflect.Slice {
			prefix += "[]"
		}
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		out[prefix] = t.Kind().String()
		return out
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		for p, k := range jsonShape(f.Type, prefix+"."+name) {
			out[p] = k
		}
	}
	return out
}
