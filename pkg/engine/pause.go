package engine

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/opencontainers/runc/libcontainer"

	"github.com/rrun/rrun/pkg/rootless"
)

// Pause freezes every process of a running container with the cgroup
// freezer, which needs a cgroup v2 of the container's own (rootless: with
// systemd delegation). Without one it fails with a failed-precondition
// error that says why.
func (e *Engine) Pause(ctx context.Context, ref string) error {
	return e.freeze(ref, true)
}

// Unpause thaws a paused container.
func (e *Engine) Unpause(ctx context.Context, ref string) error {
	return e.freeze(ref, false)
}

func (e *Engine) freeze(ref string, pause bool) error {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return err
	}
	unlock, err := e.lockContainer(c.ID)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := e.currentState(c.ID)
	if err != nil {
		return err
	}
	// dockerd's checks and messages.
	switch {
	case !isRunning(st):
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("container %s is not running", c.ID))
	case st.Status == container.StateRestarting:
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("Container %s is restarting, wait until the container is running", c.ID))
	case pause && st.Status == container.StatePaused:
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("Container %s is already paused", c.ID))
	case !pause && st.Status != container.StatePaused:
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("Container %s is not paused", c.ID))
	}
	if ownCgroup(procRoot, st.Pid, c.ID) == "" {
		return noFreezer(c)
	}
	lc, err := libcontainer.Load(filepath.Join(e.opts.RunRoot, "runc"), c.ID)
	if err != nil {
		return fmt.Errorf("loading the runtime state of %s: %w", c.Name, err)
	}
	action, status := events.ActionPause, container.StatePaused
	if pause {
		err = lc.Pause()
	} else {
		err = lc.Resume()
		action, status = events.ActionUnPause, container.StateRunning
	}
	if err != nil {
		return fmt.Errorf("cannot %s container %s: %w", action, c.Name, err)
	}
	st.Status = status
	if err := e.saveState(c.ID, st); err != nil {
		return err
	}
	e.emit(containerEvent(action, c))
	return nil
}

// noFreezer explains why the container cannot be frozen here.
func noFreezer(c *Container) error {
	const needs = "pausing containers needs cgroup v2 with systemd delegation; "
	cg := DetectCgroups(rootless.HostUID())
	if cg.Version != "v2" {
		return errdefs.ErrFailedPrecondition.WithMessage(needs + "this host has cgroup " + cg.Version + ": rootless containers cannot be frozen")
	}
	why := cg.Note
	if why == "" {
		why = "it was started without one"
	}
	return errdefs.ErrFailedPrecondition.WithMessage(needs + "container " + c.Name + " has no cgroup of its own: " + why)
}
