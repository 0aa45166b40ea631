package storage

import (
	"context"
	"fmt"
	"io"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	"github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/manifest"
	istorage "go.podman.io/image/v5/storage"
	cstorage "go.podman.io/storage"
)

// PushOptions tune a push.
type PushOptions struct {
	RegistryOptions
	// Progress receives containers/image's human progress report; nil
	// pushes silently.
	Progress io.Writer
	// Blobs, when set, receives each layer's progress (api_progress.go).
	Blobs func(BlobEvent)
}

// PushResult says what the registry now holds.
type PushResult struct {
	Name   string        // the full name pushed: docker.io/library/alpine:latest
	Tag    string        // its tag, which docker's summary line starts with
	Digest digest.Digest // the manifest's digest in the registry
	Size   int           // the manifest's size in bytes
}

// Push uploads a local image to the registry its name points at. As with
// docker, the name must be a local tag ("alpine" means alpine:latest);
// an id or a digest cannot be pushed.
func (s *Store) Push(ctx context.Context, name string, opts PushOptions) (*PushResult, error) {
	named, err := ParseReference(name)
	if err != nil {
		return nil, err
	}
	tagged, ok := named.(reference.NamedTagged)
	if !ok {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("cannot push %s: push a tag, not a digest", name))
	}
	img, err := s.localTag(named)
	if err != nil {
		return nil, err
	}
	srcRef, err := istorage.Transport.NewStoreReference(s.cs, named, img.ID)
	if err != nil {
		return nil, err
	}
	destRef, err := docker.NewReference(named)
	if err != nil {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("%s: %v", name, err))
	}
	sys, err := s.systemContext(registryOf(named), opts.RegistryOptions)
	if err != nil {
		return nil, err
	}
	policy, err := policyContext(sys)
	if err != nil {
		return nil, err
	}
	defer func() { _ = policy.Destroy() }()

	progress, interval, progressDone := blobProgress(opts.Blobs)
	manifestBytes, err := copy.Image(ctx, policy, destRef, srcRef, &copy.Options{
		SourceCtx:          sys,
		DestinationCtx:     sys,
		ReportWriter:       opts.Progress,
		ImageListSelection: copy.CopySystemImage,
		Progress:           progress,
		ProgressInterval:   interval,
	})
	progressDone()
	if err != nil {
		return nil, classifyRegistryError(opPush, named, err)
	}
	d, err := manifest.Digest(manifestBytes)
	if err != nil {
		return nil, fmt.Errorf("digesting the pushed manifest of %s: %w", name, err)
	}
	s.imageEvent(events.ActionPush, reference.FamiliarString(named), reference.FamiliarString(named), nil)
	return &PushResult{Name: named.String(), Tag: tagged.Tag(), Digest: d, Size: len(manifestBytes)}, nil
}

// localTag finds the image a tag names, with docker push's two messages
// for a repository that has no local image and for a missing tag.
func (s *Store) localTag(named reference.Named) (*cstorage.Image, error) {
	if img, err := s.cs.Image(named.String()); err == nil && hasName(img, named.String()) {
		return img, nil
	}
	imgs, err := s.cs.Images()
	if err != nil {
		return nil, fmt.Errorf("listing images: %w", err)
	}
	for _, img := range imgs {
		for _, n := range img.Names {
			if other, err := reference.ParseNormalizedNamed(n); err == nil && other.Name() == named.Name() {
				return nil, errdefs.ErrNotFound.WithMessage(fmt.Sprintf("tag does not exist: %s", reference.FamiliarString(named)))
			}
		}
	}
	return nil, errdefs.ErrNotFound.WithMessage(fmt.Sprintf("An image does not exist locally with the tag: %s", reference.FamiliarName(named)))
}
