package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"path"
	"slices"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	imgspecv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/oci/layout"
)

// fakeBusybox stands in for the host's busybox: the tests check structure
// and determinism, not what the binary does.
func fakeBusybox() busybox {
	return busybox{binary: bytes.Repeat([]byte("busybox\n"), 64), applets: []string{"cat", "ls", "sh"}}
}

func TestImagesAreDeterministic(t *testing.T) {
	for _, def := range imageDefs {
		t.Run(def.repo, func(t *testing.T) {
			if def.repo == "rrun-test/big" && testing.Short() {
				t.Skip("big image skipped in -short mode")
			}
			first, err := def.build(&builder{bb: fakeBusybox()})
			if errors.Is(err, errHostProgramMissing) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			second, err := def.build(&builder{bb: fakeBusybox()})
			if err != nil {
				t.Fatal(err)
			}
			if first.top.digest != second.top.digest {
				t.Errorf("two builds differ: %s and %s", first.top.digest, second.top.digest)
			}
		})
	}
}

func TestAlpineSharesBaseLayerWithBusybox(t *testing.T) {
	b := &builder{bb: fakeBusybox()}
	bbImg := mustManifest(t, b.busyboxImage)
	alpine := mustManifest(t, b.alpineImage)

	if len(bbImg.Layers) != 1 || len(alpine.Layers) != 2 {
		t.Fatalf("busybox has %d layers, alpine %d; want 1 and 2", len(bbImg.Layers), len(alpine.Layers))
	}
	if bbImg.Layers[0].Digest != alpine.Layers[0].Digest {
		t.Errorf("base layers differ: %s and %s", bbImg.Layers[0].Digest, alpine.Layers[0].Digest)
	}
	if bbImg.Config.Digest == alpine.Config.Digest {
		t.Errorf("busybox and alpine have the same config %s", bbImg.Config.Digest)
	}
}

func mustManifest(t *testing.T, build func() (artifact, error)) imgspecv1.Manifest {
	t.Helper()
	art, err := build()
	if err != nil {
		t.Fatal(err)
	}
	var m imgspecv1.Manifest
	if err := json.Unmarshal(art.top.data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// wantHeader is what a test expects of one tar entry.
type wantHeader struct {
	typeflag byte
	uid, gid int
	mode     int64
	linkname string
}

func TestOwnersLayerHeaders(t *testing.T) {
	headers := layerHeaders(t, ownersLayer(fakeBusybox()))
	want := map[string]wantHeader{
		"data/root-file":       {tar.TypeReg, 0, 0, 0o644, ""},
		"data/user-file":       {tar.TypeReg, 1000, 1000, 0o640, ""},
		"data/nobody-file":     {tar.TypeReg, 65534, 65534, 0o600, ""},
		"data/dir-1000/":       {tar.TypeDir, 1000, 1000, 0o750, ""},
		"data/dir-1000/file":   {tar.TypeReg, 1000, 1000, 0o644, ""},
		"usr/bin/suid-busybox": {tar.TypeReg, 0, 0, 0o4755, ""},
		"usr/bin/sgid-file":    {tar.TypeReg, 0, 1000, 0o2755, ""},
		"data/link":            {tar.TypeSymlink, 0, 0, 0o777, "root-file"},
		"data/abs-link":        {tar.TypeSymlink, 0, 0, 0o777, "/etc/passwd"},
		"data/hardlink":        {tar.TypeLink, 0, 0, 0o644, "data/root-file"},
		"data/xattr-file":      {tar.TypeReg, 0, 0, 0o644, ""},
		"data/to-delete":       {tar.TypeReg, 0, 0, 0o644, ""},
		"data/opaque-dir/a":    {tar.TypeReg, 0, 0, 0o644, ""},
		"data/opaque-dir/b":    {tar.TypeReg, 0, 0, 0o644, ""},
	}
	for name, w := range want {
		h, ok := headers[name]
		if !ok {
			t.Errorf("%s: missing", name)
			continue
		}
		got := wantHeader{h.Typeflag, h.Uid, h.Gid, h.Mode, h.Linkname}
		if got != w {
			t.Errorf("%s: got %+v, want %+v", name, got, w)
		}
		if !h.ModTime.Equal(epoch) {
			t.Errorf("%s: mtime %v, want %v", name, h.ModTime, epoch)
		}
	}
	if v := headers["data/xattr-file"].PAXRecords["SCHILY.xattr.user.rrun"]; v != "test" {
		t.Errorf("data/xattr-file: xattr user.rrun = %q, want %q", v, "test")
	}
}

func TestOwnersWhiteoutLayer(t *testing.T) {
	headers := layerHeaders(t, ownersWhiteoutLayer())
	for _, name := range []string{"data/.wh.to-delete", "data/opaque-dir/.wh..wh..opq", "data/opaque-dir/c"} {
		if _, ok := headers[name]; !ok {
			t.Errorf("%s: missing", name)
		}
	}
}

// layerHeaders builds l and reads the headers back from the compressed blob,
// checking the diff ID on the way.
func layerHeaders(t *testing.T, l *layer) map[string]*tar.Header {
	t.Helper()
	built, err := l.build()
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(built.data))
	if err != nil {
		t.Fatal(err)
	}
	verifier := built.diffID.Verifier()
	tr := tar.NewReader(io.TeeReader(zr, verifier))
	headers := map[string]*tar.Header{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		headers[h.Name] = h
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		t.Fatal(err)
	}
	if !verifier.Verified() {
		t.Errorf("uncompressed layer does not match diff ID %s", built.diffID)
	}
	return headers
}

// TestLayoutCopiesUnchanged copies the multi-platform image out of its OCI
// layout with the same options as a push, into another layout, and checks
// that containers/image keeps the index digest: the up-to-date check
// compares exactly that with the registry.
func TestLayoutCopiesUnchanged(t *testing.T) {
	art, err := (&builder{bb: fakeBusybox()}).multiarchImage()
	if err != nil {
		t.Fatal(err)
	}
	workDir := t.TempDir()
	srcDir, destDir := workDir+"/src", workDir+"/dest"
	if err := art.writeLayout(srcDir); err != nil {
		t.Fatal(err)
	}
	p, err := newPusher("unused.invalid", workDir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	src, err := layout.NewReference(srcDir, layoutRefName)
	if err != nil {
		t.Fatal(err)
	}
	dest, err := layout.NewReference(destDir, "copy")
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := copy.Image(context.Background(), p.policy, dest, src, &copy.Options{
		SourceCtx:          p.sys,
		DestinationCtx:     p.sys,
		ImageListSelection: copy.CopyAllImages,
		PreserveDigests:    true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := digest.FromBytes(manifest); got != art.top.digest {
		t.Errorf("copied index is %s, built %s", got, art.top.digest)
	}
}

// TestSharedLibraries resolves the libraries of the host's ls, which
// coreutils links dynamically on every Debian system: libc, the loader at
// its PT_INTERP path, and libpcre2-8, which only libselinux needs, so the
// search is recursive.
func TestSharedLibraries(t *testing.T) {
	libs, err := sharedLibraries("/bin/ls")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6",
		"/lib/x86_64-linux-gnu/libselinux.so.1", "/lib/x86_64-linux-gnu/libpcre2-8.so.0"} {
		if !slices.Contains(libs, want) {
			t.Errorf("%s missing from %q", want, libs)
		}
	}
	if !slices.IsSorted(libs) {
		t.Errorf("not sorted: %q", libs)
	}
	if _, err := sharedLibraries("/bin/busybox"); err == nil {
		t.Errorf("static busybox: no error")
	}
}

// TestIperf3Layer checks the iperf3 layer: the binary on PATH, the loader
// at its path, libc, root-owned files with the host's modes, directories
// before what they contain. Skipped where iperf3 is not installed.
func TestIperf3Layer(t *testing.T) {
	l, err := hostProgramLayer("test", iperf3Path, "iperf3")
	if errors.Is(err, errHostProgramMissing) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	headers := layerHeaders(t, l)
	want := map[string]wantHeader{
		"usr/":                                {tar.TypeDir, 0, 0, 0o755, ""},
		"usr/bin/":                            {tar.TypeDir, 0, 0, 0o755, ""},
		"usr/bin/iperf3":                      {tar.TypeReg, 0, 0, 0o755, ""},
		"lib64/ld-linux-x86-64.so.2":          {tar.TypeReg, 0, 0, 0o755, ""},
		"lib/x86_64-linux-gnu/libc.so.6":      {tar.TypeReg, 0, 0, 0o755, ""},
		"lib/x86_64-linux-gnu/libiperf.so.0":  {tar.TypeReg, 0, 0, 0o644, ""},
		"lib/x86_64-linux-gnu/libcrypto.so.3": {tar.TypeReg, 0, 0, 0o644, ""},
		"lib/x86_64-linux-gnu/":               {tar.TypeDir, 0, 0, 0o755, ""},
	}
	for name, w := range want {
		h, ok := headers[name]
		if !ok {
			t.Errorf("%s: missing", name)
			continue
		}
		if got := (wantHeader{h.Typeflag, h.Uid, h.Gid, h.Mode, h.Linkname}); got != w {
			t.Errorf("%s: got %+v, want %+v", name, got, w)
		}
	}
	seen := map[string]bool{}
	for _, e := range l.entries {
		if dir := path.Dir(strings.TrimSuffix(e.hdr.Name, "/")); dir != "." && !seen[dir+"/"] {
			t.Errorf("%s comes before its directory", e.hdr.Name)
		}
		seen[e.hdr.Name] = true
	}
}
