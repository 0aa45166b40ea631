package storage

import (
	"context"
	"fmt"

	"github.com/moby/moby/api/types/image"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// History returns an image's history as docker's /images/{name}/history
// does: newest step first, each non-empty step with the size of the layer
// it made. Only the newest step names the image; the others are
// "<missing>", as docker shows them for pulled images, whose intermediate
// images do not exist locally.
func (s *Store) History(ctx context.Context, name string) ([]image.HistoryResponseItem, error) {
	r, err := s.lookupRecord(name)
	if err != nil {
		return nil, err
	}
	img := r.img
	sizes, err := s.layerSizes(img.TopLayer)
	if err != nil {
		return nil, err
	}
	return historyItems("sha256:"+img.ID, r.tags(), r.config.History, sizes, r.created().Unix()), nil
}

// layerSizes lists the unpacked sizes of an image's layers, base first.
func (s *Store) layerSizes(top string) ([]int64, error) {
	var sizes []int64
	for id := top; id != ""; {
		layer, err := s.cs.Layer(id)
		if err != nil {
			return nil, fmt.Errorf("reading layer %s: %w", shortID(id), err)
		}
		sizes = append([]int64{max(layer.UncompressedSize, 0)}, sizes...)
		id = layer.Parent
	}
	return sizes, nil
}

// historyItems pairs the config's history with the layers in order:
// each step without empty_layer made the next layer. An image without
// history (some tools write none) gets one step per layer, so that its
// layers still show.
func historyItems(id string, tags []string, history []ocispec.History, sizes []int64, created int64) []image.HistoryResponseItem {
	if len(history) == 0 {
		for range sizes {
			history = append(history, ocispec.History{})
		}
	}
	items := make([]image.HistoryResponseItem, 0, len(history))
	layer := 0
	for _, h := range history {
		item := image.HistoryResponseItem{ID: "<missing>", Tags: nil, CreatedBy: h.CreatedBy, Comment: h.Comment, Created: created}
		if h.Created != nil {
			item.Created = h.Created.Unix()
		}
		if !h.EmptyLayer && layer < len(sizes) {
			item.Size = sizes[layer]
			layer++
		}
		items = append(items, item)
	}
	// Newest first, the newest standing for the image itself.
	for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
		items[i], items[j] = items[j], items[i]
	}
	if len(items) > 0 {
		items[0].ID = id
		items[0].Tags = tags
	}
	return items
}
