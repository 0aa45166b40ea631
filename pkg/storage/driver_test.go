package storage

import (
	"errors"
	"os/exec"
	"reflect"
	"testing"

	"github.com/containerd/errdefs"
)

func TestDriverCandidates(t *testing.T) {
	fuse, err := exec.LookPath("fuse-overlayfs")
	auto := []driverChoice{{Name: DriverOverlay}}
	if err == nil {
		auto = append(auto, driverChoice{Name: DriverFuseOverlayfs, MountProgram: fuse})
	}
	auto = append(auto, driverChoice{Name: DriverVFS})

	tests := []struct {
		name         string
		requested    string
		mountProgram string
		recorded     *driverChoice
		want         []driverChoice
		wantErr      error
	}{
		{name: "unknown driver", requested: "btrfs", wantErr: errdefs.ErrInvalidArgument},
		{name: "switch on an existing store", requested: DriverVFS, recorded: &driverChoice{Name: DriverOverlay}, wantErr: errdefs.ErrConflict},
		{name: "fuse-overlayfs store opened as overlay", requested: DriverOverlay, recorded: &driverChoice{Name: DriverFuseOverlayfs, MountProgram: "/bin/f"}, wantErr: errdefs.ErrConflict},
		{name: "new store: best first, vfs last", want: auto},
		{name: "existing store keeps its driver", recorded: &driverChoice{Name: DriverFuseOverlayfs, MountProgram: "/bin/f"}, want: []driverChoice{{Name: DriverFuseOverlayfs, MountProgram: "/bin/f"}}},
		{name: "explicit request is tried alone", requested: DriverOverlay, want: []driverChoice{{Name: DriverOverlay}}},
		{name: "overlay2 is overlay", requested: "overlay2", want: []driverChoice{{Name: DriverOverlay}}},
		{name: "storage.conf mount_program means fuse-overlayfs", requested: DriverOverlay, mountProgram: "/usr/bin/fuse-overlayfs", want: []driverChoice{{Name: DriverFuseOverlayfs, MountProgram: "/usr/bin/fuse-overlayfs"}}},
		{name: "vfs", requested: DriverVFS, want: []driverChoice{{Name: DriverVFS}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := driverCandidates(tt.requested, tt.mountProgram, tt.recorded)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDriverRecordRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if d, err := readDriverRecord(dir); d != nil || err != nil {
		t.Fatalf("empty dir: %v, %v", d, err)
	}
	want := driverChoice{Name: DriverFuseOverlayfs, MountProgram: "/usr/bin/fuse-overlayfs"}
	if err := writeDriverRecord(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := readDriverRecord(dir)
	if err != nil || *got != want {
		t.Fatalf("read back %+v, %v", got, err)
	}
}

func TestSplitMountProgram(t *testing.T) {
	prog, rest := splitMountProgram([]string{"overlay.mount_program=/usr/bin/fuse-overlayfs", "overlay.mountopt=nodev"})
	if prog != "/usr/bin/fuse-overlayfs" || !reflect.DeepEqual(rest, []string{"overlay.mountopt=nodev"}) {
		t.Fatalf("got %q %v", prog, rest)
	}
}
