package storage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tarOf builds a tar archive of name/content pairs, in order.
func tarOf(t *testing.T, files ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		hdr := &tar.Header{Name: files[i], Mode: 0o644, Size: int64(len(files[i+1])), Typeflag: tar.TypeReg}
		if strings.HasSuffix(files[i], "/") {
			hdr = &tar.Header{Name: files[i], Mode: 0o755, Typeflag: tar.TypeDir}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(files[i+1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

const (
	dockerManifest = `[{"Config":"c.json","RepoTags":["alpine:latest"],"Layers":["l1/layer.tar"]}]`
	blob           = "1111111111111111111111111111111111111111111111111111111111111111"
	ociIndex       = `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + blob + `","size":2}]}`
)

func TestScanArchiveErrors(t *testing.T) {
	docker := tarOf(t, "c.json", "{}", "l1/layer.tar", strings.Repeat("x", 4096), "manifest.json", dockerManifest)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty input", nil, "empty input: not an image archive"},
		{"not a tar", []byte("garbage, not an archive"), "not a tar archive: unexpected EOF"},
		{"truncated member", docker[:1200], "archive is truncated (unexpected end of file)"},
		{"truncated gzip", gzipped(t, docker)[:len(gzipped(t, docker))/2], "archive is truncated (unexpected end of file)"},
		{"neither format", tarOf(t, "etc/passwd", "root:x:0:0"), "neither a docker archive (no manifest.json) nor an OCI archive (no index.json)"},
		{"missing layer", tarOf(t, "c.json", "{}", "manifest.json", dockerManifest), "archive is incomplete: l1/layer.tar, listed in manifest.json, is missing"},
		{"damaged manifest", tarOf(t, "manifest.json", "[{"), "manifest.json is damaged: unexpected end of JSON input"},
		{"missing OCI manifest", tarOf(t, "oci-layout", "{}", "index.json", ociIndex), "archive is incomplete: blobs/sha256/" + blob + ", listed in index.json, is missing"},
		{"bad OCI digest", tarOf(t, "index.json", `{"manifests":[{"digest":"sha256:xyz"}]}`), "index.json is damaged: invalid checksum digest length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scan, err := scanArchive(bytes.NewReader(tc.data))
			if err == nil {
				t.Fatalf("no error, format %q", scan.format)
			}
			if err.Error() != tc.want {
				t.Errorf("error %q, want %q", err, tc.want)
			}
		})
	}
}

func TestScanArchive(t *testing.T) {
	docker := tarOf(t, "c.json", "{}", "l1/", "", "l1/layer.tar", "layer", "manifest.json", dockerManifest)
	oci := tarOf(t, "oci-layout", "{}", "blobs/sha256/"+blob, "{}", "index.json", ociIndex)
	both := tarOf(t, "c.json", "{}", "l1/layer.tar", "layer", "index.json", ociIndex, "manifest.json", dockerManifest)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"docker", docker, FormatDockerArchive},
		{"docker, gzip", gzipped(t, docker), FormatDockerArchive},
		{"oci", oci, FormatOCIArchive},
		{"docker 25 writes both: read as docker", both, FormatDockerArchive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scan, err := scanArchive(bytes.NewReader(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if scan.format != tc.want {
				t.Errorf("format %q, want %q", scan.format, tc.want)
			}
		})
	}
}

func TestExtractLayoutStaysInside(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	data := tarOf(t, "index.json", "{}", "../escape", "x", "blobs/sha256/"+blob, "{}")
	root, err := extractLayout(bytes.NewReader(data), dir)
	if err == nil {
		root.Close()
		t.Fatal("an entry outside the directory was accepted")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "escape")); err == nil {
		t.Fatal("../escape was written")
	}
	dir2 := filepath.Join(t.TempDir(), "layout")
	root, err = extractLayout(bytes.NewReader(gzipped(t, tarOf(t, "index.json", "{}", "blobs/sha256/"+blob, "{}"))), dir2)
	if err != nil {
		t.Fatal(err)
	}
	root.Close()
	if _, err := os.Stat(filepath.Join(dir2, "blobs", "sha256", blob)); err != nil {
		t.Fatal(err)
	}
}

func TestTarDirectoryRoundTrip(t *testing.T) {
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "blobs", "sha256"), 0o755)
	os.WriteFile(filepath.Join(src, "index.json"), []byte(ociIndex), 0o644)
	os.WriteFile(filepath.Join(src, "blobs", "sha256", blob), []byte("{}"), 0o644)
	var buf bytes.Buffer
	if err := tarDirectory(src, &buf); err != nil {
		t.Fatal(err)
	}
	scan, err := scanArchive(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if scan.format != FormatOCIArchive || !scan.files["blobs/sha256/"+blob] {
		t.Errorf("scan %+v", scan)
	}
}
