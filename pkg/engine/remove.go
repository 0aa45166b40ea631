package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	cstorage "go.podman.io/storage"

	"github.com/rrun/rrun/pkg/usernet"
)

// RemoveOptions are docker rm's flags.
type RemoveOptions struct {
	Force   bool // kill a running container first
	Volumes bool // remove its anonymous volumes too
}

// Remove deletes a container: its writable layer, record, log and
// run-time files. A running one needs Force, as with docker.
func (e *Engine) Remove(ctx context.Context, ref string, opts RemoveOptions) error {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return err
	}
	st, err := e.currentState(c.ID)
	if err != nil {
		return err
	}
	if isRunning(st) {
		if !opts.Force {
			return errdefs.ErrConflict.WithMessage(fmt.Sprintf("cannot remove container %q: container is running: stop the container before removing or force remove", "/"+c.Name))
		}
		if _, err := e.markStopped(c.ID); err != nil {
			return err
		}
		_ = signalProcess(st, syscall.SIGKILL)
		if _, ok := e.waitExited(c.ID, 10*time.Second); !ok {
			return fmt.Errorf("container %s did not exit after SIGKILL", c.Name)
		}
	}
	// Let the monitor finish its clean-up (unmounting) before deleting:
	// it removes the attach socket when done.
	e.waitMonitorDone(c.ID, st, 5*time.Second)
	if err := e.removeStopped(c); err != nil {
		return err
	}
	if opts.Volumes {
		e.removeContainerVolumes(c)
	}
	return nil
}

// removeStopped deletes a container that does not run, and the anonymous
// volumes of an --rm one, as docker's auto-remove does.
func (e *Engine) removeStopped(c *Container) error {
	cs := e.Images.Containers()
	if _, err := cs.Unmount(c.ID, true); err != nil && !errors.Is(err, cstorage.ErrContainerUnknown) && !errors.Is(err, cstorage.ErrLayerUnknown) {
		return fmt.Errorf("unmounting container %s: %w", c.Name, err)
	}
	if err := cs.DeleteContainer(c.ID); err != nil {
		if errors.Is(err, cstorage.ErrContainerUnknown) {
			return nil // removed meanwhile (--rm)
		}
		return fmt.Errorf("removing container %s: %w", c.Name, err)
	}
	_ = usernet.RemoveNS(e.netnsPath(c.ID)) // left by a monitor that died
	_ = os.RemoveAll(e.runDir(c.ID))
	_ = os.RemoveAll(filepath.Join(e.opts.RunRoot, "runc", c.ID))
	e.emit(containerEvent(events.ActionDestroy, c))
	if c.HostConfig.AutoRemove {
		e.removeContainerVolumes(c)
	}
	return nil
}

// waitMonitorDone waits for the container's monitor to have cleaned up,
// or for its supervisor to be gone.
func (e *Engine) waitMonitorDone(id string, st *State, limit time.Duration) {
	sock := filepath.Join(e.runDir(id), attachSocket)
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(sock); err != nil || !processAlive(st.MonitorPid, st.MonitorStart, st.BootID) {
			return
		}
	}
}
