package storage

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"github.com/containerd/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/events"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/docker/reference"
	cstorage "go.podman.io/storage"
	"go.podman.io/storage/pkg/archive"
)

// CommitOptions describe the image Commit makes.
type CommitOptions struct {
	// Reference names the image (REPOSITORY[:TAG]); empty leaves it
	// untagged.
	Reference string
	// BaseImage is the image the container was made from (an id).
	BaseImage string
	// Layer is the container's read-write layer: its changes become the
	// new image's top layer.
	Layer string
	// Config is the new image's configuration, before Changes.
	Config dockerspec.DockerOCIImageConfig
	// Changes are Dockerfile instructions applied to Config (see
	// ApplyChanges).
	Changes []string
	// Author, Comment and CreatedBy go into the new history entry (and
	// Author into the image's).
	Author, Comment, CreatedBy string
	// Exclude lists changed paths ("/etc/hosts") left out of the new
	// layer: the mount points the runtime made, which docker keeps in a
	// layer of their own and never commits.
	Exclude []string
}

// Commit makes an image of a container, as docker commit does: the base
// image's layers and a new one holding the container's changes, the
// base's history with a new entry, and the given configuration. A
// container without changes adds no layer, only the history entry, marked
// empty. It returns the new image id (sha256:…).
func (s *Store) Commit(ctx context.Context, opts CommitOptions) (string, error) {
	var named reference.Named
	if opts.Reference != "" {
		n, err := ParseReference(opts.Reference)
		if err != nil {
			return "", err
		}
		if _, ok := n.(reference.Digested); ok {
			return "", errdefs.ErrInvalidArgument.WithMessage("cannot commit to digest reference")
		}
		named = n
	}
	base, err := s.lookupRecord(opts.BaseImage)
	if err != nil {
		return "", err
	}
	cfg := opts.Config
	if err := ApplyChanges(&cfg, opts.Changes); err != nil {
		return "", err
	}

	dir, err := s.scratchDir("commit-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	layers, err := s.baseLayers(base, dir)
	if err != nil {
		return "", err
	}
	changes, err := s.cs.Changes("", opts.Layer)
	if err != nil {
		return "", fmt.Errorf("listing the container's changes: %w", err)
	}
	exclude := map[string]bool{}
	for _, p := range opts.Exclude {
		exclude[p] = true
	}
	empty := !slices.ContainsFunc(changes, func(c archive.Change) bool { return !exclude[c.Path] })
	diffIDs := append([]digest.Digest{}, base.config.RootFS.DiffIDs...)
	if !empty {
		l, err := s.spoolDiff(opts.Layer, filepath.Join(dir, "layer.tar"), exclude)
		if err != nil {
			return "", err
		}
		layers = append(layers, l)
		diffIDs = append(diffIDs, l.diffID)
	}

	created := time.Now().UTC()
	config := dockerspec.DockerOCIImage{
		Image: ocispec.Image{
			Created:  &created,
			Author:   opts.Author,
			Platform: base.config.Platform,
			RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: diffIDs},
			History: append(append([]ocispec.History{}, base.config.History...), ocispec.History{
				Created:    &created,
				CreatedBy:  opts.CreatedBy,
				Author:     opts.Author,
				Comment:    opts.Comment,
				EmptyLayer: empty,
			}),
		},
		Config: cfg,
	}
	layoutDir := filepath.Join(dir, "layout")
	configID, err := writeLayout(layoutDir, config, layers)
	if err != nil {
		return "", fmt.Errorf("committing: %w", err)
	}
	if err := s.storeLayout(ctx, layoutDir, named, configID); err != nil {
		return "", fmt.Errorf("committing: storing the image: %w", err)
	}
	if named != nil {
		// docker tags the committed image as `docker tag` would.
		s.imageEvent(events.ActionTag, configID.String(), reference.FamiliarString(named), nil)
	}
	return configID.String(), nil
}

// baseLayers are the layers of the base image, for writeLayout: those the
// store has under their diff ids are reused as they are; any other (a
// layer pulled by parts, say) is written out into dir.
func (s *Store) baseLayers(base *imageRecord, dir string) ([]layoutLayer, error) {
	var chain []string // layer ids, base first
	for id := base.img.TopLayer; id != ""; {
		l, err := s.cs.Layer(id)
		if err != nil {
			return nil, fmt.Errorf("reading layer %s of image %s: %w", shortID(id), shortID(base.img.ID), err)
		}
		chain = append([]string{id}, chain...)
		id = l.Parent
	}
	diffIDs := base.config.RootFS.DiffIDs
	if len(chain) != len(diffIDs) {
		return nil, fmt.Errorf("image %s has %d layers but its config lists %d", shortID(base.img.ID), len(chain), len(diffIDs))
	}
	out := make([]layoutLayer, 0, len(diffIDs))
	for i, diffID := range diffIDs {
		if found, err := s.cs.LayersByUncompressedDigest(diffID); err == nil && len(found) > 0 {
			out = append(out, layoutLayer{diffID: diffID, size: max(found[0].UncompressedSize, 0)})
			continue
		}
		l, err := s.spoolDiff(chain[i], filepath.Join(dir, fmt.Sprintf("base-%d.tar", i)), nil)
		if err != nil {
			return nil, err
		}
		if l.diffID != diffID {
			return nil, fmt.Errorf("layer %s of image %s no longer matches its digest %s", shortID(chain[i]), shortID(base.img.ID), diffID)
		}
		out = append(out, l)
	}
	return out, nil
}

// spoolDiff writes a layer's changes from its parent, uncompressed, to
// path, without the entries for the paths in exclude.
func (s *Store) spoolDiff(layer, path string, exclude map[string]bool) (layoutLayer, error) {
	uncompressed := archive.Uncompressed
	diff, err := s.cs.Diff("", layer, &cstorage.DiffOptions{Compression: &uncompressed})
	if err != nil {
		return layoutLayer{}, fmt.Errorf("reading the changes of layer %s: %w", shortID(layer), err)
	}
	defer diff.Close()
	var stream io.Reader = diff
	if len(exclude) > 0 {
		stream = filterTar(diff, exclude)
	}
	diffID, size, err := spoolLayer(stream, path)
	if err != nil {
		return layoutLayer{}, fmt.Errorf("reading the changes of layer %s: %w", shortID(layer), err)
	}
	return layoutLayer{file: path, diffID: diffID, size: size}, nil
}

// filterTar copies a tar stream without the entries whose path ("/" and
// the entry's name, cleaned) is in exclude.
func filterTar(r io.Reader, exclude map[string]bool) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		tr := tar.NewReader(r)
		tw := tar.NewWriter(pw)
		for {
			hdr, err := tr.Next()
			if errors.Is(err, io.EOF) {
				pw.CloseWithError(tw.Close())
				return
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			if exclude[path.Join("/", hdr.Name)] {
				continue
			}
			if err := tw.WriteHeader(hdr); err != nil {
				pw.CloseWithError(err)
				return
			}
			if _, err := io.Copy(tw, tr); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
	}()
	return pr
}
