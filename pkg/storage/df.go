package storage

import (
	"context"
	"fmt"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
)

// ImageDiskUsage is the image part of docker's /system/df: every image
// with how many containers use it and how much it shares with others,
// the space all image layers take (each counted once) and what removing
// the unused images would free.
func (s *Store) ImageDiskUsage(ctx context.Context) (*image.DiskUsage, error) {
	records, err := s.records()
	if err != nil {
		return nil, err
	}
	cs, err := s.cs.Containers()
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	users := map[string]int64{}
	for _, c := range cs {
		users[c.ImageID]++
	}
	sizes, err := s.allLayerSizes()
	if err != nil {
		return nil, err
	}
	chains := make([][]string, len(records))
	for i, r := range records {
		if chains[i], err = s.layerChain(r.img.TopLayer); err != nil {
			return nil, err
		}
	}
	return imageDiskUsage(records, chains, sizes, users), nil
}

// layerChain lists the layers an image is made of.
func (s *Store) layerChain(top string) ([]string, error) {
	var ids []string
	for id := top; id != ""; {
		layer, err := s.cs.Layer(id)
		if err != nil {
			return nil, fmt.Errorf("reading layer %s: %w", shortID(id), err)
		}
		ids = append(ids, id)
		id = layer.Parent
	}
	return ids, nil
}

// imageDiskUsage does ImageDiskUsage's arithmetic: chains[i] are the
// layers of records[i], sizes the layers' sizes, users the number of
// containers per image id. An image's shared size is that of its layers
// that other images use too; what is reclaimable is the total minus the
// unique part of each image in use, as docker computes it.
func imageDiskUsage(records []*imageRecord, chains [][]string, sizes map[string]int64, users map[string]int64) *image.DiskUsage {
	refs := map[string]int{} // layer id -> images using it
	for _, chain := range chains {
		for _, l := range chain {
			refs[l]++
		}
	}
	du := &image.DiskUsage{Items: []image.Summary{}}
	for l := range refs {
		du.TotalSize += sizes[l]
	}
	var used int64
	for i, r := range records {
		sum := r.summary()
		sum.Containers = users[r.img.ID]
		sum.SharedSize = 0
		for _, l := range chains[i] {
			if refs[l] > 1 {
				sum.SharedSize += sizes[l]
			}
		}
		if sum.Containers > 0 {
			du.ActiveCount++
			used += sum.Size - sum.SharedSize
		}
		du.Items = append(du.Items, sum)
	}
	du.TotalCount = int64(len(records))
	du.Reclaimable = du.TotalSize - used
	return du
}

// ContainerDiskUsage counts the containers in the store and the space
// their writable layers take. Whether they run is the container engine's
// knowledge, not the store's: none is reported active, so all of it
// counts as reclaimable until the engine says otherwise.
func (s *Store) ContainerDiskUsage(ctx context.Context) (*container.DiskUsage, error) {
	cs, err := s.cs.Containers()
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	du := &container.DiskUsage{TotalCount: int64(len(cs)), Items: []container.Summary{}}
	for _, c := range cs {
		size, err := s.cs.ContainerSize(c.ID)
		if err != nil {
			continue // a container being removed; its space is going anyway
		}
		du.TotalSize += size
	}
	du.Reclaimable = du.TotalSize
	return du, nil
}
