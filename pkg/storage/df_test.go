package storage

import (
	"testing"
	"time"

	cstorage "go.podman.io/storage"
)

func TestImageDiskUsage(t *testing.T) {
	created := time.Unix(1000, 0)
	rec := func(id string, size int64) *imageRecord {
		r := &imageRecord{img: &cstorage.Image{ID: id, Names: []string{"docker.io/library/" + id + ":latest"}}, size: size}
		r.config.Created = &created
		return r
	}
	// base is shared by a and b; a is used by two containers.
	records := []*imageRecord{rec("a", 150), rec("b", 120), rec("c", 5)}
	chains := [][]string{{"la", "base"}, {"lb", "base"}, {"lc"}}
	sizes := map[string]int64{"base": 100, "la": 50, "lb": 20, "lc": 5, "container-rw": 999}
	du := imageDiskUsage(records, chains, sizes, map[string]int64{"a": 2})

	if du.TotalCount != 3 || du.ActiveCount != 1 {
		t.Errorf("total %d active %d, want 3 and 1", du.TotalCount, du.ActiveCount)
	}
	if du.TotalSize != 175 { // each layer once; the container's layer is not an image's
		t.Errorf("total size %d, want 175", du.TotalSize)
	}
	if du.Reclaimable != 125 { // all but a's unique 50
		t.Errorf("reclaimable %d, want 125", du.Reclaimable)
	}
	for i, want := range []struct{ shared, containers int64 }{{100, 2}, {100, 0}, {0, 0}} {
		if it := du.Items[i]; it.SharedSize != want.shared || it.Containers != want.containers {
			t.Errorf("image %d: shared %d containers %d, want %d %d", i, it.SharedSize, it.Containers, want.shared, want.containers)
		}
	}
}
