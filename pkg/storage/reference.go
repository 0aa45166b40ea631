package storage

import (
	"errors"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	"go.podman.io/image/v5/docker/reference"
	cstorage "go.podman.io/storage"
)

// ParseReference normalises a user's image name the way docker does:
// "alpine" is docker.io/library/alpine:latest.
func ParseReference(name string) (reference.Named, error) {
	if strings.Contains(name, "://") {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid reference format %q: image names have no scheme", name))
	}
	named, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid reference format %q: %v", name, err))
	}
	return reference.TagNameOnly(named), nil
}

// FamiliarString is docker's short form of a name: alpine:latest rather
// than docker.io/library/alpine:latest.
func FamiliarString(name string) string {
	named, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return name
	}
	return reference.FamiliarString(named)
}

// lookupImage finds a local image by name (normalised), full id or unique
// id prefix. byName tells which of these matched.
func (s *Store) lookupImage(name string) (img *cstorage.Image, byName string, err error) {
	if named, perr := ParseReference(name); perr == nil {
		full := named.String()
		if img, err := s.cs.Image(full); err == nil && hasName(img, full) {
			return img, full, nil
		}
	}
	id := strings.TrimPrefix(name, "sha256:")
	if isHexPrefix(id) {
		if img, err := s.cs.Image(id); err == nil {
			return img, "", nil
		} else if !errors.Is(err, cstorage.ErrImageUnknown) {
			return nil, "", fmt.Errorf("looking up image %q: %w", name, err)
		}
	}
	return nil, "", notFoundImage(name)
}

// notFoundImage is docker's message for a missing image, with its tag.
func notFoundImage(name string) error {
	shown := name
	if named, err := ParseReference(name); err == nil && !isHexPrefix(strings.TrimPrefix(name, "sha256:")) {
		shown = reference.FamiliarString(named)
	}
	return errdefs.ErrNotFound.WithMessage(fmt.Sprintf("No such image: %s", shown))
}

func hasName(img *cstorage.Image, name string) bool {
	for _, n := range img.Names {
		if n == name {
			return true
		}
	}
	return false
}

func isHexPrefix(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
