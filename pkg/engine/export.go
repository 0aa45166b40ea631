package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/chrootarchive"
)

// ExportOptions say where `rrun export` writes the archive.
type ExportOptions struct {
	// Output is a file, replaced only once the archive is whole; when
	// empty, the archive goes to Writer.
	Output string
	Writer io.Writer
}

// Export writes a container's root filesystem, flattened, as a tar
// archive, as docker export does: the image's files with the container's
// changes, without its volumes and other mounts. The owners are the
// container's (as its user namespace numbers them).
func (e *Engine) Export(ctx context.Context, name string, opts ExportOptions) error {
	if opts.Output == "" && opts.Writer == nil {
		return errdefs.ErrInvalidArgument.WithMessage("export needs an output file or a writer")
	}
	if opts.Output != "" {
		if err := ValidateOutputPath(opts.Output); err != nil {
			return fmt.Errorf("failed to export container: %w", err)
		}
	}
	c, err := e.lookupContainer(name)
	if err != nil {
		return err
	}
	rootfs, err := e.Images.Containers().Mount(c.ID, "")
	if err != nil {
		return fmt.Errorf("mounting the filesystem of container %s: %w", c.Name, err)
	}
	defer func() { _, _ = e.Images.Containers().Unmount(c.ID, false) }()
	content, err := chrootarchive.Tar(rootfs, &archive.TarOptions{Compression: archive.Uncompressed}, rootfs)
	if err != nil {
		return fmt.Errorf("exporting container %s: %w", c.Name, err)
	}
	defer content.Close()

	if opts.Output == "" {
		if _, err := io.Copy(opts.Writer, content); err != nil {
			return fmt.Errorf("exporting container %s: %w", c.Name, err)
		}
	} else if err := writeFileAtomically(opts.Output, content); err != nil {
		return fmt.Errorf("exporting container %s: %w", c.Name, err)
	}
	e.emit(containerEvent(events.ActionExport, c))
	return nil
}

// writeFileAtomically writes r to a temporary file beside path and renames
// it over path once complete, so that a failed export leaves an earlier
// file as it was (docker's CLI does the same).
func writeFileAtomically(path string, r io.Reader) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".rrun-*")
	if err != nil {
		return err
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name()) // a no-op once renamed
	}()
	if _, err := io.Copy(tmp, r); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
