package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
	"github.com/docker/go-units"
	"go.podman.io/storage/pkg/archive"
)

// `rrun cp` is docker's CLI copy (cli/command/container/cp.go) run over
// the archive API (cp_archive.go): the local side is prepared here with
// the same path rules, the container side by the API. Ownership: files
// copied out belong to the user running rrun (container root in its user
// namespace); files copied in belong to the container's root, 0:0, unless
// CopyUIDGID keeps the owners of the source (as rrun sees them in its
// user namespace: the user's own files are 0:0 there too).

// CopyFromOptions are `rrun cp CONTAINER:PATH DEST`'s.
type CopyFromOptions struct {
	Container string
	Path      string // in the container
	// Destination is a local path, or "-" for a tar archive on Stdout.
	Destination string
	FollowLink  bool // -L: copy what a symlink at Path points to
	Stdout      io.Writer
	// Progress, when set, receives docker's closing summary
	// ("Successfully copied 5.12kB to /tmp/x").
	Progress io.Writer
}

// CopyToOptions are `rrun cp SRC CONTAINER:PATH`'s.
type CopyToOptions struct {
	Container string
	Path      string // in the container
	// Source is a local path, or "-" for a tar archive read from Stdin.
	Source     string
	FollowLink bool // -L: copy what a symlink at Source points to
	CopyUIDGID bool // -a: keep the source's owners
	Stdin      io.Reader
	Progress   io.Writer
}

// CopyFromContainer copies a file or directory out of a container.
func (e *Engine) CopyFromContainer(ctx context.Context, opts CopyFromOptions) error {
	c, err := e.lookupContainer(opts.Container)
	if err != nil {
		return noSuchContainerPath(err, opts.Container, opts.Path)
	}
	dst := opts.Destination
	if dst != "-" {
		if dst, err = localPath(dst); err != nil {
			return err
		}
	}
	if err := ValidateOutputPath(dst); err != nil {
		return err
	}

	// With -L a symlink's target is copied, under the symlink's name.
	srcPath := opts.Path
	var rebaseName string
	if opts.FollowLink {
		if st, err := e.statPath(c, srcPath); err == nil && st.Mode&os.ModeSymlink != 0 {
			target := st.LinkTarget
			if !filepath.IsAbs(target) {
				parent, _ := archive.SplitPathDirEntry(srcPath)
				target = filepath.Join(parent, target)
			}
			srcPath, rebaseName = archive.GetRebaseName(srcPath, target)
		}
	}

	content, st, err := e.archivePath(c, srcPath)
	if err != nil {
		return err
	}
	defer content.Close()
	if dst == "-" {
		_, err := io.Copy(opts.Stdout, content)
		return err
	}

	counted := &countingReader{r: content}
	var tarball io.Reader = counted
	if rebaseName != "" {
		_, srcBase := archive.SplitPathDirEntry(srcPath)
		rebased := archive.RebaseArchiveEntries(tarball, srcBase, rebaseName)
		defer rebased.Close()
		tarball = rebased
	}
	srcInfo := archive.CopyInfo{Path: srcPath, Exists: true, IsDir: st.Mode.IsDir(), RebaseName: rebaseName}
	if err := extractLocally(tarball, srcInfo, dst); err != nil {
		return err
	}
	if opts.Progress != nil {
		size := counted.n
		if !st.Mode.IsDir() {
			size = st.Size
		}
		fmt.Fprint(opts.Progress, copySummary(size, counted.n, dst))
	}
	return nil
}

// CopyToContainer copies a file or directory, or a tar archive's
// contents, into a container.
func (e *Engine) CopyToContainer(ctx context.Context, opts CopyToOptions) error {
	c, err := e.lookupContainer(opts.Container)
	if err != nil {
		return noSuchContainerPath(err, opts.Container, opts.Path)
	}
	src := opts.Source
	if src != "-" {
		if src, err = localPath(src); err != nil {
			return err
		}
	}

	// What the destination is decides how the archive is laid out. A
	// destination that does not exist is fine as long as its parent does.
	dstPath := opts.Path
	dstInfo := archive.CopyInfo{Path: dstPath}
	if st, err := e.statPath(c, dstPath); err == nil {
		if st.Mode&os.ModeSymlink != 0 {
			target := st.LinkTarget
			if !filepath.IsAbs(target) {
				parent, _ := archive.SplitPathDirEntry(dstPath)
				target = filepath.Join(parent, target)
			}
			dstInfo.Path = target
			st, err = e.statPath(c, target)
		}
		if err == nil {
			if err := checkFileMode(st.Mode); err != nil {
				return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("destination \"%s:%s\" must be a directory or a regular file: %v", opts.Container, dstPath, err))
			}
			dstInfo.Exists, dstInfo.IsDir = true, st.Mode.IsDir()
		}
	}

	var (
		content    io.Reader
		extractDir string
		size       int64 = -1
	)
	if src == "-" {
		if !dstInfo.IsDir {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("destination \"%s:%s\" must be a directory", opts.Container, dstPath))
		}
		content, extractDir = opts.Stdin, dstInfo.Path
	} else {
		srcInfo, err := archive.CopyInfoSourcePath(src, opts.FollowLink)
		if err != nil {
			return err
		}
		size, _ = localContentSize(srcInfo.Path)
		tarball, err := archive.TarResource(srcInfo)
		if err != nil {
			return err
		}
		defer tarball.Close()
		dir, prepared, err := archive.PrepareArchiveCopy(tarball, srcInfo, dstInfo)
		if err != nil {
			return err
		}
		defer prepared.Close()
		content, extractDir = prepared, dir
	}
	counted := &countingReader{r: content}
	if err := e.extractToDir(c, extractDir, ExtractOptions{CopyUIDGID: opts.CopyUIDGID}, counted); err != nil {
		return err
	}
	if opts.Progress != nil {
		if size < 0 {
			size = counted.n
		}
		fmt.Fprint(opts.Progress, copySummary(size, counted.n, opts.Container+":"+dstInfo.Path))
	}
	return nil
}

// extractLocally is docker's archive.CopyTo: the archive of srcInfo laid
// out at dstPath by the cp rules. Files are created by rrun, so they
// belong to the user, whatever the archive says.
func extractLocally(content io.Reader, srcInfo archive.CopyInfo, dstPath string) error {
	dstInfo, err := archive.CopyInfoDestinationPath(dstPath)
	if err != nil {
		return err
	}
	dir, prepared, err := archive.PrepareArchiveCopy(content, srcInfo, dstInfo)
	if err != nil {
		return err
	}
	defer prepared.Close()
	return archive.Untar(prepared, dir, &archive.TarOptions{
		NoLchown:             true,
		NoOverwriteDirNonDir: true,
		InUserNS:             true,
	})
}

// noSuchContainerPath is docker's CLI error for cp with a container that
// does not exist.
func noSuchContainerPath(err error, name, path string) error {
	if errdefs.IsNotFound(err) {
		return errdefs.ErrNotFound.WithMessage(fmt.Sprintf("No such container:path: %s:%s", name, path))
	}
	return err
}

// localPath is a local path made absolute, keeping a trailing "/" or "/.".
func localPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return archive.PreserveTrailingDotOrSeparator(abs, p), nil
}

// ValidateOutputPath checks a local path that cp or export writes to, as
// docker's CLI does: its directory must exist, and an existing path must
// be a directory or a regular file.
func ValidateOutputPath(path string) error {
	dir := filepath.Dir(filepath.Clean(path))
	if dir != "" && dir != "." {
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid output path: directory %q does not exist", dir))
		}
	}
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().IsRegular() {
		return nil
	}
	if err := checkFileMode(fi.Mode()); err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid output path: %q must be a directory or a regular file: %v", path, err))
	}
	return nil
}

// checkFileMode refuses devices and irregular files as cp destinations.
func checkFileMode(mode os.FileMode) error {
	switch {
	case mode&os.ModeDevice != 0:
		return errors.New("got a device")
	case mode&os.ModeIrregular != 0:
		return errors.New("got an irregular file")
	}
	return nil
}

// localContentSize is the size of a regular file, or of the regular files
// under a directory.
func localContentSize(path string) (int64, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return -1, err
	}
	if !fi.IsDir() {
		if fi.Mode().IsRegular() {
			return fi.Size(), nil
		}
		return 0, nil
	}
	var total int64
	err = filepath.WalkDir(path, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	return total, err
}

// copySummary is docker's closing line for a copy to or from a terminal.
func copySummary(content, transferred int64, dest string) string {
	if content != transferred {
		return fmt.Sprintf("Successfully copied %s (transferred %s) to %s\n", humanSize(content), humanSize(transferred), dest)
	}
	return fmt.Sprintf("Successfully copied %s to %s\n", humanSize(content), dest)
}

func humanSize(n int64) string { return units.HumanSizeWithPrecision(float64(n), 3) }

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
