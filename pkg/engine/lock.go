package engine

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// lockContainer takes the container's state lock, which serialises
// changes to its state between CLIs, the API server and its monitor; the
// returned function releases it.
func (e *Engine) lockContainer(id string) (func(), error) {
	return e.lockFile(id, "lock")
}

// lockStart serialises starts of one container, so two commands cannot
// launch two monitors. It is held while the monitor starts the container,
// which itself takes the state lock: the two must differ.
func (e *Engine) lockStart(id string) (func(), error) {
	return e.lockFile(id, "start.lock")
}

func (e *Engine) lockFile(id, name string) (func(), error) {
	dir, err := e.containerDir(id)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking container %s: %w", shortID(id), err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking container %s: %w", shortID(id), err)
	}
	return func() { f.Close() }, nil
}

// updateState changes the recorded state under the container's lock.
func (e *Engine) updateState(id string, change func(*State)) (*State, error) {
	unlock, err := e.lockContainer(id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	st, err := e.loadState(id)
	if err != nil {
		return nil, err
	}
	change(st)
	return st, e.saveState(id, st)
}
