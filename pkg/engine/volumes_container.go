package engine

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"slices"
	"syscall"

	"github.com/containerd/errdefs"
	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/volume"
	"go.podman.io/storage/pkg/archive"

	"github.com/rrun/rrun/pkg/oci"
)

// A container's volumes are made when it is created, as docker makes
// them: named ones that do not exist yet, and an anonymous volume, with a
// random name, for each volume mount without a source (-v /dst, --mount
// type=volume without src, an image VOLUME nothing else covers). The
// container records the anonymous volumes' names (Container.AnonymousVolumes)
// so that every start mounts the same ones, and pkg/oci is only ever given
// named volumes.

// volumeMounts are the container's volume mounts: those of -v and --mount,
// then an anonymous one for each of the image's VOLUMEs (Config.Volumes)
// no mount covers, all with clean targets.
func volumeMounts(cfg *container.Config, hc *container.HostConfig) ([]mount.Mount, error) {
	var out []mount.Mount
	covered := map[string]bool{}
	for _, b := range hc.Binds {
		m, err := oci.ParseBind(b)
		if err != nil {
			return nil, err
		}
		covered[m.Target] = true
		if m.Type == mount.TypeVolume {
			out = append(out, m)
		}
	}
	for _, m := range hc.Mounts {
		if err := oci.ValidateMount(m); err != nil {
			return nil, err
		}
		m.Target = path.Clean(m.Target)
		covered[m.Target] = true
		if m.Type == mount.TypeVolume {
			out = append(out, m)
		}
	}
	for dst := range hc.Tmpfs {
		covered[path.Clean(dst)] = true
	}
	for _, dst := range slices.Sorted(maps.Keys(cfg.Volumes)) {
		m := mount.Mount{Type: mount.TypeVolume, Target: path.Clean(dst)}
		if err := oci.ValidateMount(m); err != nil {
			return nil, err
		}
		if !covered[m.Target] {
			covered[m.Target] = true
			out = append(out, m)
		}
	}
	return out, nil
}

// volumeRequest is the create request a volume mount makes for a volume
// that does not exist yet (--mount's volume-label, volume-opt).
func volumeRequest(name string, m mount.Mount) volume.CreateRequest {
	req := volume.CreateRequest{Name: name}
	if o := m.VolumeOptions; o != nil {
		req.Labels = o.Labels
		if o.DriverConfig != nil {
			req.Driver, req.DriverOpts = o.DriverConfig.Name, o.DriverConfig.Options
		}
	}
	return req
}

// createContainerVolumes creates a new container's volumes and returns
// the anonymous ones' names by target, with a function that removes those
// again (when the container cannot be created after all).
func (e *Engine) createContainerVolumes(cfg *container.Config, hc *container.HostConfig) (anonymous map[string]string, remove func(), err error) {
	if d := hc.VolumeDriver; d != "" && d != localDriver {
		return nil, nil, errdefs.ErrNotImplemented.WithMessage(fmt.Sprintf("volume driver %q is not supported: rrun has only the local driver", d))
	}
	mounts, err := volumeMounts(cfg, hc)
	if err != nil {
		return nil, nil, err
	}
	anonymous = map[string]string{}
	remove = func() {
		unlock, err := e.lockVolumes()
		if err != nil {
			return
		}
		defer unlock()
		for _, name := range anonymous {
			if v, err := e.loadVolume(name); err == nil {
				_, _ = e.deleteVolume(v)
			}
		}
	}
	for _, m := range mounts {
		if m.Source != "" {
			if _, err := e.loadVolume(m.Source); errdefs.IsNotFound(err) {
				_, _, err = e.createVolume(volumeRequest(m.Source, m), false)
			}
			if err != nil {
				remove()
				return nil, nil, err
			}
			continue
		}
		if _, ok := anonymous[m.Target]; ok {
			continue // a duplicate mount point, which starting reports
		}
		name := newVolumeName()
		if _, _, err := e.createVolume(volumeRequest(name, m), true); err != nil {
			remove()
			return nil, nil, err
		}
		anonymous[m.Target] = name
	}
	if len(anonymous) == 0 {
		anonymous = nil
	}
	return anonymous, remove, nil
}

// namedVolumes is the container's configuration with its anonymous
// volumes given names by name(target): -v /dst becomes -v NAME:/dst, a
// --mount without src gets src=NAME, and an image VOLUME becomes a
// --mount of NAME. It copies what it changes.
func namedVolumes(cfg *container.Config, hc *container.HostConfig, name func(target string) (string, error)) (*container.Config, *container.HostConfig, error) {
	c, h := *cfg, *hc
	covered := map[string]bool{}
	h.Binds = slices.Clone(hc.Binds)
	for i, b := range h.Binds {
		m, err := oci.ParseBind(b)
		if err != nil {
			return nil, nil, err
		}
		covered[m.Target] = true
		if m.Type == mount.TypeVolume && m.Source == "" {
			n, err := name(m.Target)
			if err != nil {
				return nil, nil, err
			}
			h.Binds[i] = n + ":" + b
		}
	}
	h.Mounts = slices.Clone(hc.Mounts)
	for i, m := range h.Mounts {
		target := path.Clean(m.Target)
		covered[target] = true
		if m.Type == mount.TypeVolume && m.Source == "" {
			n, err := name(target)
			if err != nil {
				return nil, nil, err
			}
			h.Mounts[i].Source = n
		}
	}
	for dst := range hc.Tmpfs {
		covered[path.Clean(dst)] = true
	}
	c.Volumes = nil
	for _, dst := range slices.Sorted(maps.Keys(cfg.Volumes)) {
		target := path.Clean(dst)
		if covered[target] {
			// Mounted by the user: pkg/oci leaves it alone.
			if c.Volumes == nil {
				c.Volumes = map[string]struct{}{}
			}
			c.Volumes[dst] = struct{}{}
			continue
		}
		covered[target] = true
		n, err := name(target)
		if err != nil {
			return nil, nil, err
		}
		h.Mounts = append(h.Mounts, mount.Mount{Type: mount.TypeVolume, Source: n, Target: target})
	}
	return &c, &h, nil
}

// prepareVolumes readies a container's volumes for a start: it names the
// anonymous ones (see namedVolumes), makes sure every volume exists and is
// mounted, and copies the image's content at the mount point into volumes
// that are empty, as docker does unless told nocopy. It returns the
// configuration pkg/oci builds the spec from.
func (e *Engine) prepareVolumes(c *Container, rootfs string) (*container.Config, *container.HostConfig, error) {
	changed := false
	cfg, hc, err := namedVolumes(c.Config, c.HostConfig, func(target string) (string, error) {
		if n, ok := c.AnonymousVolumes[target]; ok {
			return n, nil
		}
		// A container created by an rrun that did not name its anonymous
		// volumes: name them now, once.
		n := newVolumeName()
		if _, _, err := e.createVolume(volume.CreateRequest{Name: n}, true); err != nil {
			return "", err
		}
		if c.AnonymousVolumes == nil {
			c.AnonymousVolumes = map[string]string{}
		}
		c.AnonymousVolumes[target], changed = n, true
		return n, nil
	})
	if err != nil {
		return nil, nil, err
	}
	if changed {
		if err := e.saveContainer(c); err != nil {
			return nil, nil, fmt.Errorf("recording the volumes of container %s: %w", c.Name, err)
		}
	}
	mounts, err := volumeMounts(cfg, hc)
	if err != nil {
		return nil, nil, err
	}
	for _, m := range mounts {
		v, err := e.loadVolume(m.Source)
		if errdefs.IsNotFound(err) {
			anonymous := slices.Contains(sortedValues(c.AnonymousVolumes), m.Source)
			v, _, err = e.createVolume(volumeRequest(m.Source, m), anonymous)
		}
		if err != nil {
			return nil, nil, err
		}
		dir, err := e.mountVolume(v)
		if err != nil {
			return nil, nil, err
		}
		if o := m.VolumeOptions; o != nil && (o.NoCopy || o.Subpath != "") {
			continue
		}
		if lm, _ := parseLocalOptions(v.Options); lm.bindDir != "" {
			continue // the user's own directory: rrun does not write there
		}
		// Under the lock: two containers starting with one new volume
		// must not both fill it.
		unlock, err := e.lockVolumes()
		if err != nil {
			return nil, nil, err
		}
		err = copyImageContent(rootfs, m.Target, dir)
		unlock()
		if err != nil {
			return nil, nil, fmt.Errorf("copying the image's %s into volume %s: %w", m.Target, v.Name, err)
		}
	}
	return cfg, hc, nil
}

// containerVolumeNames are the volumes a container uses.
func containerVolumeNames(c *Container) []string {
	var names []string
	for _, b := range c.HostConfig.Binds {
		if m, err := oci.ParseBind(b); err == nil && m.Type == mount.TypeVolume && m.Source != "" {
			names = append(names, m.Source)
		}
	}
	for _, m := range c.HostConfig.Mounts {
		if m.Type == mount.TypeVolume && m.Source != "" {
			names = append(names, m.Source)
		}
	}
	return append(names, sortedValues(c.AnonymousVolumes)...)
}

// copyImageContent copies the directory at target in the container's root
// filesystem into an empty volume directory, with owners, modes and times,
// then gives the volume that directory's owner and mode, as docker's
// copyExistingContents and copyOwnership do. A volume that has anything
// in it, or a target the image does not have, is left alone.
func copyImageContent(rootfs, target, dir string) error {
	if empty, err := isEmptyDir(dir); err != nil || !empty {
		return err
	}
	src, err := securejoin.SecureJoin(rootfs, target)
	if err != nil {
		return err
	}
	st, err := os.Stat(src)
	if errors.Is(err, os.ErrNotExist) || err == nil && !st.IsDir() {
		return nil
	}
	if err != nil {
		return err
	}
	if err := archive.NewDefaultArchiver().CopyWithTar(src, dir); err != nil {
		return err
	}
	uid, gid := ownerOf(st)
	if err := os.Lchown(dir, uid, gid); err != nil {
		return err
	}
	return os.Chmod(dir, st.Mode())
}

func isEmptyDir(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	if _, err := f.Readdirnames(1); err != io.EOF {
		return false, err
	}
	return true, nil
}

func ownerOf(fi os.FileInfo) (uid, gid int) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), int(st.Gid)
	}
	return 0, 0
}
