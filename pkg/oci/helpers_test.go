package oci

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const testID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

const testPasswd = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
alice:x:1000:1000:Alice:/home/alice:/bin/sh
bob:x:1001:1001::/home/bob:/bin/sh
`

const testGroup = `root:x:0:root
daemon:x:1:
tty:x:5:
audio:x:29:alice
alice:x:1000:
bob:x:1001:
staff:x:50:alice,bob
`

// testRootfs is a rootfs with just /etc/passwd and /etc/group.
func testRootfs(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "etc/passwd"), testPasswd)
	writeFile(t, filepath.Join(root, "etc/group"), testGroup)
	return root
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// testInput is a minimal valid input: `sh` in a fake rootfs, volumes made
// under a temporary directory.
func testInput(t *testing.T) SpecInput {
	t.Helper()
	volumes := t.TempDir()
	return SpecInput{
		ID:         testID,
		Rootfs:     testRootfs(t),
		Config:     &container.Config{Cmd: []string{"sh"}},
		HostConfig: &container.HostConfig{},
		Volumes: func(name string) (string, error) {
			dir := filepath.Join(volumes, name, "_data")
			return dir, os.MkdirAll(dir, 0o755)
		},
	}
}

func build(t *testing.T, in SpecInput) *specs.Spec {
	t.Helper()
	s, err := BuildSpec(in)
	if err != nil {
		t.Fatalf("BuildSpec: %v", err)
	}
	return s
}

// apply runs options on an empty spec, as BuildSpec would.
func apply(in SpecInput, opts ...SpecOpt) (*specs.Spec, error) {
	return BuildSpecWith(in, opts...)
}

// checkErr fails unless err matches: wantErr "" means no error, else the
// error must contain it and be an invalid-argument (or not-implemented)
// error, which the API maps to 400 (501).
func checkErr(t *testing.T, err error, wantErr string) {
	t.Helper()
	switch {
	case wantErr == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case wantErr != "" && err == nil:
		t.Fatalf("no error, want %q", wantErr)
	case wantErr != "" && !strings.Contains(err.Error(), wantErr):
		t.Fatalf("error %q, want it to contain %q", err, wantErr)
	case wantErr != "" && !errdefs.IsInvalidArgument(err) && !errdefs.IsNotImplemented(err):
		t.Fatalf("error %q is not classed invalid argument or not implemented", err)
	}
}

func findMount(s *specs.Spec, dst string) (specs.Mount, bool) {
	for _, m := range s.Mounts {
		if m.Destination == dst {
			return m, true
		}
	}
	return specs.Mount{}, false
}

func mustMount(t *testing.T, s *specs.Spec, dst string) specs.Mount {
	t.Helper()
	m, ok := findMount(s, dst)
	if !ok {
		t.Fatalf("no mount on %s in %v", dst, destinations(s))
	}
	return m
}

func destinations(s *specs.Spec) []string {
	var d []string
	for _, m := range s.Mounts {
		d = append(d, m.Destination)
	}
	return d
}

func hasNamespace(s *specs.Spec, typ specs.LinuxNamespaceType) (specs.LinuxNamespace, bool) {
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == typ {
			return ns, true
		}
	}
	return specs.LinuxNamespace{}, false
}

func hasAll(have []string, want ...string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// Every option must be usable alone on the empty spec BuildSpec starts from.
func TestOptionsAlone(t *testing.T) {
	for i, opt := range DefaultSpecOpts() {
		in := testInput(t)
		if _, err := apply(in, opt); err != nil {
			t.Errorf("option %d alone: %v", i, err)
		}
	}
}

func TestBuildSpecInvalidInput(t *testing.T) {
	in := testInput(t)
	in.Config = nil
	_, err := BuildSpec(in)
	checkErr(t, err, "config is missing")

	in = testInput(t)
	in.Rootfs = ""
	_, err = BuildSpec(in)
	checkErr(t, err, "not mounted")

	// A nil HostConfig is an empty one.
	in = testInput(t)
	in.HostConfig = nil
	if _, err := BuildSpec(in); err != nil {
		t.Fatal(err)
	}
}
