package storage

import (
	"errors"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	cstorage "go.podman.io/storage"
)

func TestParseTimestamp(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: "yesterday", bad: true},
		{in: "1e3", bad: true},
		{in: "24h", want: now.Add(-24 * time.Hour)},
		{in: "90m", want: now.Add(-90 * time.Minute)},
		{in: "1700000000", want: time.Unix(1700000000, 0)},
		{in: "1700000000.5", want: time.Unix(1700000000, 5e8)},
		{in: "2025-12-24T10:00:00Z", want: time.Date(2025, 12, 24, 10, 0, 0, 0, time.UTC)},
		{in: "2025-12-24", want: time.Date(2025, 12, 24, 0, 0, 0, 0, time.Local)},
	} {
		got, err := ParseTimestamp(tc.in, now)
		if tc.bad {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("%q: got %v, %v; want an invalid argument", tc.in, got, err)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("%q: got %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestPruneFilter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	old, recent := now.Add(-48*time.Hour), now.Add(-time.Hour)
	rec := func(created time.Time, labels map[string]string) *imageRecord {
		r := &imageRecord{img: &cstorage.Image{}}
		r.config = dockerspec.DockerOCIImage{}
		r.config.Created = &created
		r.config.Config.Labels = labels
		return r
	}
	oldKeep := rec(old, map[string]string{"keep": "yes"})
	oldPlain := rec(old, nil)
	recentPlain := rec(recent, nil)
	for _, tc := range []struct {
		name    string
		filters Filters
		all     bool
		want    []bool // oldKeep, oldPlain, recentPlain
		wantAll bool
		bad     bool
	}{
		{name: "unknown filter", filters: Filters{"reference": {"x"}}, bad: true},
		{name: "two untils", filters: Filters{"until": {"1h", "2h"}}, bad: true},
		{name: "none", want: []bool{true, true, true}},
		{name: "until", filters: Filters{"until": {"24h"}}, want: []bool{true, true, false}},
		{name: "label", filters: Filters{"label": {"keep"}}, want: []bool{true, false, false}},
		{name: "label!", filters: Filters{"label!": {"keep=yes"}}, want: []bool{false, true, true}},
		{name: "dangling=false is -a", filters: Filters{"dangling": {"false"}}, want: []bool{true, true, true}, wantAll: true},
		{name: "dangling=true overrides -a", filters: Filters{"dangling": {"true"}}, all: true, want: []bool{true, true, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			match, all, err := pruneFilter(tc.filters, tc.all, now)
			if tc.bad {
				if !errors.Is(err, errdefs.ErrInvalidArgument) {
					t.Fatalf("err %v, want invalid argument", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range []*imageRecord{oldKeep, oldPlain, recentPlain} {
				if match(r) != tc.want[i] {
					t.Errorf("image %d: match %v, want %v", i, match(r), tc.want[i])
				}
			}
			if all != tc.wantAll {
				t.Errorf("all = %v, want %v", all, tc.wantAll)
			}
		})
	}
}
