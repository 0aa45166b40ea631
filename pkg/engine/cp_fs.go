package engine

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/chrootarchive"

	"github.com/rrun/rrun/pkg/oci"
)

// containerFS is a container's filesystem as cp and the archive API see
// it, running or not, as docker's cp sees it: the container's root
// filesystem, mounted from the store, with its bind mounts, volumes and
// the /etc files rrun writes for it (hosts, hostname, resolv.conf) where
// they are mounted. Like docker's, the view has no tmpfs mounts (a path
// under one is the root filesystem's), nor /proc, /sys or /dev's
// contents. The mounts are resolved by path prefix: a symlink in the root
// filesystem that leads into a volume is followed in the root filesystem.
//
// Paths are resolved with securejoin, so that symlinks and ".." stay
// inside the root filesystem or the mount they are in; the files are then
// read and written by a helper chrooted there (chrootarchive), so that a
// running container swapping a directory for a symlink meanwhile cannot
// make rrun touch a host file either.
type containerFS struct {
	root    string    // the container's "/" on the host
	mounts  []fsMount // the container's mounts, longest target first
	release func()
}

// fsMount is one of the container's mounts.
type fsMount struct {
	target   string // clean absolute path in the container
	source   string // host directory or file; "" when it cannot be reached (tmpfs, a volume not made yet)
	file     bool   // source is a file
	readOnly bool
	volume   bool // a bind or volume mount, not a tmpfs
}

// fsView is the directory a container path is resolved in: the root, or
// a mount's source standing for the mount's target.
type fsView struct {
	root   string // host directory
	prefix string // the container path it stands for: "/" or a mount target
}

// openContainerFS gives access to a container's filesystem; Close undoes it.
func (e *Engine) openContainerFS(c *Container) (*containerFS, error) {
	mounts, err := e.cpMounts(c)
	if err != nil {
		return nil, err
	}
	root, err := e.Images.Containers().Mount(c.ID, "")
	if err != nil {
		return nil, fmt.Errorf("mounting the filesystem of container %s: %w", c.Name, err)
	}
	return &containerFS{
		root:    root,
		mounts:  mounts,
		release: func() { _, _ = e.Images.Containers().Unmount(c.ID, false) },
	}, nil
}

// Close releases the filesystem's mount.
func (fs *containerFS) Close() { fs.release() }

// cpMounts lists the container's bind mounts, volumes, tmpfs mounts and
// /etc files, longest target first, with their host sources: a volume is
// looked up (and a tmpfs volume mounted, as a start would); an anonymous
// volume of a container that never started has no directory yet, nor
// have its /etc files been written.
func (e *Engine) cpMounts(c *Container) ([]fsMount, error) {
	var out []fsMount
	covered := map[string]bool{}
	add := func(m mount.Mount) error {
		fm := fsMount{target: filepath.Clean(m.Target), readOnly: m.ReadOnly, volume: m.Type != mount.TypeTmpfs}
		covered[fm.target] = true
		if m.Type == mount.TypeVolume && m.Source == "" {
			m.Source = c.AnonymousVolumes[fm.target]
		}
		switch {
		case m.Type == mount.TypeBind:
			fm.source = filepath.Clean(m.Source)
		case m.Type == mount.TypeVolume && m.Source != "":
			v, err := e.loadVolume(m.Source)
			if errdefs.IsNotFound(err) {
				break // removed since: the root filesystem's directory is all there is
			}
			if err != nil {
				return err
			}
			dir, err := e.mountVolume(v)
			if err != nil {
				return err
			}
			if o := m.VolumeOptions; o != nil && o.Subpath != "" {
				if dir, err = securejoin.SecureJoin(dir, o.Subpath); err != nil {
					return err
				}
			}
			fm.source = dir
		}
		if fm.source != "" {
			// The user's own path, or rrun's: its symlinks are the host's.
			real, err := filepath.EvalSymlinks(fm.source)
			var fi os.FileInfo
			if err == nil {
				fi, err = os.Stat(real)
			}
			switch {
			case err != nil:
				fm.source = "" // a missing source: seen in the root filesystem
			default:
				fm.source, fm.file = real, !fi.IsDir()
			}
		}
		out = append(out, fm)
		return nil
	}
	for _, b := range c.HostConfig.Binds {
		m, err := oci.ParseBind(b)
		if err != nil {
			return nil, err
		}
		if err := add(m); err != nil {
			return nil, err
		}
	}
	for _, m := range c.HostConfig.Mounts {
		if err := add(m); err != nil {
			return nil, err
		}
	}
	for dst := range c.HostConfig.Tmpfs {
		if err := add(mount.Mount{Type: mount.TypeTmpfs, Target: dst}); err != nil {
			return nil, err
		}
	}
	// The image's VOLUMEs that nothing above covers are anonymous volumes.
	for dst := range c.Config.Volumes {
		if !covered[filepath.Clean(dst)] {
			if err := add(mount.Mount{Type: mount.TypeVolume, Target: dst}); err != nil {
				return nil, err
			}
		}
	}
	// The /etc files a start writes into the container's directory.
	dir, err := e.containerDir(c.ID)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"hosts", "hostname", "resolv.conf"} {
		target := "/etc/" + name
		if !covered[target] {
			if err := add(mount.Mount{Type: mount.TypeBind, Source: filepath.Join(dir, name), Target: target, ReadOnly: c.HostConfig.ReadonlyRootfs}); err != nil {
				return nil, err
			}
		}
	}
	slices.SortStableFunc(out, func(a, b fsMount) int { return len(b.target) - len(a.target) })
	return out, nil
}

// volumeAt is the bind or volume mount a clean container path is at or
// under, if any (docker's checkIfPathIsInAVolume: tmpfs mounts do not
// count).
func (fs *containerFS) volumeAt(p string) (fsMount, bool) {
	for _, m := range fs.mounts {
		if m.volume && (p == m.target || strings.HasPrefix(p, m.target+"/")) {
			return m, true
		}
	}
	return fsMount{}, false
}

// view picks the directory a clean absolute container path is resolved
// in, and returns the path relative to it (still absolute, "/…"). A mount
// the view cannot reach (a tmpfs) hides nothing: what is under it is
// resolved in the mount or root filesystem below.
func (fs *containerFS) view(p string) (fsView, string) {
	for _, m := range fs.mounts {
		switch {
		case m.source == "":
		case m.file && p == m.target:
			return fsView{root: filepath.Dir(m.source), prefix: filepath.Dir(m.target)}, "/" + filepath.Base(m.source)
		case !m.file && (p == m.target || strings.HasPrefix(p, m.target+"/")):
			return fsView{root: m.source, prefix: m.target}, "/" + strings.TrimPrefix(strings.TrimPrefix(p, m.target), "/")
		}
	}
	return fsView{root: fs.root, prefix: "/"}, p
}

// containerPath is the container path of a host path inside view v.
func (v fsView) containerPath(hostPath string) string {
	rel, err := filepath.Rel(v.root, hostPath)
	if err != nil || rel == "." {
		return v.prefix
	}
	return filepath.Join(v.prefix, rel)
}

// resolvedPath is a container path resolved on the host.
type resolvedPath struct {
	view fsView
	host string // the host path
	abs  string // the container path asked for, absolute, keeping a trailing "/" or "/."
}

// resolvePath resolves a container path as docker's ResolvePath does:
// every symlink before the last element is followed, inside the
// container; the last element is left alone unless the path ends in "/"
// or "/.".
func (fs *containerFS) resolvePath(path string) (resolvedPath, error) {
	rp := resolvedPath{abs: archive.PreserveTrailingDotOrSeparator(filepath.Join("/", path), path)}
	v, rel := fs.view(filepath.Clean(rp.abs))
	rp.view = v
	rel = archive.PreserveTrailingDotOrSeparator(rel, rp.abs)
	dir, base := filepath.Split(rel)
	resolvedDir, err := securejoin.SecureJoin(v.root, dir)
	if err != nil {
		return rp, err
	}
	rp.host = resolvedDir + string(filepath.Separator) + base
	return rp, nil
}

// resolveFully resolves every element of a container path, the last one
// too, inside the container (docker's GetResourcePath).
func (fs *containerFS) resolveFully(path string) (fsView, string, error) {
	v, rel := fs.view(filepath.Clean(filepath.Join("/", path)))
	resolved, err := securejoin.SecureJoin(v.root, rel)
	return v, resolved, err
}

// stat is docker's stat of a resolved path: its lstat, with a symlink's
// target fully resolved inside the container.
func (fs *containerFS) stat(rp resolvedPath) (*container.PathStat, error) {
	fi, err := os.Lstat(rp.host)
	if err != nil {
		return nil, err
	}
	st := &container.PathStat{
		Name:  filepath.Base(rp.abs),
		Size:  fi.Size(),
		Mode:  fi.Mode(),
		Mtime: fi.ModTime(),
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		v, target, err := fs.resolveFully(rp.abs)
		if err != nil {
			return nil, err
		}
		st.LinkTarget = v.containerPath(target)
	}
	return st, nil
}

// tar archives a resolved path, its entries named after the last element
// of the path asked for, as docker's TarResourceRebase does, from inside
// the view's root.
func (fs *containerFS) tar(rp resolvedPath) (io.ReadCloser, error) {
	root := rp.view.root
	if fi, err := os.Lstat(rp.host); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		// containers/storage's tar will not start its walk at a symlink.
		return symlinkTar(rp, fi)
	}
	dir, base := archive.SplitPathDirEntry(rp.host)
	if filepath.Clean(rp.host) == root && base != "." {
		// The root of the view itself ("/", or a volume's mount point):
		// its contents, under the name asked for.
		dir, base = root, "."
	}
	return chrootarchive.Tar(dir, &archive.TarOptions{
		Compression:      archive.Uncompressed,
		IncludeFiles:     []string{base},
		IncludeSourceDir: true,
		RebaseNames:      map[string]string{base: filepath.Base(rp.abs)},
	}, root)
}

// symlinkTar archives the symlink at a resolved path: one entry, named
// after the path asked for.
func symlinkTar(rp resolvedPath, fi os.FileInfo) (io.ReadCloser, error) {
	target, err := os.Readlink(rp.host)
	if err != nil {
		return nil, err
	}
	hdr, err := archive.FileInfoHeader(filepath.Base(rp.abs), fi, target)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return io.NopCloser(&buf), nil
}

// untar extracts content into dir, a resolved directory of view v, from
// inside the view's root.
func (fs *containerFS) untar(v fsView, dir string, content io.Reader, opts *archive.TarOptions) error {
	return chrootError(chrootarchive.UntarWithRoot(content, dir, opts, v.root))
}

// chrootError is the message of chrootarchive's helper, which it wraps in
// "unpacking failed (error: exit status 1; output: MESSAGE)": the
// message alone is what docker shows (say, "cannot overwrite directory
// … with non-directory …").
func chrootError(err error) error {
	if err == nil {
		return nil
	}
	_, msg, ok := strings.Cut(err.Error(), "; output: ")
	msg = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(msg), ")"))
	if !ok || msg == "" {
		return err
	}
	return errors.New(msg)
}

// fileNotFound is docker's error for a path missing in a container.
func fileNotFound(path string, c *Container) error {
	return errdefs.ErrNotFound.WithMessage(fmt.Sprintf("Could not find the file %s in container %s", path, c.Name))
}
