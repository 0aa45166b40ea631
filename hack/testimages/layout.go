package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	digest "github.com/opencontainers/go-digest"
	imgspecs "github.com/opencontainers/image-spec/specs-go"
	imgspecv1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// epoch is the timestamp of every file, config and history entry, so that
// rebuilding an image gives the same bytes and therefore the same digests.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// gzipLevel is fixed: a different level would change every layer digest.
// BestSpeed keeps the ~50 MB of incompressible data in the big image cheap to
// rebuild, which happens on every run to compare digests with the registry.
const gzipLevel = gzip.BestSpeed

// layoutRefName is the only reference name in the OCI layouts written for
// pushing; the registry tag is chosen at push time.
const layoutRefName = "image"

// entry is one member of a layer's tar stream.
type entry struct {
	hdr  tar.Header
	body []byte
}

// layer is an ordered list of tar entries. The order is kept as written,
// not sorted by name: a hard link must follow its target, and the evil image
// depends on a symlink coming before a path that goes through it.
type layer struct {
	createdBy string // history text of the config
	entries   []entry
}

func newLayer(createdBy string) *layer {
	return &layer{createdBy: createdBy}
}

// add appends an entry, filling in the fields every entry shares.
func (l *layer) add(hdr tar.Header, body []byte) {
	hdr.ModTime = epoch
	hdr.Size = int64(len(body))
	l.entries = append(l.entries, entry{hdr: hdr, body: body})
}

func (l *layer) dir(name string, mode int64, uid, gid int) {
	l.add(tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, Uid: uid, Gid: gid}, nil)
}

func (l *layer) file(name string, mode int64, uid, gid int, body []byte) {
	l.add(tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Uid: uid, Gid: gid}, body)
}

func (l *layer) symlink(name, target string) {
	l.add(tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}, nil)
}

// hardlink adds name as a hard link to target; both are paths inside the
// layer, as tar records them.
func (l *layer) hardlink(name, target string) {
	l.add(tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, Mode: 0o644}, nil)
}

// xattrFile adds a root-owned file with one extended attribute, recorded
// the way GNU tar and containers/storage do: a SCHILY.xattr PAX record.
func (l *layer) xattrFile(name, attr, value string, body []byte) {
	l.add(tar.Header{
		Typeflag:   tar.TypeReg,
		Name:       name,
		Mode:       0o644,
		PAXRecords: map[string]string{"SCHILY.xattr." + attr: value},
		Format:     tar.FormatPAX,
	}, body)
}

// whiteout hides name of the lower layers (OCI image spec, "Whiteouts").
func (l *layer) whiteout(dir, name string) {
	l.file(dir+"/.wh."+name, 0o644, 0, 0, nil)
}

// opaque hides everything the lower layers have in dir.
func (l *layer) opaque(dir string) {
	l.file(dir+"/.wh..wh..opq", 0o644, 0, 0, nil)
}

// blob is a content-addressed byte string of an image.
type blob struct {
	mediaType string
	data      []byte
	digest    digest.Digest
}

func newBlob(mediaType string, data []byte) blob {
	return blob{mediaType: mediaType, data: data, digest: digest.FromBytes(data)}
}

func jsonBlob(mediaType string, v any) (blob, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return blob{}, fmt.Errorf("encoding %s: %w", mediaType, err)
	}
	return newBlob(mediaType, data), nil
}

func (b blob) descriptor() imgspecv1.Descriptor {
	return imgspecv1.Descriptor{MediaType: b.mediaType, Digest: b.digest, Size: int64(len(b.data))}
}

// builtLayer is a compressed layer blob together with what an image config
// needs to reference it.
type builtLayer struct {
	blob
	diffID    digest.Digest // digest of the uncompressed tar
	createdBy string
}

// build serialises the layer as tar.gz. gzip's header carries no name and a
// zero mtime, so the output depends on the entries only.
func (l *layer) build() (builtLayer, error) {
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	for _, e := range l.entries {
		hdr := e.hdr
		if err := tw.WriteHeader(&hdr); err != nil {
			return builtLayer{}, fmt.Errorf("layer %q: tar header for %s: %w", l.createdBy, hdr.Name, err)
		}
		if _, err := tw.Write(e.body); err != nil {
			return builtLayer{}, fmt.Errorf("layer %q: tar data for %s: %w", l.createdBy, hdr.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return builtLayer{}, fmt.Errorf("layer %q: closing tar: %w", l.createdBy, err)
	}

	var gzBuf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gzBuf, gzipLevel)
	if err != nil {
		return builtLayer{}, fmt.Errorf("layer %q: %w", l.createdBy, err)
	}
	if _, err := zw.Write(tarBuf.Bytes()); err != nil {
		return builtLayer{}, fmt.Errorf("layer %q: compressing: %w", l.createdBy, err)
	}
	if err := zw.Close(); err != nil {
		return builtLayer{}, fmt.Errorf("layer %q: compressing: %w", l.createdBy, err)
	}
	return builtLayer{
		blob:      newBlob(imgspecv1.MediaTypeImageLayerGzip, gzBuf.Bytes()),
		diffID:    digest.FromBytes(tarBuf.Bytes()),
		createdBy: l.createdBy,
	}, nil
}

// imageConfig is what varies between the test images' configs.
type imageConfig struct {
	arch   string
	cmd    []string
	labels map[string]string
}

// defaultPath is the usual PATH of distribution images.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// artifact is what is pushed under a tag: a manifest or an index (top) and
// every blob it references, directly or through child manifests.
type artifact struct {
	top      blob
	blobs    []blob
	platform *imgspecv1.Platform // set for single images, used when they go into an index
}

// buildImage assembles config and manifest of a single-platform image.
func buildImage(cfg imageConfig, layers []builtLayer) (artifact, error) {
	created := epoch
	config := imgspecv1.Image{
		Created:  &created,
		Platform: imgspecv1.Platform{Architecture: cfg.arch, OS: "linux"},
		Config: imgspecv1.ImageConfig{
			Env:    []string{defaultPath},
			Cmd:    cfg.cmd,
			Labels: cfg.labels,
		},
		RootFS: imgspecv1.RootFS{Type: "layers"},
	}
	for _, l := range layers {
		config.RootFS.DiffIDs = append(config.RootFS.DiffIDs, l.diffID)
		config.History = append(config.History, imgspecv1.History{Created: &created, CreatedBy: l.createdBy})
	}
	configBlob, err := jsonBlob(imgspecv1.MediaTypeImageConfig, config)
	if err != nil {
		return artifact{}, err
	}

	mf := imgspecv1.Manifest{
		Versioned: imgspecs.Versioned{SchemaVersion: 2},
		MediaType: imgspecv1.MediaTypeImageManifest,
		Config:    configBlob.descriptor(),
	}
	blobs := []blob{configBlob}
	for _, l := range layers {
		mf.Layers = append(mf.Layers, l.descriptor())
		blobs = append(blobs, l.blob)
	}
	mfBlob, err := jsonBlob(imgspecv1.MediaTypeImageManifest, mf)
	if err != nil {
		return artifact{}, err
	}
	return artifact{top: mfBlob, blobs: blobs, platform: &config.Platform}, nil
}

// buildIndex combines single-platform images into an image index.
func buildIndex(images ...artifact) (artifact, error) {
	idx := imgspecv1.Index{
		Versioned: imgspecs.Versioned{SchemaVersion: 2},
		MediaType: imgspecv1.MediaTypeImageIndex,
	}
	var blobs []blob
	for _, img := range images {
		if img.platform == nil {
			return artifact{}, fmt.Errorf("index member %s has no platform", img.top.digest)
		}
		d := img.top.descriptor()
		d.Platform = img.platform
		idx.Manifests = append(idx.Manifests, d)
		blobs = append(blobs, img.top)
		blobs = append(blobs, img.blobs...)
	}
	idxBlob, err := jsonBlob(imgspecv1.MediaTypeImageIndex, idx)
	if err != nil {
		return artifact{}, err
	}
	return artifact{top: idxBlob, blobs: blobs}, nil
}

// writeLayout writes the artifact as an OCI image layout in dir, with the
// top manifest or index named layoutRefName.
func (a artifact) writeLayout(dir string) error {
	blobDir := filepath.Join(dir, imgspecv1.ImageBlobsDir, "sha256")
	if err := os.MkdirAll(blobDir, 0o755); err != nil {
		return fmt.Errorf("creating OCI layout: %w", err)
	}
	for _, b := range append([]blob{a.top}, a.blobs...) {
		// Blobs shared by several manifests are listed more than once.
		path := filepath.Join(blobDir, b.digest.Encoded())
		if _, err := os.Stat(path); err == nil {
			continue
		}
		if err := os.WriteFile(path, b.data, 0o644); err != nil {
			return fmt.Errorf("writing blob %s: %w", b.digest, err)
		}
	}

	desc := a.top.descriptor()
	desc.Annotations = map[string]string{imgspecv1.AnnotationRefName: layoutRefName}
	index := imgspecv1.Index{
		Versioned: imgspecs.Versioned{SchemaVersion: 2},
		MediaType: imgspecv1.MediaTypeImageIndex,
		Manifests: []imgspecv1.Descriptor{desc},
	}
	if err := writeJSON(filepath.Join(dir, imgspecv1.ImageIndexFile), index); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dir, imgspecv1.ImageLayoutFile),
		imgspecv1.ImageLayout{Version: imgspecv1.ImageLayoutVersion})
}

func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
