package engine

import (
	"path/filepath"
	"sort"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"

	"github.com/rrun/rrun/pkg/oci"
)

// mountPoints lists a container's binds, volumes and tmpfs mounts as
// docker's inspect and ps show them (Mounts), sorted by destination.
func (e *Engine) mountPoints(c *Container) []container.MountPoint {
	var mounts []mount.Mount
	for _, b := range c.HostConfig.Binds {
		if m, err := oci.ParseBind(b); err == nil {
			mounts = append(mounts, m)
		}
	}
	mounts = append(mounts, c.HostConfig.Mounts...)
	out := []container.MountPoint{}
	seen := map[string]bool{}
	for _, m := range mounts {
		mp := container.MountPoint{Type: m.Type, Destination: m.Target, RW: !m.ReadOnly, Mode: bindMode(m)}
		switch m.Type {
		case mount.TypeBind:
			mp.Source = m.Source
			mp.Propagation = mount.PropagationRPrivate
			if m.BindOptions != nil && m.BindOptions.Propagation != "" {
				mp.Propagation = m.BindOptions.Propagation
			}
		case mount.TypeVolume:
			name := m.Source
			if name == "" {
				name = c.AnonymousVolumes[m.Target]
			}
			mp.Name, mp.Driver = name, "local"
			mp.Source = filepath.Join(e.volumesDir(), name, "_data")
		case mount.TypeTmpfs:
		}
		seen[m.Target] = true
		out = append(out, mp)
	}
	// Anonymous volumes from the image's VOLUME or -v /path.
	for target, name := range c.AnonymousVolumes {
		if seen[target] {
			continue
		}
		out = append(out, container.MountPoint{
			Type: mount.TypeVolume, Name: name, Driver: "local", Destination: target, RW: true,
			Source: filepath.Join(e.volumesDir(), name, "_data"),
		})
	}
	for target := range c.HostConfig.Tmpfs {
		if !seen[target] {
			out = append(out, container.MountPoint{Type: mount.TypeTmpfs, Destination: target, RW: true})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Destination < out[j].Destination })
	return out
}

// bindMode is docker's Mode column: "ro", "z" and the like as given; docker
// leaves it empty for --mount and for a plain -v.
func bindMode(m mount.Mount) string {
	if m.ReadOnly {
		return "ro"
	}
	return ""
}
