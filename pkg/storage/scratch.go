package storage

import (
	"fmt"
	"os"
	"path/filepath"

	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"
)

// scratchDirName, in the graph root, holds archives and layers while they
// are spooled for save, load and import. It lives on the store's
// filesystem, which has room for images, unlike a tmpfs /tmp; and it is
// the user's, so a failed command leaves nothing in a shared directory.
const scratchDirName = "rrun-tmp"

// scratchDir creates a private directory for one operation; the caller
// removes it.
func (s *Store) scratchDir(pattern string) (string, error) {
	parent := filepath.Join(s.GraphRoot(), scratchDirName)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", fmt.Errorf("creating scratch directory: %w", err)
	}
	dir, err := os.MkdirTemp(parent, pattern)
	if err != nil {
		return "", fmt.Errorf("creating scratch directory: %w", err)
	}
	return dir, nil
}

// fdPath names an open file through /proc, so that containers/image,
// which rejects archive paths with a colon, accepts any user path.
func fdPath(f *os.File) string { return fmt.Sprintf("/proc/self/fd/%d", f.Fd()) }

// localCopyContext is the system context and signature policy for copies
// between the store and local archives; big temporary files go to the
// scratch directory. The caller destroys the policy.
func (s *Store) localCopyContext() (*types.SystemContext, *signature.PolicyContext, error) {
	sys, err := s.systemContext("", RegistryOptions{})
	if err != nil {
		return nil, nil, err
	}
	sys.BigFilesTemporaryDir = filepath.Join(s.GraphRoot(), scratchDirName)
	if err := os.MkdirAll(sys.BigFilesTemporaryDir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("creating scratch directory: %w", err)
	}
	policy, err := policyContext(sys)
	if err != nil {
		return nil, nil, err
	}
	return sys, policy, nil
}
