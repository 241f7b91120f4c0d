package storagepolicy

import (
	"context"
	"errors"
	"testing"
	"time"
)

type listFunc func(context.Context) ([]Policy, error)

func (f listFunc) List(ctx context.Context) ([]Policy, error) { return f(ctx) }

func TestCache(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(0, 0)
	calls := 0
	policies := []Policy{{ID: "a", Name: "A"}}
	var fail error
	c := &Cache{
		TTL: time.Minute, Now: func() time.Time { return now },
		Lister: listFunc(func(context.Context) ([]Policy, error) { calls++; return policies, fail }),
	}
	steps := []struct {
		name      string
		id        string
		advance   time.Duration
		add       *Policy
		wantFound bool
		wantCalls int
	}{
		{"first lookup lists", "a", 0, nil, true, 1},
		{"cached", "a", 10 * time.Second, nil, true, 1},
		{"unknown id lists again", "b", 0, nil, false, 2},
		{"a policy just created is found at once", "b", 0, &Policy{ID: "b", Name: "B"}, true, 3},
		{"stale after the TTL", "a", 2 * time.Minute, nil, true, 4},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		if s.add != nil {
			policies = append(policies, *s.add)
		}
		_, found, err := c.Policy(ctx, s.id)
		if err != nil || found != s.wantFound || calls != s.wantCalls {
			t.Fatalf("%s: found %v, err %v, %d lists; want %v, %d", s.name, found, err, calls, s.wantFound, s.wantCalls)
		}
	}
	fail = errors.New("vCenter is down")
	if _, _, err := c.Policy(ctx, "zzz"); err == nil {
		t.Error("a failed list must be an error, not a missing policy")
	}
}
