package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	"golang.org/x/sys/unix"
)

// Rename gives a container a new name, as docker rename does: in the
// store's names, which lookups use, and in the container's record, which
// everything shown uses. A running container is renamed too; its
// monitor rereads the record when the container exits.
func (e *Engine) Rename(ctx context.Context, ref, newName string) error {
	newName = strings.TrimPrefix(newName, "/")
	if strings.TrimPrefix(ref, "/") == "" || newName == "" {
		return errdefs.ErrInvalidArgument.WithMessage("Neither old nor new names may be empty")
	}
	if err := checkName(newName); err != nil {
		return err
	}
	c, err := e.lookupContainer(ref)
	if err != nil {
		return err
	}
	unlock, err := e.lockContainer(c.ID)
	if err != nil {
		return err
	}
	defer unlock()
	if c, err = e.loadContainer(c.ID); err != nil {
		return err
	}
	oldName := c.Name
	if newName == oldName {
		return errdefs.ErrInvalidArgument.WithMessage("Renaming a container with the same name as its current name")
	}
	unlockNames, err := e.lockNames()
	if err != nil {
		return err
	}
	defer unlockNames()
	// containers/storage's SetNames takes a name away from any container
	// that has it: check first, under the names lock.
	if _, err := e.Images.Containers().Container(newName); err == nil {
		return e.nameConflict(newName)
	}
	cs := e.Images.Containers()
	if err := cs.SetNames(c.ID, []string{newName}); err != nil {
		return fmt.Errorf("renaming container %s: %w", oldName, err)
	}
	c.Name = newName
	if err := e.saveContainer(c); err != nil {
		_ = cs.SetNames(c.ID, []string{oldName})
		return fmt.Errorf("renaming container %s: %w", oldName, err)
	}
	e.emit(containerEvent(events.ActionRename, c, "oldName", "/"+oldName))
	return nil
}

// lockNames serialises the name changes of rename, as the store does not
// refuse a name another container has.
func (e *Engine) lockNames() (func(), error) {
	f, err := os.OpenFile(filepath.Join(e.opts.RunRoot, "names.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking container names: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking container names: %w", err)
	}
	return func() { f.Close() }, nil
}

// refresh rereads the container's record, which rename and update change
// while the monitor runs, so that the exit is reported under the current
// name and the current restart policy applies.
func (m *monitor) refresh() {
	if c, err := m.e.loadContainer(m.c.ID); err == nil {
		m.c = c
	}
}
