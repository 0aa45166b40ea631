package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/idtools"
)

// The container archive API, docker's /containers/{id}/archive: HEAD
// stats a path, GET archives it, PUT extracts a tar archive into a
// directory. `rrun cp` (cp.go) is built on these three, as docker's CLI
// is on the endpoints.

// ExtractOptions are docker's PUT /containers/{id}/archive parameters.
type ExtractOptions struct {
	// AllowOverwriteDirWithFile lets a file replace a directory and a
	// directory a file.
	AllowOverwriteDirWithFile bool
	// CopyUIDGID keeps the owners recorded in the archive; without it
	// everything extracted belongs to the container's root (0:0).
	CopyUIDGID bool
}

// ContainerStatPath describes a path in a container, as docker's HEAD
// /containers/{id}/archive does.
func (e *Engine) ContainerStatPath(ctx context.Context, name, path string) (*container.PathStat, error) {
	c, err := e.lookupContainer(name)
	if err != nil {
		return nil, err
	}
	return e.statPath(c, path)
}

func (e *Engine) statPath(c *Container, path string) (*container.PathStat, error) {
	fs, err := e.openContainerFS(c)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	rp, err := fs.resolvePath(path)
	if err != nil {
		return nil, pathError(err, path, c)
	}
	st, err := fs.stat(rp)
	if err != nil {
		return nil, pathError(err, path, c)
	}
	return st, nil
}

// ContainerArchivePath archives a path of a container as a tar stream, as
// docker's GET /containers/{id}/archive does; entries are named after
// the path's last element. The caller closes the stream.
func (e *Engine) ContainerArchivePath(ctx context.Context, name, path string) (io.ReadCloser, *container.PathStat, error) {
	c, err := e.lookupContainer(name)
	if err != nil {
		return nil, nil, err
	}
	return e.archivePath(c, path)
}

func (e *Engine) archivePath(c *Container, path string) (io.ReadCloser, *container.PathStat, error) {
	fs, err := e.openContainerFS(c)
	if err != nil {
		return nil, nil, err
	}
	rp, err := fs.resolvePath(path)
	var st *container.PathStat
	if err == nil {
		st, err = fs.stat(rp)
	}
	if err != nil {
		fs.Close()
		return nil, nil, pathError(err, path, c)
	}
	content, err := fs.tar(rp)
	if err != nil {
		fs.Close()
		return nil, nil, pathError(err, path, c)
	}
	e.emit(containerEvent(events.ActionArchivePath, c))
	return &closeAfter{ReadCloser: content, after: fs.Close}, st, nil
}

// ContainerExtractToDir extracts a tar archive (plain or compressed) into
// a directory of a container, as docker's PUT /containers/{id}/archive
// does. A symlink at path is followed, inside the container.
func (e *Engine) ContainerExtractToDir(ctx context.Context, name, path string, opts ExtractOptions, content io.Reader) error {
	c, err := e.lookupContainer(name)
	if err != nil {
		return err
	}
	return e.extractToDir(c, path, opts, content)
}

func (e *Engine) extractToDir(c *Container, path string, opts ExtractOptions, content io.Reader) error {
	fs, err := e.openContainerFS(c)
	if err != nil {
		return err
	}
	defer fs.Close()
	v, dir, err := fs.resolveFully(path)
	if err != nil {
		return pathError(err, path, c)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return pathError(err, path, c)
	}
	if !fi.IsDir() {
		return errdefs.ErrInvalidArgument.WithMessage("extraction point is not a directory")
	}
	// Only volumes may be written to in a container with a read-only
	// root filesystem, and only writable ones.
	m, inVolume := fs.volumeAt(v.containerPath(dir))
	switch {
	case inVolume && m.readOnly:
		return errdefs.ErrInvalidArgument.WithMessage("mounted volume is marked read-only")
	case !inVolume && c.HostConfig.ReadonlyRootfs:
		return errdefs.ErrInvalidArgument.WithMessage("container rootfs is marked read-only")
	}
	tarOpts := &archive.TarOptions{
		NoOverwriteDirNonDir: !opts.AllowOverwriteDirWithFile,
		InUserNS:             true,
	}
	if !opts.CopyUIDGID {
		tarOpts.ChownOpts = &idtools.IDPair{UID: 0, GID: 0}
	}
	if err := fs.untar(v, dir, content, tarOpts); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fileNotFound(path, c)
		}
		return err // the archive's own words, as docker gives them
	}
	e.emit(containerEvent(events.ActionExtractToDir, c))
	return nil
}

// pathError is docker's error for a path of a container that does not
// exist; other errors keep their words.
func pathError(err error, path string, c *Container) error {
	if errors.Is(err, os.ErrNotExist) {
		return fileNotFound(path, c)
	}
	return fmt.Errorf("%s:%s: %w", c.Name, path, err)
}

// closeAfter runs after once the stream is closed.
type closeAfter struct {
	io.ReadCloser
	after func()
}

func (c *closeAfter) Close() error {
	err := c.ReadCloser.Close()
	if c.after != nil {
		c.after()
		c.after = nil
	}
	return err
}
