package oci

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/generate"
	"golang.org/x/sys/unix"
)

// hostDevDir is where WithDevices looks for a privileged container's
// devices; a variable for tests.
var hostDevDir = "/dev"

// WithDevices gives the container the host devices of --device and, when
// privileged, every host device rrun can open.
//
// Rootless, neither docker's way works: mknod(2) of a device is refused
// in a user namespace, and the device cgroup cannot be programmed. So each
// device node is bind-mounted from the host, as runc does for its default
// devices in a user namespace and rootless podman for --privileged. What
// the container can do with it is what file permissions allow (a device
// reachable only through one of the user's host groups is not, as the
// container's processes do not keep those groups); --device's cgroup
// permissions ("rwm") are checked but cannot be enforced.
func WithDevices(g *generate.Generator, in *SpecInput) error {
	hc := in.HostConfig
	if len(hc.DeviceRequests) > 0 {
		return errdefs.ErrNotImplemented.WithMessage("--gpus and device requests are not supported by rrun")
	}
	mounted := map[string]bool{}
	for _, m := range g.Config.Mounts {
		mounted[path.Clean(m.Destination)] = true
	}
	for _, d := range hc.Devices {
		mounts, err := deviceMounts(d)
		if err != nil {
			return err
		}
		for _, m := range mounts {
			if mounted[m.Destination] {
				return errdefs.ErrInvalidArgument.WithMessage("Duplicate mount point: " + m.Destination)
			}
			mounted[m.Destination] = true
			g.AddMount(m)
		}
	}
	if hc.Privileged {
		for _, m := range privilegedDeviceMounts() {
			if !mounted[m.Destination] {
				mounted[m.Destination] = true
				g.AddMount(m)
			}
		}
	}
	return nil
}

// deviceMounts are the bind mounts for one --device: the node itself, or
// every node under a directory (docker's DevicesFromPath).
func deviceMounts(d container.DeviceMapping) ([]specs.Mount, error) {
	fail := func(err error) error {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("error gathering device information while adding custom device %q: %v", d.PathOnHost, err))
	}
	perms := d.CgroupPermissions
	if perms == "" {
		perms = "rwm"
	}
	if strings.Trim(perms, "rwm") != "" || len(perms) > 3 {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid device mode: %s", perms))
	}
	dst := d.PathInContainer
	if dst == "" {
		dst = d.PathOnHost
	}
	if !path.IsAbs(d.PathOnHost) || !path.IsAbs(dst) {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid device %s:%s: paths must be absolute", d.PathOnHost, dst))
	}
	dst = path.Clean(dst)
	src, err := filepath.EvalSymlinks(d.PathOnHost)
	if err != nil {
		return nil, fail(err)
	}
	st, err := os.Stat(src)
	if err != nil {
		return nil, fail(err)
	}
	if isDevice(st.Mode()) {
		if err := checkDeviceAccess(src); err != nil {
			return nil, fail(err)
		}
		return []specs.Mount{deviceMount(src, dst)}, nil
	}
	if !st.IsDir() {
		return nil, fail(errors.New("not a device node"))
	}
	var mounts []specs.Mount
	err = filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil || !isDevice(e.Type()) || checkDeviceAccess(p) != nil {
			return nil // docker skips what it cannot read
		}
		rel, _ := filepath.Rel(src, p)
		mounts = append(mounts, deviceMount(p, path.Join(dst, rel)))
		return nil
	})
	if err == nil && len(mounts) == 0 {
		err = errors.New("no device nodes that rrun can open")
	}
	if err != nil {
		return nil, fail(err)
	}
	return mounts, nil
}

// privilegedDeviceMounts are the host's devices a privileged container
// gets, less those runc makes itself (null, zero, full, random, urandom,
// tty, ptmx, console) and, like rootless podman, the virtual consoles
// (/dev/tty*), which would let the container inject keystrokes on the host.
func privilegedDeviceMounts() []specs.Mount {
	skipDirs := map[string]bool{"pts": true, "shm": true, "fd": true, "mqueue": true}
	skipFiles := map[string]bool{"null": true, "zero": true, "full": true, "random": true, "urandom": true, "ptmx": true, "console": true}
	var mounts []specs.Mount
	_ = filepath.WalkDir(hostDevDir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(hostDevDir, p)
		if e.IsDir() && p != hostDevDir && (skipDirs[rel] || strings.HasPrefix(e.Name(), ".")) {
			return fs.SkipDir
		}
		if !isDevice(e.Type()) || skipFiles[rel] || strings.HasPrefix(rel, "tty") || checkDeviceAccess(p) != nil {
			return nil
		}
		mounts = append(mounts, deviceMount(p, path.Join("/dev", filepath.ToSlash(rel))))
		return nil
	})
	return mounts
}

func isDevice(m fs.FileMode) bool { return m&fs.ModeDevice != 0 }

// checkDeviceAccess: a device rrun cannot open would fail in the container
// too, with a less helpful error.
func checkDeviceAccess(p string) error {
	if unix.Access(p, unix.R_OK) == nil || unix.Access(p, unix.W_OK) == nil {
		return nil
	}
	return fmt.Errorf("%s: permission denied: a rootless container can use only devices its user can open", p)
}

func deviceMount(src, dst string) specs.Mount {
	return specs.Mount{Destination: dst, Type: "bind", Source: src, Options: []string{"bind", "nosuid", "noexec"}}
}
