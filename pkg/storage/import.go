package storage

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/events"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/pkg/compression"
)

// ImportOptions describe the image Import makes.
type ImportOptions struct {
	// Reference names the image (REPOSITORY[:TAG]); empty leaves it
	// untagged, a dangling image.
	Reference string
	// Changes are Dockerfile instructions applied to the empty config
	// (see ApplyChanges).
	Changes []string
	// Message is the history comment; docker's default is
	// "Imported from <source>".
	Message string
	// Platform is os[/arch[/variant]]; default the host's.
	Platform string
}

// Import makes a one-layer image from a root filesystem tarball (plain or
// compressed), as docker import does. source is "-" to read body, an
// http(s) URL to download, or a file name. It returns the new image id
// (sha256:…).
func (s *Store) Import(ctx context.Context, source string, body io.Reader, opts ImportOptions) (string, error) {
	var named reference.Named
	if opts.Reference != "" {
		n, err := ParseReference(opts.Reference)
		if err != nil {
			return "", err
		}
		if _, ok := n.(reference.Digested); ok {
			return "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid reference %q: an imported image gets a tag, not a digest", opts.Reference))
		}
		named = n
	}
	platform := Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}
	if opts.Platform != "" {
		p, err := ParsePlatform(opts.Platform)
		if err != nil {
			return "", err
		}
		platform = p
	}
	var cfg dockerspec.DockerOCIImageConfig
	if err := ApplyChanges(&cfg, opts.Changes); err != nil {
		return "", err
	}
	message := opts.Message
	if message == "" {
		// docker's CLI sends files as a stream, so they too are "-".
		shown := "-"
		if isURL(source) {
			shown = source
		}
		message = "Imported from " + shown
	}

	in, err := openImportSource(ctx, source, body)
	if err != nil {
		return "", err
	}
	defer in.Close()
	dir, err := s.scratchDir("import-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	layer := filepath.Join(dir, "layer.tar")
	diffID, size, err := spoolLayer(in, layer)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return "", err
		}
		return "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("importing %s: %v", source, err))
	}

	created := time.Now().UTC()
	config := dockerspec.DockerOCIImage{
		Image: ocispec.Image{
			Created:  &created,
			Platform: ocispec.Platform{OS: platform.OS, Architecture: platform.Architecture, Variant: platform.Variant},
			RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}},
			History:  []ocispec.History{{Created: &created, Comment: message}},
		},
		Config: cfg,
	}
	layoutDir := filepath.Join(dir, "layout")
	configID, err := writeSingleLayerLayout(layoutDir, config, layer, diffID, size)
	if err != nil {
		return "", fmt.Errorf("importing %s: %w", source, err)
	}

	if err := s.storeLayout(ctx, layoutDir, named, configID); err != nil {
		return "", fmt.Errorf("importing %s: storing the image: %w", source, err)
	}
	s.imageEvent(events.ActionImport, configID.String(), configID.String(), nil)
	return configID.String(), nil
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// openImportSource opens what Import reads: body for "-", a download for
// a URL, else a local file.
func openImportSource(ctx context.Context, source string, body io.Reader) (io.ReadCloser, error) {
	switch {
	case source == "-":
		if body == nil {
			return nil, errdefs.ErrInvalidArgument.WithMessage("import from - needs the tarball on standard input")
		}
		return io.NopCloser(body), nil
	case isURL(source):
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, source, nil)
		if err != nil {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("importing %s: %v", source, err))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, errdefs.ErrUnavailable.WithMessage(fmt.Sprintf("importing %s: %v", source, err))
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			msg := fmt.Sprintf("importing %s: the server answered %s", source, resp.Status)
			if resp.StatusCode == http.StatusNotFound {
				return nil, errdefs.ErrNotFound.WithMessage(msg)
			}
			return nil, errdefs.ErrUnavailable.WithMessage(msg)
		}
		return resp.Body, nil
	default:
		f, err := os.Open(source)
		if errors.Is(err, os.ErrNotExist) {
			return nil, errdefs.ErrNotFound.WithMessage(fmt.Sprintf("open %s: no such file or directory", source))
		}
		if err != nil {
			return nil, err
		}
		return f, nil
	}
}

// spoolLayer decompresses a root filesystem tarball into path, checking
// that it is a whole tar archive, and returns the layer's diff id and
// size. The layer is kept uncompressed: docker import takes gzip, bzip2,
// xz and zstd, while image layers may only be gzip or zstd.
func spoolLayer(r io.Reader, path string) (digest.Digest, int64, error) {
	stream, _, err := compression.AutoDecompress(r)
	if err != nil {
		return "", 0, err
	}
	defer stream.Close()
	f, err := os.Create(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	digester := digest.Canonical.Digester()
	counter := &countingWriter{}
	tee := io.TeeReader(stream, io.MultiWriter(f, digester.Hash(), counter))
	tr := tar.NewReader(tee)
	entries := 0
	for {
		_, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", 0, fmt.Errorf("not a tar archive: %v", archiveReadError(err))
		}
		entries++
	}
	if entries == 0 {
		return "", 0, errors.New("not a tar archive: no files in it")
	}
	// The end-of-archive blocks and any padding belong to the layer too.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return "", 0, archiveReadError(err)
	}
	if err := f.Close(); err != nil {
		return "", 0, err
	}
	return digester.Digest(), counter.n, nil
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// writeSingleLayerLayout writes an OCI image layout holding one image
// made of config and the uncompressed layer file, and returns the
// config's digest: the image id.
func writeSingleLayerLayout(dir string, config dockerspec.DockerOCIImage, layerFile string, diffID digest.Digest, size int64) (digest.Digest, error) {
	return writeLayout(dir, config, []layoutLayer{{file: layerFile, diffID: diffID, size: size}})
}
