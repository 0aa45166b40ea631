package storage

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"
	"go.podman.io/image/v5/docker/reference"
)

// RemoveOptions tune Remove.
type RemoveOptions struct {
	// Force removes an image that several names or stopped containers
	// refer to, as docker rmi -f.
	Force bool
}

// Remove untags or deletes one image with docker rmi's rules: a name that
// is not the image's last one is only untagged; deleting by id an image
// with several names, or one that a container uses, needs Force; with
// Force an image still used by a container loses its names but stays.
func (s *Store) Remove(ctx context.Context, name string, opts RemoveOptions) ([]image.DeleteResponse, error) {
	img, byName, err := s.lookupImage(name)
	if err != nil {
		return nil, err
	}
	if byName != "" && len(img.Names) > 1 {
		if err := s.cs.RemoveNames(img.ID, []string{byName}); err != nil {
			return nil, fmt.Errorf("untagging %s: %w", name, err)
		}
		s.imageEvent(events.ActionUnTag, "sha256:"+img.ID, "sha256:"+img.ID, nil)
		return []image.DeleteResponse{{Untagged: FamiliarString(byName)}}, nil
	}
	if byName == "" && len(img.Names) > 1 && !opts.Force {
		return nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf("conflict: unable to delete %s (must be forced) - image is referenced in multiple repositories", shortID(img.ID)))
	}
	users, err := s.containersUsing(img.ID)
	if err != nil {
		return nil, err
	}
	if len(users) > 0 && !opts.Force {
		if byName != "" {
			return nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf("conflict: unable to remove repository reference %q (must force) - container %s is using its referenced image %s", name, shortID(users[0]), shortID(img.ID)))
		}
		return nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf("conflict: unable to delete %s (must be forced) - image is being used by stopped container %s", shortID(img.ID), shortID(users[0])))
	}

	var out []image.DeleteResponse
	for _, n := range img.Names {
		out = append(out, image.DeleteResponse{Untagged: FamiliarString(n)})
		for _, d := range img.Digests {
			if named, err := reference.ParseNormalizedNamed(n); err == nil {
				if c, err := reference.WithDigest(reference.TrimNamed(named), d); err == nil {
					out = append(out, image.DeleteResponse{Untagged: reference.FamiliarString(c)})
				}
			}
		}
	}
	id := "sha256:" + img.ID
	labels := s.imageLabels(id) // read while the image is there
	untagged := func() {
		for range img.Names {
			s.imageEvent(events.ActionUnTag, id, id, labels)
		}
	}
	if len(users) > 0 { // forced: keep the image for its containers, nameless
		if err := s.cs.RemoveNames(img.ID, img.Names); err != nil {
			return nil, fmt.Errorf("untagging %s: %w", name, err)
		}
		untagged()
		return out, nil
	}
	layers, err := s.cs.DeleteImage(img.ID, true)
	if err != nil {
		return nil, fmt.Errorf("deleting image %s: %w", shortID(img.ID), err)
	}
	untagged()
	s.imageEvent(events.ActionDelete, id, id, map[string]string{})
	out = append(out, image.DeleteResponse{Deleted: "sha256:" + img.ID})
	for _, l := range layers {
		out = append(out, image.DeleteResponse{Deleted: "sha256:" + l})
	}
	return out, nil
}

// containersUsing lists the containers whose root filesystem is built on
// the image.
func (s *Store) containersUsing(imageID string) ([]string, error) {
	cs, err := s.cs.Containers()
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	var ids []string
	for _, c := range cs {
		if c.ImageID == imageID {
			ids = append(ids, c.ID)
		}
	}
	return ids, nil
}

// Tag gives the image named source the additional name target, moving
// target from any image that had it, as docker tag does.
func (s *Store) Tag(ctx context.Context, source, target string) error {
	img, _, err := s.lookupImage(source)
	if err != nil {
		return err
	}
	named, err := ParseReference(target)
	if err != nil {
		return err
	}
	if _, ok := named.(reference.Digested); ok {
		return errdefs.ErrInvalidArgument.WithMessage("refusing to create a tag with a digest reference")
	}
	if err := s.cs.AddNames(img.ID, []string{named.String()}); err != nil {
		return fmt.Errorf("tagging %s as %s: %w", source, target, err)
	}
	s.imageEvent(events.ActionTag, "sha256:"+img.ID, reference.FamiliarString(named), nil)
	return nil
}
