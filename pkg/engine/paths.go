package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/rrun/rrun/pkg/rootless"
)

// DefaultRoot is where images and containers are stored:
// $XDG_DATA_HOME/rrun/storage, by default ~/.local/share/rrun/storage.
func DefaultRoot() (string, error) {
	if dir := os.Getenv("XDG_DATA_HOME"); dir != "" {
		return filepath.Join(dir, "rrun", "storage"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the home directory for the storage: %w (set HOME or XDG_DATA_HOME, or pass --root)", err)
	}
	return filepath.Join(home, ".local", "share", "rrun", "storage"), nil
}

// DefaultRunRoot is where run-time state lives, cleared by a reboot:
// $XDG_RUNTIME_DIR/rrun, or /tmp/rrun-$UID when there is no runtime dir.
func DefaultRunRoot() string {
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		return filepath.Join(dir, "rrun")
	}
	return filepath.Join(os.TempDir(), "rrun-"+strconv.Itoa(rootless.HostUID()))
}

// ensurePrivateDir creates dir with mode 0700 and refuses one that another
// user owns or that others can enter: state there controls the user's
// containers, and /tmp is shared.
func ensurePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !st.IsDir() || !ok || int(sys.Uid) != os.Getuid() {
		return fmt.Errorf("%s is not a directory owned by the current user: remove it or pass --runroot", dir)
	}
	if st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("making %s private: %w", dir, err)
		}
	}
	return nil
}
