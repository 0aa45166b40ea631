package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/containerd/errdefs"
)

// validVolumeName is docker's rule for volume names.
var validVolumeName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// volumesDir holds named volumes, each NAME/_data as with docker's local
// driver, beside the storage so they survive with it.
func (e *Engine) volumesDir() string { return filepath.Join(e.opts.Root, "volumes") }

// volumePath returns a named volume's directory, creating the volume
// when it does not exist yet (as `docker run -v name:/dst` does).
func (e *Engine) volumePath(name string) (string, error) {
	if !validVolumeName.MatchString(name) {
		return "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("create %s: %q includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed", name, name))
	}
	dir := filepath.Join(e.volumesDir(), name, "_data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating volume %s: %w", name, err)
	}
	return dir, nil
}
