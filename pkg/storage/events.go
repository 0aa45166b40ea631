package storage

import (
	"encoding/json"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/events"
	"github.com/opencontainers/go-digest"
)

// imageEvent reports an image operation to Options.Events as docker's
// daemon logs it: the actor is the image (an id, or for pull and push the
// familiar reference), "name" says which name was acted on, and the
// image's labels come along while the image still exists. The store
// reports its own operations, so every caller (CLI, API server, prune)
// gets the same events without repeating them. labels nil means the
// image's own, read now.
func (s *Store) imageEvent(action events.Action, id, name string, labels map[string]string) {
	if s.events == nil {
		return
	}
	if labels == nil {
		labels = s.imageLabels(id)
	}
	attrs := map[string]string{}
	for k, v := range labels {
		attrs[k] = v
	}
	if name != "" {
		attrs["name"] = name
	}
	s.events(events.Message{
		Type:   events.ImageEventType,
		Action: action,
		Actor:  events.Actor{ID: id, Attributes: attrs},
	})
}

// imageLabels are the labels of the image ref names, none when it is
// gone (after a delete) or unreadable, or when nobody listens.
func (s *Store) imageLabels(ref string) map[string]string {
	attrs := map[string]string{}
	if s.events == nil {
		return attrs
	}
	img, _, err := s.lookupImage(ref)
	if err != nil {
		return attrs
	}
	data, err := s.cs.ImageBigData(img.ID, digest.NewDigestFromEncoded(digest.SHA256, img.ID).String())
	if err != nil {
		return attrs
	}
	var cfg dockerspec.DockerOCIImage
	if json.Unmarshal(data, &cfg) == nil {
		for k, v := range cfg.Config.Labels {
			attrs[k] = v
		}
	}
	return attrs
}
