package storage

import (
	"context"
	"fmt"
)

// Mount mounts an image's root filesystem read-only, inside the rootless
// mount namespace, and returns where; podman image mount does the same.
// Mounts are counted: each Mount needs an Unmount.
func (s *Store) Mount(ctx context.Context, name string) (string, error) {
	img, _, err := s.lookupImage(name)
	if err != nil {
		return "", err
	}
	dir, err := s.cs.MountImage(img.ID, []string{"ro"}, "")
	if err != nil {
		return "", fmt.Errorf("mounting image %s: %w", shortID(img.ID), err)
	}
	return dir, nil
}

// Unmount undoes one Mount of the image.
func (s *Store) Unmount(ctx context.Context, name string) error {
	img, _, err := s.lookupImage(name)
	if err != nil {
		return err
	}
	if _, err := s.cs.UnmountImage(img.ID, false); err != nil {
		return fmt.Errorf("unmounting image %s: %w", shortID(img.ID), err)
	}
	return nil
}
