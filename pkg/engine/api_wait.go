package engine

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
)

// WaitResult is what a wait condition ends with: the exit code of the
// container's last run and the error its state records, if any.
type WaitResult struct {
	ExitCode int
	Error    string
}

// WaitFor prepares docker's POST /containers/{id}/wait: it resolves the
// container and notes its state now (an unknown container fails here,
// before the caller answers), and returns a function that blocks until the
// condition holds or ctx ends. The conditions are docker's: "not-running"
// (or ""), "next-exit" (the next exit from now on, even if the container
// has not started yet) and "removed".
func (e *Engine) WaitFor(ctx context.Context, ref string, condition container.WaitCondition) (func(context.Context) (WaitResult, error), error) {
	switch condition {
	case "", container.WaitConditionNotRunning, container.WaitConditionNextExit, container.WaitConditionRemoved:
	default:
		return nil, errdefs.ErrInvalidArgument.WithMessage("invalid condition: " + string(condition))
	}
	c, err := e.lookupContainer(ref)
	if err != nil {
		return nil, err
	}
	initial, err := e.loadState(c.ID)
	if err != nil {
		return nil, err
	}
	since := time.Now()
	return func(ctx context.Context) (WaitResult, error) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		// The monitor records the exit, then emits "die" with the code: the
		// event outlives a container an --rm monitor removes at once.
		var mu sync.Mutex
		var died *WaitResult
		go func() {
			_ = e.Events(ctx, EventsOptions{Since: since, Filters: map[string][]string{"container": {c.ID}, "event": {string(events.ActionDie)}}}, func(m events.Message) error {
				code, _ := strconv.Atoi(m.Actor.Attributes["exitCode"])
				mu.Lock()
				died = &WaitResult{ExitCode: code}
				mu.Unlock()
				return nil
			})
		}()
		lastDie := func() *WaitResult {
			mu.Lock()
			defer mu.Unlock()
			return died
		}
		last := WaitResult{ExitCode: initial.ExitCode}
		for {
			st, err := e.currentState(c.ID)
			if err != nil {
				if _, lerr := e.lookupContainer(c.ID); errdefs.IsNotFound(lerr) {
					// Removed: that ends every condition.
					if d := lastDie(); d != nil {
						return *d, nil
					}
					if d := e.recordedDie(c.ID, since); d != nil {
						return *d, nil
					}
					return last, nil
				}
				return WaitResult{ExitCode: -1}, err
			}
			if !isRunning(st) {
				last = WaitResult{ExitCode: st.ExitCode, Error: st.Error}
			}
			switch condition {
			case "", container.WaitConditionNotRunning:
				if !isRunning(st) {
					return last, nil
				}
			case container.WaitConditionNextExit:
				if !isRunning(st) && !st.FinishedAt.Equal(initial.FinishedAt) {
					return last, nil
				}
				if d := lastDie(); d != nil {
					return *d, nil
				}
			}
			select {
			case <-ctx.Done():
				return WaitResult{ExitCode: -1}, ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}, nil
}
