package engine

import (
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
)

func TestPruneFilter(t *testing.T) {
	now := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	for _, f := range []map[string][]string{{"status": {"exited"}}, {"until": {"1h", "2h"}}, {"until": {"soon"}}} {
		if _, err := pruneFilter(f, now); err == nil {
			t.Errorf("%v accepted", f)
		}
	}
	old := &Container{Created: now.Add(-48 * time.Hour), Config: &container.Config{Labels: map[string]string{"app": "web", "tier": "front"}}}
	fresh := &Container{Created: now.Add(-time.Minute), Config: &container.Config{}}
	for _, tc := range []struct {
		filters    map[string][]string
		old, fresh bool
	}{
		{nil, true, true},
		{map[string][]string{"until": {"24h"}}, true, false},
		{map[string][]string{"label": {"app=web"}}, true, false},
		{map[string][]string{"label": {"app=web", "tier=back"}}, false, false},
		{map[string][]string{"label!": {"app"}}, false, true},
		// label! excludes only what matches all its values, as dockerd.
		{map[string][]string{"label!": {"app", "other"}}, true, true},
	} {
		match, err := pruneFilter(tc.filters, now)
		if err != nil {
			t.Fatalf("%v: %v", tc.filters, err)
		}
		if match(old) != tc.old || match(fresh) != tc.fresh {
			t.Errorf("%v: old %v fresh %v", tc.filters, match(old), match(fresh))
		}
	}
}
