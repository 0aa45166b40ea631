package engine

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.podman.io/storage/pkg/archive"
)

// containerArchive is what the archive API sends for a path of a
// container whose files are under root: entries named after the path's
// last element (what containerFS.tar makes, without the chroot).
func containerArchive(t *testing.T, root, path string) (*bytes.Buffer, archive.CopyInfo) {
	t.Helper()
	host := archive.PreserveTrailingDotOrSeparator(filepath.Join(root, path), path)
	fi, err := os.Stat(host)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := archive.TarResourceRebase(host, filepath.Base(path))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(rc); err != nil {
		t.Fatal(err)
	}
	return &buf, archive.CopyInfo{Path: path, Exists: true, IsDir: fi.IsDir()}
}

// The rules of `docker cp CONTAINER:SRC DEST`, on the local side.
func TestCopyOutPathRules(t *testing.T) {
	tests := []struct {
		name     string
		src      string // in the container
		dst      string // relative to a scratch directory holding file "existing" and directory "dir"
		wantErr  error
		wantFile string // a file that must then exist, relative to the scratch directory
	}{
		{name: "file to a missing directory", src: "/etc/passwd", dst: "missing/", wantErr: archive.ErrDirNotExists},
		{name: "directory over a file", src: "/etc", dst: "existing", wantErr: archive.ErrCannotCopyDir},
		{name: "file to a new name", src: "/etc/passwd", dst: "copy", wantFile: "copy"},
		{name: "file over a file", src: "/etc/passwd", dst: "existing", wantFile: "existing"},
		{name: "file into a directory", src: "/etc/passwd", dst: "dir", wantFile: "dir/passwd"},
		{name: "file into a directory, trailing slash", src: "/etc/passwd", dst: "dir/", wantFile: "dir/passwd"},
		{name: "directory to a new name", src: "/data", dst: "new", wantFile: "new/sub/f"},
		{name: "directory into a directory", src: "/data", dst: "dir", wantFile: "dir/data/sub/f"},
		{name: "directory's contents into a directory", src: "/data/.", dst: "dir", wantFile: "dir/sub/f"},
	}
	root := fakeRootfs(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			scratch := t.TempDir()
			os.WriteFile(filepath.Join(scratch, "existing"), []byte("old\n"), 0o644)
			os.Mkdir(filepath.Join(scratch, "dir"), 0o755)
			content, srcInfo := containerArchive(t, root, tc.src)
			dst := filepath.Join(scratch, tc.dst)
			if strings.HasSuffix(tc.dst, "/") {
				dst += "/"
			}
			err := extractLocally(content, srcInfo, dst)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("got %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(scratch, tc.wantFile)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// What a container sends cannot write outside the destination, even
// through a symlink it sends first.
func TestCopyOutStaysInDestination(t *testing.T) {
	outside := t.TempDir()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "d/escape", Typeflag: tar.TypeSymlink, Linkname: outside})
	tw.WriteHeader(&tar.Header{Name: "d/escape/evil", Typeflag: tar.TypeReg, Mode: 0o644, Size: 5})
	tw.Write([]byte("evil\n"))
	tw.Close()
	dst := filepath.Join(t.TempDir(), "d")
	err := extractLocally(&buf, archive.CopyInfo{Path: "/d", Exists: true, IsDir: true}, dst)
	if _, serr := os.Stat(filepath.Join(outside, "evil")); serr == nil {
		t.Fatalf("the archive wrote outside the destination (extract error: %v)", err)
	}
}

func TestValidateOutputPath(t *testing.T) {
	dir := t.TempDir()
	if err := ValidateOutputPath(filepath.Join(dir, "missing", "out.tar")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing directory: %v", err)
	}
	for _, ok := range []string{filepath.Join(dir, "new.tar"), dir, "-"} {
		if err := ValidateOutputPath(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	if err := ValidateOutputPath("/dev/null"); err == nil || !strings.Contains(err.Error(), "got a device") {
		t.Errorf("a device: %v", err)
	}
}

func TestCopySummary(t *testing.T) {
	if got := copySummary(2048, 2048, "/tmp/x"); got != "Successfully copied 2.05kB to /tmp/x\n" {
		t.Errorf("got %q", got)
	}
	if got := copySummary(3, 2048, "c:/x"); got != "Successfully copied 3B (transferred 2.05kB) to c:/x\n" {
		t.Errorf("got %q", got)
	}
}
