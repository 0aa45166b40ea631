package storage

import (
	"reflect"
	"testing"
	"time"

	"github.com/moby/moby/api/types/image"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestHistoryItems(t *testing.T) {
	t1, t2 := time.Unix(1000, 0), time.Unix(2000, 0)
	history := []ocispec.History{
		{Created: &t1, CreatedBy: "ADD rootfs.tar /"},
		{Created: &t1, CreatedBy: "ENV A=1", EmptyLayer: true},
		{Created: &t2, CreatedBy: "RUN make", Comment: "buildkit"},
		{Created: &t2, CreatedBy: "CMD [\"sh\"]", EmptyLayer: true},
	}
	got := historyItems("sha256:abc", []string{"app:1"}, history, []int64{500, 70}, 3000)
	want := []image.HistoryResponseItem{
		{ID: "sha256:abc", Tags: []string{"app:1"}, Created: 2000, CreatedBy: "CMD [\"sh\"]"},
		{ID: "<missing>", Created: 2000, CreatedBy: "RUN make", Comment: "buildkit", Size: 70},
		{ID: "<missing>", Created: 1000, CreatedBy: "ENV A=1"},
		{ID: "<missing>", Created: 1000, CreatedBy: "ADD rootfs.tar /", Size: 500},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestHistoryItemsWithoutHistory(t *testing.T) {
	got := historyItems("sha256:abc", nil, nil, []int64{10, 20}, 3000)
	if len(got) != 2 || got[0].Size != 20 || got[1].Size != 10 || got[0].ID != "sha256:abc" || got[1].Created != 3000 {
		t.Errorf("got %+v", got)
	}
}
