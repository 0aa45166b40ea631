package oci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestDevices(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "file")
	writeFile(t, regular, "")
	tests := []struct {
		name    string
		devices []container.DeviceMapping
		want    []specs.Mount
		wantErr string
	}{
		{name: "missing", devices: []container.DeviceMapping{{PathOnHost: "/dev/nope"}}, wantErr: `error gathering device information while adding custom device "/dev/nope": lstat /dev/nope: no such file or directory`},
		{name: "not a device", devices: []container.DeviceMapping{{PathOnHost: regular}}, wantErr: "not a device node"},
		{name: "no devices under a directory", devices: []container.DeviceMapping{{PathOnHost: dir}}, wantErr: "no device nodes"},
		{name: "bad permissions", devices: []container.DeviceMapping{{PathOnHost: "/dev/null", CgroupPermissions: "rwx"}}, wantErr: "invalid device mode: rwx"},
		{name: "relative", devices: []container.DeviceMapping{{PathOnHost: "/dev/null", PathInContainer: "dev/x"}}, wantErr: "paths must be absolute"},
		{name: "same path", devices: []container.DeviceMapping{{PathOnHost: "/dev/null"}},
			want: []specs.Mount{{Destination: "/dev/null", Type: "bind", Source: "/dev/null", Options: []string{"bind", "nosuid", "noexec"}}}},
		{name: "renamed", devices: []container.DeviceMapping{{PathOnHost: "/dev/zero", PathInContainer: "/dev/myzero", CgroupPermissions: "r"}},
			want: []specs.Mount{{Destination: "/dev/myzero", Type: "bind", Source: "/dev/zero", Options: []string{"bind", "nosuid", "noexec"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := testInput(t)
			in.HostConfig.Devices = tt.devices
			s, err := apply(in, WithDevices)
			checkErr(t, err, tt.wantErr)
			if err != nil {
				return
			}
			if len(s.Mounts) != len(tt.want) {
				t.Fatalf("mounts %+v, want %+v", s.Mounts, tt.want)
			}
			for i := range tt.want {
				if got := s.Mounts[i]; got.Destination != tt.want[i].Destination || got.Source != tt.want[i].Source || strings.Join(got.Options, ",") != strings.Join(tt.want[i].Options, ",") {
					t.Fatalf("mount %+v, want %+v", got, tt.want[i])
				}
			}
		})
	}
}

func TestDeviceRequests(t *testing.T) {
	in := testInput(t)
	in.HostConfig.DeviceRequests = []container.DeviceRequest{{Count: -1, Capabilities: [][]string{{"gpu"}}}}
	_, err := apply(in, WithDevices)
	checkErr(t, err, "not supported")
}

func TestPrivilegedDevices(t *testing.T) {
	if _, err := os.Stat("/dev/null"); err != nil {
		t.Skip("no /dev here")
	}
	in := testInput(t)
	in.HostConfig.Privileged = true
	in.HostConfig.Devices = []container.DeviceMapping{{PathOnHost: "/dev/zero", PathInContainer: "/dev/full"}}
	s, err := apply(in, WithDevices)
	if err != nil {
		t.Fatal(err)
	}
	full := 0
	for _, m := range s.Mounts {
		rel := strings.TrimPrefix(m.Destination, "/dev/")
		switch {
		case m.Destination == "/dev/full":
			full++
			if m.Source != "/dev/zero" {
				t.Errorf("--device lost to the privileged set: %+v", m)
			}
		case strings.HasPrefix(rel, "tty"), rel == "null", rel == "ptmx", rel == "console", strings.HasPrefix(rel, "pts/"):
			t.Errorf("%s must not be passed to a rootless privileged container", m.Destination)
		}
	}
	if full != 1 {
		t.Fatalf("/dev/full mounted %d times", full)
	}
}
