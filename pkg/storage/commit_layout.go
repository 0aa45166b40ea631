package storage

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	imgspecs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/oci/layout"
	istorage "go.podman.io/image/v5/storage"
)

// Import and commit make an image the same way: an OCI image layout in a
// scratch directory, copied into the store by containers/image, which
// computes and records everything the store keeps about an image.

// layoutLayer is one layer of an image written by writeLayout, as an
// uncompressed tar: its blob is the file, or, when file is empty, a
// layer the store already has under that diff id (containers/image
// reuses it without reading a blob).
type layoutLayer struct {
	file   string // the layer's tar file, moved into the layout
	diffID digest.Digest
	size   int64
}

// writeLayout writes an OCI image layout holding one image made of config
// and layers, and returns the config's digest: the image id.
func writeLayout(dir string, config dockerspec.DockerOCIImage, layers []layoutLayer) (digest.Digest, error) {
	configJSON, err := json.Marshal(config)
	if err != nil {
		return "", err
	}
	configID := digest.Canonical.FromBytes(configJSON)
	manifest := ocispec.Manifest{
		Versioned: imgspecs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: configID, Size: int64(len(configJSON))},
		Layers:    []ocispec.Descriptor{},
	}
	for _, l := range layers {
		manifest.Layers = append(manifest.Layers, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: l.diffID, Size: l.size})
	}
	manifestJSON, err := json.Marshal(manifest)
	if err != nil {
		return "", err
	}
	manifestID := digest.Canonical.FromBytes(manifestJSON)
	index := ocispec.Index{
		Versioned: imgspecs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageManifest, Digest: manifestID, Size: int64(len(manifestJSON))}},
	}
	indexJSON, err := json.Marshal(index)
	if err != nil {
		return "", err
	}
	blobs := filepath.Join(dir, "blobs", digest.Canonical.String())
	if err := os.MkdirAll(blobs, 0o700); err != nil {
		return "", err
	}
	for _, l := range layers {
		if l.file == "" {
			continue
		}
		if err := os.Rename(l.file, filepath.Join(blobs, l.diffID.Encoded())); err != nil {
			return "", err
		}
	}
	for name, data := range map[string][]byte{
		filepath.Join(blobs, configID.Encoded()):    configJSON,
		filepath.Join(blobs, manifestID.Encoded()):  manifestJSON,
		filepath.Join(dir, ocispec.ImageIndexFile):  indexJSON,
		filepath.Join(dir, ocispec.ImageLayoutFile): []byte(`{"imageLayoutVersion":"` + ocispec.ImageLayoutVersion + `"}`),
	} {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			return "", err
		}
	}
	return configID, nil
}

// storeLayout copies the image of an OCI layout written by writeLayout
// into the store, named when named is not nil.
func (s *Store) storeLayout(ctx context.Context, dir string, named reference.Named, configID digest.Digest) error {
	sys, policy, err := s.localCopyContext()
	if err != nil {
		return err
	}
	defer func() { _ = policy.Destroy() }()
	src, err := layout.NewIndexReference(dir, 0)
	if err != nil {
		return err
	}
	dest, err := istorage.Transport.NewStoreReference(s.cs, named, configID.Encoded())
	if err != nil {
		return err
	}
	_, err = copy.Image(ctx, policy, dest, src, &copy.Options{SourceCtx: sys, DestinationCtx: sys})
	return err
}
