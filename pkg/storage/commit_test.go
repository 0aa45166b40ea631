package storage

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// A committed image's layout lists the base image's layers, which the
// store already has and containers/image reuses, without their blobs.
func TestWriteLayoutWithReusedLayers(t *testing.T) {
	dir := t.TempDir()
	base := digest.FromString("base layer")
	newLayer := tarOf(t, "f", "committed\n")
	file := filepath.Join(dir, "layer.tar")
	if err := os.WriteFile(file, newLayer, 0o600); err != nil {
		t.Fatal(err)
	}
	diffID := digest.FromBytes(newLayer)
	cfg := dockerspec.DockerOCIImage{Image: ocispec.Image{RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{base, diffID}}}}
	layout := filepath.Join(dir, "layout")
	id, err := writeLayout(layout, cfg, []layoutLayer{{diffID: base, size: 1234}, {file: file, diffID: diffID, size: int64(len(newLayer))}})
	if err != nil {
		t.Fatal(err)
	}
	var index ocispec.Index
	data, _ := os.ReadFile(filepath.Join(layout, "index.json"))
	if err := json.Unmarshal(data, &index); err != nil || len(index.Manifests) != 1 {
		t.Fatalf("index %s: %v", data, err)
	}
	var m ocispec.Manifest
	data, _ = os.ReadFile(filepath.Join(layout, "blobs", "sha256", index.Manifests[0].Digest.Encoded()))
	if err := json.Unmarshal(data, &m); err != nil || m.Config.Digest != id || len(m.Layers) != 2 {
		t.Fatalf("manifest %s: %v", data, err)
	}
	if m.Layers[0].Digest != base || m.Layers[0].Size != 1234 || m.Layers[1].Digest != diffID {
		t.Errorf("layers %+v", m.Layers)
	}
	if _, err := os.Stat(filepath.Join(layout, "blobs", "sha256", base.Encoded())); !os.IsNotExist(err) {
		t.Errorf("a blob for the reused layer: %v", err)
	}
	if _, err := os.Stat(filepath.Join(layout, "blobs", "sha256", diffID.Encoded())); err != nil {
		t.Errorf("the new layer's blob: %v", err)
	}
}

func TestFilterTar(t *testing.T) {
	in := tarOf(t, "etc/", "", "etc/hosts", "", "etc/motd", "hi\n", "f", "f\n")
	out, err := io.ReadAll(filterTar(bytes.NewReader(in), map[string]bool{"/etc/hosts": true, "/f": true}))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	tr := tar.NewReader(bytes.NewReader(out))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		names = append(names, hdr.Name+"="+string(body))
	}
	if got := strings.Join(names, " "); got != "etc/= etc/motd=hi\n" {
		t.Errorf("kept %q", got)
	}
}
