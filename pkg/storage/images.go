package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/image"
	mobystorage "github.com/moby/moby/api/types/storage"
	"github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/docker/reference"
	cstorage "go.podman.io/storage"
)

// imageRecord is a stored image with what docker shows of it.
type imageRecord struct {
	img    *cstorage.Image
	config dockerspec.DockerOCIImage
	size   int64
}

// List returns the images as docker's /images/json does, newest first.
func (s *Store) List(ctx context.Context, filters Filters) ([]image.Summary, error) {
	match, err := s.imageFilter(filters)
	if err != nil {
		return nil, err
	}
	records, err := s.records()
	if err != nil {
		return nil, err
	}
	out := []image.Summary{}
	for _, r := range records {
		if !match(r) {
			continue
		}
		out = append(out, r.summary())
	}
	return out, nil
}

// records loads every image with its config, newest first.
func (s *Store) records() ([]*imageRecord, error) {
	imgs, err := s.cs.Images()
	if err != nil {
		return nil, fmt.Errorf("listing images: %w", err)
	}
	out := make([]*imageRecord, 0, len(imgs))
	for i := range imgs {
		r, err := s.record(&imgs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	sortNewestFirst(out)
	return out, nil
}

// lookupRecord finds a local image by name or id and loads its record.
func (s *Store) lookupRecord(name string) (*imageRecord, error) {
	img, _, err := s.lookupImage(name)
	if err != nil {
		return nil, err
	}
	return s.record(img)
}

func (s *Store) record(img *cstorage.Image) (*imageRecord, error) {
	r := &imageRecord{img: img}
	data, err := s.cs.ImageBigData(img.ID, digest.NewDigestFromEncoded(digest.SHA256, img.ID).String())
	if err != nil {
		return nil, fmt.Errorf("reading the config of image %s: %w", shortID(img.ID), err)
	}
	if err := json.Unmarshal(data, &r.config); err != nil {
		return nil, fmt.Errorf("parsing the config of image %s: %w", shortID(img.ID), err)
	}
	r.size, err = s.imageSize(img)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// imageSize is docker's image size: the unpacked size of all its layers.
func (s *Store) imageSize(img *cstorage.Image) (int64, error) {
	var size int64
	for id := img.TopLayer; id != ""; {
		layer, err := s.cs.Layer(id)
		if err != nil {
			return 0, fmt.Errorf("reading layer %s of image %s: %w", shortID(id), shortID(img.ID), err)
		}
		if layer.UncompressedSize > 0 {
			size += layer.UncompressedSize
		}
		id = layer.Parent
	}
	return size, nil
}

// tags are the image's names with a tag, in docker's familiar form,
// sorted as dockerd's reference store sorts them.
func (r *imageRecord) tags() []string {
	out := []string{}
	for _, n := range r.img.Names {
		if named, err := reference.ParseNormalizedNamed(n); err == nil {
			if _, ok := named.(reference.Tagged); ok {
				out = append(out, reference.FamiliarString(named))
			}
		}
	}
	slices.Sort(out)
	return out
}

// repoDigests pairs each repository the image came from with its manifest
// digests: alpine@sha256:….
func (r *imageRecord) repoDigests() []string {
	out := []string{}
	seen := map[string]bool{}
	for _, n := range r.img.Names {
		named, err := reference.ParseNormalizedNamed(n)
		if err != nil {
			continue
		}
		for _, d := range r.img.Digests {
			canonical, err := reference.WithDigest(reference.TrimNamed(named), d)
			if err != nil {
				continue
			}
			s := reference.FamiliarString(canonical)
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return out
}

func (r *imageRecord) created() time.Time {
	if r.config.Created != nil {
		return *r.config.Created
	}
	return r.img.Created
}

func (r *imageRecord) summary() image.Summary {
	labels := r.config.Config.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return image.Summary{
		ID:          "sha256:" + r.img.ID,
		RepoTags:    r.tags(),
		RepoDigests: r.repoDigests(),
		Created:     r.created().Unix(),
		Size:        r.size,
		Labels:      labels,
		// dockerd leaves these uncounted (-1) unless asked, as here.
		Containers: -1,
		SharedSize: -1,
	}
}

// Inspect returns docker's image inspect document for a name or id.
func (s *Store) Inspect(ctx context.Context, name string) (*image.InspectResponse, error) {
	r, err := s.lookupRecord(name)
	if err != nil {
		return nil, err
	}
	img := r.img
	cfg := r.config.Config
	layers := make([]string, 0, len(r.config.RootFS.DiffIDs))
	for _, d := range r.config.RootFS.DiffIDs {
		layers = append(layers, d.String())
	}
	var author, comment string
	author = r.config.Author
	if n := len(r.config.History); n > 0 {
		comment = r.config.History[n-1].Comment
	}
	resp := &image.InspectResponse{
		ID:           "sha256:" + img.ID,
		RepoTags:     r.tags(),
		RepoDigests:  r.repoDigests(),
		Comment:      comment,
		Created:      r.created().UTC().Format(time.RFC3339Nano),
		Author:       author,
		Config:       &cfg,
		Architecture: r.config.Architecture,
		Variant:      r.config.Variant,
		Os:           r.config.OS,
		OsVersion:    r.config.OSVersion,
		Size:         r.size,
		GraphDriver:  &mobystorage.DriverData{Name: s.cs.GraphDriverName(), Data: s.layerPaths(img.TopLayer)},
		RootFS:       image.RootFS{Type: "layers", Layers: layers},
		Metadata:     image.Metadata{LastTagTime: r.img.Created},
	}
	return resp, nil
}

// layerPaths is GraphDriver.Data as docker shows it for overlay2
// (LowerDir, UpperDir, …), where the driver can say.
func (s *Store) layerPaths(top string) map[string]string {
	data := map[string]string{}
	if top == "" {
		return data
	}
	driver, err := s.cs.GraphDriver()
	if err != nil {
		return data
	}
	if meta, err := driver.Metadata(top); err == nil {
		for k, v := range meta {
			data[k] = v
		}
	}
	return data
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// ImageConfig is what the container engine needs of a local image.
type ImageConfig struct {
	ID     string // sha256:…
	Config dockerspec.DockerOCIImage
}

// ResolveImage finds a local image by name or id, for creating a container.
func (s *Store) ResolveImage(name string) (*ImageConfig, error) {
	r, err := s.lookupRecord(name)
	if err != nil {
		return nil, err
	}
	return &ImageConfig{ID: "sha256:" + r.img.ID, Config: r.config}, nil
}
