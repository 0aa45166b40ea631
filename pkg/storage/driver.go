package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"

	"github.com/rrun/rrun/pkg/atomicfile"
)

// Driver names as users give them to --storage-driver. fuse-overlayfs is
// containers/storage's overlay driver with fuse-overlayfs as mount program.
const (
	DriverOverlay       = "overlay"
	DriverFuseOverlayfs = "fuse-overlayfs"
	DriverVFS           = "vfs"
)

// driverRecordFile, in the graph root, remembers the driver a store was
// created with: opening it with another one would show an empty store or,
// worse, mix layer formats.
const driverRecordFile = "rrun-driver.json"

// driverChoice is one way to open the store.
type driverChoice struct {
	Name         string `json:"driver"`                  // overlay, fuse-overlayfs or vfs
	MountProgram string `json:"mount_program,omitempty"` // for fuse-overlayfs
}

// graphDriver is containers/storage's name for the choice.
func (d driverChoice) graphDriver() string {
	if d.Name == DriverFuseOverlayfs {
		return DriverOverlay
	}
	return d.Name
}

func (d driverChoice) options() []string {
	if d.MountProgram != "" {
		return []string{"overlay.mount_program=" + d.MountProgram}
	}
	return nil
}

// vfsWarning is shown when vfs is chosen for want of anything better.
const vfsWarning = "using the vfs storage driver: every layer and container is a full copy, so images take several times the disk space and containers start slower. Install fuse-overlayfs, or use a kernel with rootless overlay (5.13 or later), then recreate the storage."

// driverCandidates lists the drivers to try, best first. An explicit
// request (flag, storage.conf or STORAGE_DRIVER) is tried alone, so the
// user gets an error rather than a silent fallback; a store that already
// exists must keep its driver.
func driverCandidates(requested string, mountProgram string, recorded *driverChoice) ([]driverChoice, error) {
	var want *driverChoice
	switch requested {
	case "":
		if mountProgram != "" {
			want = &driverChoice{Name: DriverFuseOverlayfs, MountProgram: mountProgram}
		}
	case DriverOverlay, "overlay2":
		if mountProgram != "" {
			want = &driverChoice{Name: DriverFuseOverlayfs, MountProgram: mountProgram}
		} else {
			want = &driverChoice{Name: DriverOverlay}
		}
	case DriverFuseOverlayfs:
		prog := mountProgram
		if prog == "" {
			var err error
			if prog, err = exec.LookPath("fuse-overlayfs"); err != nil {
				return nil, errdefs.ErrInvalidArgument.WithMessage("storage driver fuse-overlayfs: fuse-overlayfs not found: install the fuse-overlayfs package")
			}
		}
		want = &driverChoice{Name: DriverFuseOverlayfs, MountProgram: prog}
	case DriverVFS:
		want = &driverChoice{Name: DriverVFS}
	default:
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("unknown storage driver %q: use overlay, fuse-overlayfs or vfs", requested))
	}

	if recorded != nil {
		if want != nil && want.Name != recorded.Name {
			return nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf("the storage was created with the %s driver and cannot be opened with %s: use another --root, or remove the storage to switch drivers", recorded.Name, want.Name))
		}
		if want != nil {
			return []driverChoice{*want}, nil
		}
		return []driverChoice{*recorded}, nil
	}
	if want != nil {
		return []driverChoice{*want}, nil
	}
	candidates := []driverChoice{{Name: DriverOverlay}}
	if prog, err := exec.LookPath("fuse-overlayfs"); err == nil {
		candidates = append(candidates, driverChoice{Name: DriverFuseOverlayfs, MountProgram: prog})
	}
	return append(candidates, driverChoice{Name: DriverVFS}), nil
}

func readDriverRecord(graphRoot string) (*driverChoice, error) {
	data, err := os.ReadFile(filepath.Join(graphRoot, driverRecordFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var d driverChoice
	if err := json.Unmarshal(data, &d); err != nil || d.Name == "" {
		return nil, fmt.Errorf("%s is damaged (%q): remove it and rrun will detect the driver again", filepath.Join(graphRoot, driverRecordFile), strings.TrimSpace(string(data)))
	}
	return &d, nil
}

func writeDriverRecord(graphRoot string, d driverChoice) error {
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(graphRoot, driverRecordFile), append(data, '\n'), 0o600)
}
