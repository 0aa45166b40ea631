package storage

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestSpoolLayerErrors(t *testing.T) {
	rootfs := tarOf(t, "etc/", "", "etc/motd", "hello\n")
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not a tar archive: no files in it"},
		{"text", []byte("just some text that is long enough to fill a header? no."), "not a tar archive: archive is truncated (unexpected end of file)"},
		{"truncated", rootfs[:700], "not a tar archive: archive is truncated (unexpected end of file)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := spoolLayer(bytes.NewReader(tc.data), filepath.Join(t.TempDir(), "layer.tar"))
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSpoolLayer(t *testing.T) {
	rootfs := tarOf(t, "etc/", "", "etc/motd", "hello\n")
	want := digest.FromBytes(rootfs)
	for name, in := range map[string][]byte{"plain": rootfs, "gzip": gzipped(t, rootfs)} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "layer.tar")
			d, size, err := spoolLayer(bytes.NewReader(in), path)
			if err != nil {
				t.Fatal(err)
			}
			if d != want || size != int64(len(rootfs)) {
				t.Errorf("diff id %s size %d, want %s %d", d, size, want, len(rootfs))
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, rootfs) {
				t.Error("the spooled layer is not the uncompressed tarball")
			}
		})
	}
}

func TestWriteSingleLayerLayout(t *testing.T) {
	dir := t.TempDir()
	layer := filepath.Join(dir, "layer.tar")
	rootfs := tarOf(t, "etc/motd", "hello\n")
	os.WriteFile(layer, rootfs, 0o600)
	diffID := digest.FromBytes(rootfs)
	cfg := dockerspec.DockerOCIImage{Image: ocispec.Image{RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}}}}
	cfg.Config.Cmd = []string{"/bin/sh"}
	layout := filepath.Join(dir, "layout")
	id, err := writeSingleLayerLayout(layout, cfg, layer, diffID, int64(len(rootfs)))
	if err != nil {
		t.Fatal(err)
	}
	configJSON, err := os.ReadFile(filepath.Join(layout, "blobs", "sha256", id.Encoded()))
	if err != nil || digest.FromBytes(configJSON) != id {
		t.Fatalf("config blob %s: %v", id, err)
	}
	var back dockerspec.DockerOCIImage
	if err := json.Unmarshal(configJSON, &back); err != nil || back.Config.Cmd[0] != "/bin/sh" {
		t.Fatalf("config %s: %v", configJSON, err)
	}
	var index ocispec.Index
	data, _ := os.ReadFile(filepath.Join(layout, "index.json"))
	if err := json.Unmarshal(data, &index); err != nil || len(index.Manifests) != 1 {
		t.Fatalf("index %s: %v", data, err)
	}
	var m ocispec.Manifest
	data, _ = os.ReadFile(filepath.Join(layout, "blobs", "sha256", index.Manifests[0].Digest.Encoded()))
	if err := json.Unmarshal(data, &m); err != nil || m.Config.Digest != id || len(m.Layers) != 1 || m.Layers[0].Digest != diffID || m.Layers[0].MediaType != ocispec.MediaTypeImageLayer {
		t.Fatalf("manifest %s: %v", data, err)
	}
	if _, err := os.Stat(filepath.Join(layout, "blobs", "sha256", diffID.Encoded())); err != nil {
		t.Fatal(err)
	}
}
