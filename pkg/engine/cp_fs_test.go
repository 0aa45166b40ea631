package engine

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeRootfs is a container root filesystem with the traps cp must not
// fall into: absolute and relative symlinks that would leave it if they
// were followed on the host.
func fakeRootfs(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "rootfs")
	for _, d := range []string{"etc", "data/sub", "vol"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{"etc/passwd": "root:x:0:0:container\n", "data/sub/f": "f\n"}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"abs-etc":   "/etc",                  // absolute: the container's /etc
		"up-etc":    "../../../../../../etc", // climbs above the root
		"data/link": "sub",                   // relative, inside
		"passwd":    "/etc/passwd",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestResolvePathStaysInside(t *testing.T) {
	root := fakeRootfs(t)
	fs := &containerFS{root: root}
	tests := []struct {
		path, want string // want is relative to root
	}{
		// The last element is not followed, unless the path ends in / or /.
		{"/abs-etc", "abs-etc"},
		{"/abs-etc/", "etc/"},
		{"/abs-etc/.", "etc/."},
		{"/abs-etc/passwd", "etc/passwd"},
		{"/up-etc/passwd", "etc/passwd"},
		{"../../../etc/passwd", "etc/passwd"},
		{"data/link/f", "data/sub/f"},
		{"/", "/"},
	}
	for _, tc := range tests {
		rp, err := fs.resolvePath(tc.path)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		want := root + "/" + strings.TrimPrefix(tc.want, "/")
		if tc.want == "/" {
			want = root + "/"
		}
		if rp.host != want {
			t.Errorf("%s resolved to %s, want %s", tc.path, rp.host, want)
		}
		if !strings.HasPrefix(rp.host, root) {
			t.Errorf("%s left the root: %s", tc.path, rp.host)
		}
	}
}

func TestStatFollowsSymlinksInside(t *testing.T) {
	root := fakeRootfs(t)
	fs := &containerFS{root: root}
	for path, target := range map[string]string{"/passwd": "/etc/passwd", "/up-etc": "/etc", "/abs-etc": "/etc"} {
		rp, err := fs.resolvePath(path)
		if err != nil {
			t.Fatal(err)
		}
		st, err := fs.stat(rp)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if st.Mode&os.ModeSymlink == 0 || st.LinkTarget != target || st.Name != filepath.Base(path) {
			t.Errorf("%s: mode %v target %q name %q, want a symlink to %s", path, st.Mode, st.LinkTarget, st.Name, target)
		}
	}
	rp, _ := fs.resolvePath("/abs-etc/passwd")
	if st, err := fs.stat(rp); err != nil || st.Size != int64(len("root:x:0:0:container\n")) {
		t.Errorf("the container's passwd through a symlink: %+v %v", st, err)
	}
	rp, _ = fs.resolvePath("/nope")
	if _, err := fs.stat(rp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing path: %v", err)
	}
}

func TestResolveFully(t *testing.T) {
	root := fakeRootfs(t)
	fs := &containerFS{root: root}
	for path, want := range map[string]string{"/abs-etc": "etc", "/up-etc": "etc", "/data/link": "data/sub", "/../..": ""} {
		v, got, err := fs.resolveFully(path)
		if err != nil {
			t.Fatal(err)
		}
		if got != filepath.Join(root, want) || v.containerPath(got) != "/"+want {
			t.Errorf("%s: %s (%s), want %s", path, got, v.containerPath(got), want)
		}
	}
}

// Volumes, binds and /etc files are resolved by prefix, each in its own
// directory, which symlinks do not leave either.
func TestViewOfMounts(t *testing.T) {
	root := fakeRootfs(t)
	vol := t.TempDir()
	if err := os.Symlink("/", filepath.Join(vol, "top")); err != nil {
		t.Fatal(err)
	}
	files := t.TempDir()
	hosts := filepath.Join(files, "hosts-file")
	fs := &containerFS{root: root, mounts: []fsMount{
		{target: "/etc/hosts", source: hosts, file: true},
		{target: "/vol/inner"}, // a tmpfs: not seen, what is below it is
		{target: "/vol", source: vol, volume: true},
	}}
	tests := []struct{ path, root, rel string }{
		{"/vol", vol, "/"},
		{"/vol/x/y", vol, "/x/y"},
		{"/vol/inner/z", vol, "/inner/z"},
		{"/volume", root, "/volume"},
		{"/etc/hosts", files, "/hosts-file"},
		{"/etc/hosts/x", root, "/etc/hosts/x"},
		{"/etc", root, "/etc"},
	}
	for _, tc := range tests {
		v, rel := fs.view(tc.path)
		if v.root != tc.root || rel != tc.rel {
			t.Errorf("%s: view %s rel %s, want %s %s", tc.path, v.root, rel, tc.root, tc.rel)
		}
	}
	v, got, err := fs.resolveFully("/vol/top/etc")
	if err != nil || got != filepath.Join(vol, "etc") || v.containerPath(got) != "/vol/etc" {
		t.Errorf("a volume's symlink to / resolved to %s (%s): %v", got, v.containerPath(got), err)
	}
	for path, want := range map[string]string{"/vol/x": "/vol", "/vol/inner/x": "/vol", "/volume": "", "/etc": ""} {
		if m, _ := fs.volumeAt(path); m.target != want {
			t.Errorf("volumeAt %s: %q, want %q", path, m.target, want)
		}
	}
}

func TestSymlinkTar(t *testing.T) {
	root := fakeRootfs(t)
	fs := &containerFS{root: root}
	rp, err := fs.resolvePath("/passwd")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := fs.tar(rp)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(rc)
	hdr, err := tr.Next()
	if err != nil || hdr.Name != "passwd" || hdr.Typeflag != tar.TypeSymlink || hdr.Linkname != "/etc/passwd" {
		t.Fatalf("entry %+v: %v", hdr, err)
	}
	if _, err := tr.Next(); err != io.EOF {
		t.Fatalf("more than one entry: %v", err)
	}
}

func TestChrootError(t *testing.T) {
	if chrootError(nil) != nil {
		t.Fatal("nil became an error")
	}
	plain := errors.New("exit status 1")
	if chrootError(plain) != plain {
		t.Error("an error without the helper's output changed")
	}
	err := errors.New(`unpacking failed (error: exit status 1; output: cannot overwrite directory "/x" with non-directory "/x")`)
	if got := chrootError(err).Error(); got != `cannot overwrite directory "/x" with non-directory "/x"` {
		t.Errorf("got %q", got)
	}
}
