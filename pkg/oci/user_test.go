package oci

import (
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestResolveUser(t *testing.T) {
	tests := []struct {
		name     string
		user     string
		groupAdd []string
		want     specs.User
		wantErr  string
	}{
		{name: "unknown name", user: "mallory", wantErr: "unable to find user mallory: no matching entries in passwd file"},
		{name: "unknown group", user: "alice:nogroup", wantErr: "unable to find group nogroup: no matching entries in group file"},
		{name: "unknown added group", user: "alice", groupAdd: []string{"nogroup"}, wantErr: "unable to find group nogroup"},
		{name: "bad uid", user: "-1", wantErr: "uids and gids must be in range"},
		{name: "default is root", user: "", want: specs.User{UID: 0, GID: 0, AdditionalGids: []uint32{0}}},
		{name: "name with its groups", user: "alice", want: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000, 29, 50}}},
		{name: "uid of a known user", user: "1001", want: specs.User{UID: 1001, GID: 1001, AdditionalGids: []uint32{1001, 50}}},
		{name: "uid without an entry", user: "4242", want: specs.User{UID: 4242, GID: 0, AdditionalGids: []uint32{0}}},
		{name: "name:group", user: "alice:staff", want: specs.User{UID: 1000, GID: 50, AdditionalGids: []uint32{50}}},
		{name: "uid:gid without entries", user: "4242:4343", want: specs.User{UID: 4242, GID: 4343, AdditionalGids: []uint32{4343}}},
		{name: "name:gid", user: "bob:5", want: specs.User{UID: 1001, GID: 5, AdditionalGids: []uint32{5}}},
		{
			name: "group-add by name and number", user: "bob", groupAdd: []string{"audio", "777", "staff"},
			want: specs.User{UID: 1001, GID: 1001, AdditionalGids: []uint32{1001, 50, 29, 777}},
		},
	}
	root := testRootfs(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveUser(root, tt.user, tt.groupAdd)
			checkErr(t, err, tt.wantErr)
			if err == nil && !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("user = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestResolveUserWithoutFiles(t *testing.T) {
	root := t.TempDir()
	if _, err := ResolveUser(root, "alice", nil); err == nil || err.Error() != "unable to find user alice: no matching entries in passwd file" {
		t.Fatalf("name without passwd: %v", err)
	}
	got, err := ResolveUser(root, "1000:1000", []string{"44"})
	if err != nil {
		t.Fatal(err)
	}
	if want := (specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000, 44}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("user = %+v, want %+v", got, want)
	}
}

// The image's files are read as if rootfs were "/": an absolute symlink
// resolves inside the rootfs, never to the host's /etc/passwd.
func TestResolveUserSymlinkStaysInRootfs(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "usr/lib/passwd"), "app:x:555:555::/:/bin/sh\n")
	if err := os.Symlink("/usr/lib/passwd", filepath.Join(root, "etc/passwd")); err != nil {
		// etc does not exist yet
		if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("/usr/lib/passwd", filepath.Join(root, "etc/passwd")); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ResolveUser(root, "app", nil)
	if err != nil || got.UID != 555 {
		t.Fatalf("absolute symlink: %+v, %v", got, err)
	}

	// A relative one climbing out stops at the rootfs: root has no such
	// user there, although the host has one.
	if err := os.Remove(filepath.Join(root, "etc/passwd")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../../../../../etc/passwd", filepath.Join(root, "etc/passwd")); err != nil {
		t.Fatal(err)
	}
	if _, err := ResolveUser(root, "root", nil); err == nil {
		t.Fatal("the host's /etc/passwd was read")
	}
}

func TestResolveUserRefusesFIFO(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "etc/passwd"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ResolveUser(root, "alice", nil)
	checkErr(t, err, "not a regular file")
}

func TestWithUserUmask(t *testing.T) {
	in := testInput(t)
	in.Config.User = "alice"
	umask := uint32(0o027)
	in.HostConfig.Umask = &umask
	s, err := apply(in, WithUser)
	if err != nil {
		t.Fatal(err)
	}
	if s.Process.User.UID != 1000 || s.Process.User.Umask == nil || *s.Process.User.Umask != 0o027 {
		t.Fatalf("user = %+v", s.Process.User)
	}
}
