package storage

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	"github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/pkg/shortnames"
	"go.podman.io/image/v5/pkg/sysregistriesv2"
	istorage "go.podman.io/image/v5/storage"
)

// PullOptions tune a pull.
type PullOptions struct {
	RegistryOptions
	// Progress receives containers/image's human progress report (bars on
	// a terminal); nil pulls silently.
	Progress io.Writer
	// Blobs, when set, receives each layer's progress (api_progress.go).
	Blobs func(BlobEvent)
}

// PullResult says what a pull stored.
type PullResult struct {
	Name    string // the full name pulled, docker.io/library/alpine:latest
	ID      string // the image id (config digest, without "sha256:")
	Updated bool   // false when the image was already there, unchanged
	// Digest is the manifest digest docker reports: the list's for a
	// multi-platform image.
	Digest digest.Digest
}

// Pull fetches an image from its registry into the store. Short names go
// through registries.conf (aliases, then unqualified-search registries),
// and to docker.io when it names none, as with docker.
func (s *Store) Pull(ctx context.Context, name string, opts PullOptions) (*PullResult, error) {
	if _, err := ParseReference(name); err != nil {
		return nil, err
	}
	candidates, err := s.pullCandidates(name)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, named := range candidates {
		res, err := s.pullOne(ctx, named, opts)
		if err == nil {
			return res, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		errs = append(errs, err)
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	return nil, fmt.Errorf("pulling %s: no candidate worked: %w", name, errors.Join(errs...))
}

// pullCandidates lists the fully qualified names a user's name may mean.
func (s *Store) pullCandidates(name string) ([]reference.Named, error) {
	sys, err := s.systemContext("", RegistryOptions{})
	if err != nil {
		return nil, err
	}
	if shortnames.IsShortName(name) {
		regs, err := sysregistriesv2.UnqualifiedSearchRegistries(sys)
		if err != nil {
			return nil, fmt.Errorf("reading registries.conf: %w", err)
		}
		alias, _, err := sysregistriesv2.ResolveShortNameAlias(sys, name)
		if err == nil && alias == nil && len(regs) == 0 {
			named, err := ParseReference(name) // docker's default: docker.io
			return []reference.Named{named}, err
		}
	}
	resolved, err := shortnames.Resolve(sys, name)
	if err != nil {
		return nil, fmt.Errorf("resolving short name %q: %w", name, err)
	}
	var out []reference.Named
	for _, c := range resolved.PullCandidates {
		out = append(out, c.Value)
	}
	return out, nil
}

func (s *Store) pullOne(ctx context.Context, named reference.Named, opts PullOptions) (*PullResult, error) {
	sys, err := s.systemContext(registryOf(named), opts.RegistryOptions)
	if err != nil {
		return nil, err
	}
	srcRef, err := docker.NewReference(named)
	if err != nil {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("%s", named))
	}
	destRef, err := istorage.Transport.NewStoreReference(s.cs, named, "")
	if err != nil {
		return nil, err
	}
	policy, err := policyContext(sys)
	if err != nil {
		return nil, err
	}
	defer func() { _ = policy.Destroy() }()

	var before string
	if img, _, err := s.lookupImage(named.String()); err == nil {
		before = img.ID
	}
	progress, interval, progressDone := blobProgress(opts.Blobs)
	copied, err := copy.Image(ctx, policy, destRef, srcRef, &copy.Options{
		SourceCtx:          sys,
		DestinationCtx:     sys,
		ReportWriter:       opts.Progress,
		ImageListSelection: copy.CopySystemImage,
		Progress:           progress,
		ProgressInterval:   interval,
	})
	progressDone()
	if err != nil {
		return nil, classifyRegistryError(opPull, named, err)
	}
	img, err := istorage.Transport.GetStoreImage(s.cs, destRef)
	if err != nil {
		return nil, fmt.Errorf("finding %s after the pull: %w", named, err)
	}
	s.imageEvent(events.ActionPull, reference.FamiliarString(named), reference.FamiliarString(named), nil)
	return &PullResult{Name: named.String(), ID: img.ID, Updated: img.ID != before, Digest: s.toplevelDigest(img, copied)}, nil
}
