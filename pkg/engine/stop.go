package engine

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"

	"github.com/rrun/rrun/pkg/oci"
)

// defaultStopTimeout is docker's grace period before SIGKILL.
const defaultStopTimeout = 10

// Stop sends the container its stop signal, waits up to timeout seconds
// (nil: its own --stop-timeout, else 10; -1: forever) and then kills it.
// Stopping a stopped container is not an error (docker answers 304).
func (e *Engine) Stop(ctx context.Context, ref string, signal string, timeout *int) error {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return err
	}
	st, err := e.markStopped(c.ID)
	if err != nil {
		return err
	}
	if !isRunning(st) {
		return errdefs.ErrNotModified.WithMessage("container " + c.Name + " is already stopped")
	}
	if signal == "" {
		signal = c.Config.StopSignal
	}
	sig := syscall.SIGTERM
	if signal != "" {
		if sig, err = oci.ParseSignal(signal); err != nil {
			return err
		}
	}
	wait := defaultStopTimeout
	if timeout != nil {
		wait = *timeout
	} else if c.Config.StopTimeout != nil {
		wait = *c.Config.StopTimeout
	}
	if err := signalProcess(st, sig); err != nil {
		return fmt.Errorf("stopping %s: %w", c.Name, err)
	}
	limit := time.Duration(wait) * time.Second
	if wait < 0 {
		limit = 100 * 365 * 24 * time.Hour
	}
	if _, ok := e.waitExited(c.ID, limit); ok {
		e.emit(containerEvent(events.ActionStop, c))
		return nil
	}
	if st, err = e.currentState(c.ID); err == nil && isRunning(st) {
		_ = signalProcess(st, syscall.SIGKILL)
	}
	if _, ok := e.waitExited(c.ID, 10*time.Second); !ok {
		return fmt.Errorf("container %s did not exit after SIGKILL", c.Name)
	}
	e.emit(containerEvent(events.ActionStop, c))
	return nil
}

// Kill sends a signal (default SIGKILL) to a running container.
func (e *Engine) Kill(ctx context.Context, ref string, signal string) error {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return err
	}
	sig := syscall.SIGKILL
	if signal != "" {
		if sig, err = oci.ParseSignal(signal); err != nil {
			return err
		}
	}
	st, err := e.currentState(c.ID)
	if err != nil {
		return err
	}
	if !isRunning(st) {
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("cannot kill container: %s: container %s is not running", ref, c.ID))
	}
	if sig == syscall.SIGKILL || sig == syscall.SIGTERM || sig == syscall.SIGINT {
		// A user's kill is a stop as far as restart policies go.
		if _, err := e.markStopped(c.ID); err != nil {
			return err
		}
	}
	if err := signalProcess(st, sig); err != nil {
		return fmt.Errorf("cannot kill container: %s: %w", ref, err)
	}
	e.emit(containerEvent(events.ActionKill, c, "signal", fmt.Sprint(int(sig))))
	if sig == syscall.SIGKILL {
		e.waitExited(c.ID, 10*time.Second)
	}
	return nil
}

// markStopped records that the user stopped the container, which a
// restart policy must respect, and returns the current state.
func (e *Engine) markStopped(id string) (*State, error) {
	if _, err := e.updateState(id, func(s *State) { s.ManualStop = true }); err != nil {
		return nil, err
	}
	return e.currentState(id)
}

func isRunning(st *State) bool {
	return st.Status == container.StateRunning || st.Status == container.StatePaused || st.Status == container.StateRestarting
}

// signalProcess signals the container's init, after checking that the
// recorded pid is still that process.
func signalProcess(st *State, sig syscall.Signal) error {
	if st.Status == container.StateRestarting || st.Pid == 0 {
		return nil // between runs: the monitor sees ManualStop
	}
	if !processAlive(st.Pid, st.PidStart, st.BootID) {
		return nil
	}
	return syscall.Kill(st.Pid, sig)
}

// Wait blocks until the container is not running (docker's default
// condition "not-running") and returns its exit code.
func (e *Engine) Wait(ctx context.Context, ref string) (int, error) {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return -1, err
	}
	for {
		st, err := e.currentState(c.ID)
		if err != nil {
			return -1, err
		}
		if !isRunning(st) {
			return st.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return -1, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Restart stops the container if it runs and starts it again.
func (e *Engine) Restart(ctx context.Context, ref string, signal string, timeout *int) error {
	err := e.Stop(ctx, ref, signal, timeout)
	if err != nil && !errdefs.IsNotModified(err) {
		return err
	}
	if err := e.Start(ctx, ref); err != nil {
		return err
	}
	if c, err := e.lookupContainer(ref); err == nil {
		e.emit(containerEvent(events.ActionRestart, c))
	}
	return nil
}
