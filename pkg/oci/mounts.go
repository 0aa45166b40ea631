package oci

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/moby/api/types/mount"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/generate"
)

// DefaultShmSize is docker's /dev/shm size when HostConfig.ShmSize is 0.
const DefaultShmSize = 64 << 20

// WithMounts sets the container's mounts: docker's defaults (/proc, /dev,
// /dev/pts, /dev/shm, /dev/mqueue, /sys and, with a cgroup, /sys/fs/cgroup),
// less those a user mount replaces, then the user's binds, volumes and
// tmpfs mounts, the image's volumes and the generated /etc files.
func WithMounts(g *generate.Generator, in *SpecInput) error {
	user, err := userMounts(in)
	if err != nil {
		return err
	}
	defaults, err := defaultMounts(in)
	if err != nil {
		return err
	}
	covered := map[string]bool{}
	for _, m := range user {
		covered[m.Destination] = true
	}
	var mounts []specs.Mount
	for _, m := range defaults {
		if covered[m.Destination] || covered["/dev"] && strings.HasPrefix(m.Destination, "/dev/") {
			continue
		}
		mounts = append(mounts, m)
	}
	g.Config.Mounts = append(mounts, user...)
	setRootfsPropagation(g.Config)
	return nil
}

// defaultMounts are docker's default mounts (moby daemon/pkg/oci/defaults.go)
// as far as an unprivileged user may make them.
func defaultMounts(in *SpecInput) ([]specs.Mount, error) {
	hc := in.HostConfig
	shmSize := hc.ShmSize
	switch {
	case shmSize < 0:
		return nil, errdefs.ErrInvalidArgument.WithMessage("SHM size can not be less than 0")
	case shmSize == 0:
		shmSize = DefaultShmSize
	}
	// devpts's gid=5 (tty) fails the mount when gid 5 is not mapped in
	// rrun's user namespace; runc's rootless spec leaves it out then.
	ptsOpts := []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}
	if gidMapped(5) {
		ptsOpts = append(ptsOpts, "gid=5")
	}
	mounts := []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: ptsOpts},
	}
	if !hc.IpcMode.IsNone() {
		mounts = append(mounts, specs.Mount{Destination: "/dev/shm", Type: "tmpfs", Source: "shm",
			Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=" + strconv.FormatInt(shmSize, 10)}})
	}
	mounts = append(mounts, specs.Mount{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}})

	// A sysfs mount shows the network devices of the mounter's network
	// namespace, so the kernel allows it only to the user namespace owning
	// that: ours for a new or a container's namespace, never for the
	// host's. There the host's /sys is bound instead, recursively
	// read-only, as runc's rootless spec and rootless podman do.
	sys := specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}}
	if !hasOwnNetNS(in) {
		sys = specs.Mount{Destination: "/sys", Type: "bind", Source: "/sys", Options: []string{"rbind", "nosuid", "noexec", "nodev", "rro"}}
	}
	mounts = append(mounts, sys)
	if in.CgroupsPath != "" {
		// With the container's own cgroup namespace, this shows its own
		// cgroup as the root.
		mounts = append(mounts, specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro", "nosuid", "noexec", "nodev"}})
	}
	// Privileged containers get /sys and their cgroup writable, even with
	// a read-only rootfs (docker clears "ro" last); otherwise a read-only
	// rootfs makes them read-only.
	for i, m := range mounts {
		switch {
		case m.Destination != "/sys" && m.Destination != "/sys/fs/cgroup":
		case hc.Privileged:
			mounts[i].Options = slices.DeleteFunc(slices.Clone(m.Options), func(o string) bool { return o == "ro" || o == "rro" })
		case hc.ReadonlyRootfs && !slices.Contains(m.Options, "ro") && !slices.Contains(m.Options, "rro"):
			mounts[i].Options = append(slices.Clone(m.Options), "ro")
		}
	}
	return mounts, nil
}

// userMounts are the mounts the user asked for (binds, --mount, --tmpfs),
// the image's volumes they do not cover, and the generated /etc files.
func userMounts(in *SpecInput) ([]specs.Mount, error) {
	hc := in.HostConfig
	var mounts []specs.Mount
	seen := map[string]bool{}
	add := func(m specs.Mount) error {
		if seen[m.Destination] {
			return errdefs.ErrInvalidArgument.WithMessage("Duplicate mount point: " + m.Destination)
		}
		seen[m.Destination] = true
		mounts = append(mounts, m)
		return nil
	}

	for _, b := range hc.Binds {
		m, err := ParseBind(b)
		if err != nil {
			return nil, err
		}
		om, err := ociMount(m, in)
		if err != nil {
			return nil, err
		}
		if err := add(om); err != nil {
			return nil, err
		}
	}
	for _, m := range hc.Mounts {
		if err := ValidateMount(m); err != nil {
			return nil, err
		}
		m.Target = path.Clean(m.Target)
		if m.Type == mount.TypeBind {
			m.Source = path.Clean(m.Source)
		}
		om, err := ociMount(m, in)
		if err != nil {
			return nil, err
		}
		if err := add(om); err != nil {
			return nil, err
		}
	}
	for _, dst := range sortedKeys(hc.Tmpfs) {
		if err := ValidateMount(mount.Mount{Type: mount.TypeTmpfs, Target: dst}); err != nil {
			return nil, err
		}
		opts, err := TmpfsOptions(hc.Tmpfs[dst])
		if err != nil {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("--tmpfs %s: %v", dst, err))
		}
		if err := add(specs.Mount{Destination: path.Clean(dst), Type: "tmpfs", Source: "tmpfs", Options: opts}); err != nil {
			return nil, err
		}
	}
	// The image's volumes (and -v /dst, which the docker CLI sends as one)
	// become anonymous volumes unless the user mounted something there.
	for _, dst := range sortedKeys(in.Config.Volumes) {
		m := mount.Mount{Type: mount.TypeVolume, Target: dst}
		if err := ValidateMount(m); err != nil {
			return nil, err
		}
		m.Target = path.Clean(dst)
		if seen[m.Target] {
			continue
		}
		om, err := ociMount(m, in)
		if err != nil {
			return nil, err
		}
		if err := add(om); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct{ dst, src string }{
		{"/etc/resolv.conf", in.ResolvConfPath},
		{"/etc/hostname", in.HostnamePath},
		{"/etc/hosts", in.HostsPath},
	} {
		if f.src == "" || seen[f.dst] {
			continue
		}
		opts := []string{"rbind", "rprivate"}
		if hc.ReadonlyRootfs {
			opts = append(opts, "ro")
		}
		if err := add(specs.Mount{Destination: f.dst, Type: "bind", Source: f.src, Options: opts}); err != nil {
			return nil, err
		}
	}
	return mounts, nil
}

// ociMount turns a validated bind, volume or tmpfs mount into an OCI one.
func ociMount(m mount.Mount, in *SpecInput) (specs.Mount, error) {
	switch m.Type {
	case mount.TypeBind:
		if err := checkBindSource(m); err != nil {
			return specs.Mount{}, err
		}
		return specs.Mount{Destination: m.Target, Type: "bind", Source: m.Source, Options: bindOptions(m)}, nil
	case mount.TypeVolume:
		dir, err := volumeDir(m, in)
		if err != nil {
			return specs.Mount{}, err
		}
		return specs.Mount{Destination: m.Target, Type: "bind", Source: dir, Options: bindOptions(m)}, nil
	case mount.TypeTmpfs:
		data, err := tmpfsMountData(m)
		if err != nil {
			return specs.Mount{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid mount config for type %q: %v", m.Type, err))
		}
		opts, err := TmpfsOptions(data)
		if err != nil {
			return specs.Mount{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid mount config for type %q: %v", m.Type, err))
		}
		return specs.Mount{Destination: m.Target, Type: "tmpfs", Source: "tmpfs", Options: opts}, nil
	}
	return specs.Mount{}, errdefs.ErrNotImplemented.WithMessage(fmt.Sprintf("mount type %q is not supported", m.Type))
}

// volumeDir resolves a named or anonymous volume, and its subpath, to a
// host directory through the engine.
func volumeDir(m mount.Mount, in *SpecInput) (string, error) {
	name := m.Source
	if name == "" {
		// docker names anonymous volumes with a random id
		name = randomID()
	}
	if in.Volumes == nil {
		return "", fmt.Errorf("volume %q for %s: no volume resolver was given", name, m.Target)
	}
	dir, err := in.Volumes(name)
	if err != nil {
		return "", err
	}
	if o := m.VolumeOptions; o != nil && o.Subpath != "" {
		sub, err := securejoin.SecureJoin(dir, o.Subpath)
		if err != nil {
			return "", fmt.Errorf("volume %q subpath %q: %w", name, o.Subpath, err)
		}
		if _, err := os.Stat(sub); err != nil {
			return "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("cannot access path %s: %v", sub, err))
		}
		dir = sub
	}
	return dir, nil
}

// bindOptions are docker's options for a bind or volume mount: recursive
// unless asked otherwise, read-only recursively where asked (moby 25+:
// "rro", unless BindOptions.ReadOnlyNonRecursive), and a propagation,
// rprivate for binds by default.
func bindOptions(m mount.Mount) []string {
	bo := m.BindOptions
	if bo == nil {
		bo = &mount.BindOptions{}
	}
	opts := []string{"rbind"}
	if bo.NonRecursive {
		opts = []string{"bind"}
	}
	if m.ReadOnly {
		if bo.NonRecursive || bo.ReadOnlyNonRecursive {
			opts = append(opts, "ro")
		} else {
			opts = append(opts, "rro")
		}
	}
	switch {
	case bo.Propagation != "":
		opts = append(opts, string(bo.Propagation))
	case m.Type == mount.TypeBind:
		opts = append(opts, string(mount.PropagationRPrivate))
	}
	return opts
}

// setRootfsPropagation makes the rootfs shared when a mount is, and a
// slave when one is a slave, so that the propagation asked for can happen
// (docker's WithMounts does the same).
func setRootfsPropagation(s *specs.Spec) {
	for _, m := range s.Mounts {
		for _, o := range m.Options {
			switch o {
			case "shared", "rshared":
				s.Linux.RootfsPropagation = "shared"
				return
			case "slave", "rslave":
				if s.Linux.RootfsPropagation == "" {
					s.Linux.RootfsPropagation = "rslave"
				}
			}
		}
	}
}

// WithSortedMounts refuses two mounts on one destination and orders the
// mounts so that each comes after the ones above it (/data before
// /data/cache), keeping the order otherwise.
func WithSortedMounts(g *generate.Generator, _ *SpecInput) error {
	seen := map[string]bool{}
	for i, m := range g.Config.Mounts {
		dst := path.Clean(m.Destination)
		if !path.IsAbs(dst) {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("mount destination %q is not absolute", m.Destination))
		}
		if seen[dst] {
			return errdefs.ErrInvalidArgument.WithMessage("Duplicate mount point: " + dst)
		}
		seen[dst] = true
		g.Config.Mounts[i].Destination = dst
	}
	sort.SliceStable(g.Config.Mounts, func(i, j int) bool {
		return pathDepth(g.Config.Mounts[i].Destination) < pathDepth(g.Config.Mounts[j].Destination)
	})
	return nil
}

func pathDepth(p string) int {
	if p == "/" {
		return 0
	}
	return strings.Count(p, "/")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// randomID is a 64-hex id as docker makes them (stringid.GenerateRandomID),
// never all digits in its short form, which would read as a number.
func randomID() string {
	for {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		id := hex.EncodeToString(b)
		if strings.Trim(id[:12], "0123456789") != "" {
			return id
		}
	}
}

// gidMapped reports whether gid has a mapping in this process's user
// namespace.
func gidMapped(gid uint32) bool {
	f, err := os.Open("/proc/self/gid_map")
	if err != nil {
		return true // no user namespaces: every gid is "mapped"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var inside, outside, size uint64
		if _, err := fmt.Sscan(sc.Text(), &inside, &outside, &size); err != nil {
			continue
		}
		if uint64(gid) >= inside && uint64(gid) < inside+size {
			return true
		}
	}
	return false
}
