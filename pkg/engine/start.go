package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
)

// Start starts a created or exited container by launching its monitor,
// and returns once the container's process runs (or failed to start).
// A running container is not an error: docker answers 304, as errdefs'
// not-modified class says.
func (e *Engine) Start(ctx context.Context, ref string) error {
	_, conn, err := e.start(ctx, ref, nil)
	if conn != nil {
		conn.conn.Close()
	}
	return err
}

// StartAttached starts the container with a client attached before its
// first instruction runs, and streams until it exits; it returns the exit
// code (as `rrun run` and `rrun start -a` do).
func (e *Engine) StartAttached(ctx context.Context, ref string, s AttachStreams) (int, error) {
	hello := attachHello{Stdin: s.Stdin != nil, Stdout: s.Stdout != nil, Stderr: s.Stderr != nil}
	_, conn, err := e.start(ctx, ref, &hello)
	if err != nil {
		return -1, err
	}
	return conn.stream(s)
}

func (e *Engine) start(ctx context.Context, ref string, attach *attachHello) (*Container, *attachConn, error) {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return nil, nil, err
	}
	unlock, err := e.lockStart(c.ID)
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	st, err := e.currentState(c.ID)
	if err != nil {
		return nil, nil, err
	}
	switch st.Status {
	case container.StateRunning, container.StateRestarting:
		return c, nil, errdefs.ErrNotModified.WithMessage("container " + c.Name + " is already running")
	case container.StatePaused:
		return c, nil, errdefs.ErrConflict.WithMessage("cannot start a paused container, try unpause instead")
	}

	args, err := json.Marshal(monitorArgs{ID: c.ID, Options: e.opts, AttachFirst: attach != nil})
	if err != nil {
		return nil, nil, err
	}
	report, r, err := e.handToSupervisor(args)
	if err != nil {
		return nil, nil, fmt.Errorf("starting %s: %w", c.Name, err)
	}
	defer report.Close()
	var conn *attachConn
	for {
		line, err := r.ReadString('\n')
		line = strings.TrimSpace(line)
		switch {
		case line == "listening" && attach != nil:
			if conn, err = e.dialAttach(c.ID, *attach); err != nil {
				return nil, nil, fmt.Errorf("attaching to %s: %w", c.Name, err)
			}
		case strings.HasPrefix(line, "ok "):
			return c, conn, nil
		case strings.HasPrefix(line, "error "):
			if conn != nil {
				conn.conn.Close()
			}
			return nil, nil, parseStartError(strings.TrimPrefix(line, "error "))
		case err != nil:
			if conn != nil {
				conn.conn.Close()
			}
			return nil, nil, fmt.Errorf("the monitor of %s ended before the container started", c.Name)
		}
	}
}

// handToSupervisor sends a start request and waits for the first byte of
// the answer. A supervisor that was just leaving (idle) may close the
// connection unanswered: then the request goes to a new one, once.
func (e *Engine) handToSupervisor(args []byte) (net.Conn, *bufio.Reader, error) {
	for attempt := 0; ; attempt++ {
		conn, err := e.dialSupervisor()
		if err != nil {
			return nil, nil, err
		}
		if _, err = conn.Write(append(args, '\n')); err == nil {
			r := bufio.NewReader(conn)
			if _, err = r.Peek(1); err == nil {
				return conn, r, nil
			}
		}
		conn.Close()
		if attempt == 1 {
			return nil, nil, fmt.Errorf("rrun's supervisor did not answer: %w", err)
		}
		time.Sleep(50 * time.Millisecond) // let the leaving one remove its socket
	}
}

func parseStartError(s string) error {
	codeText, msg, _ := strings.Cut(s, " ")
	code, err := strconv.Atoi(codeText)
	if err != nil {
		return errors.New(s)
	}
	return &StartError{ExitCode: code, Msg: msg}
}

// Attach connects to a running container's streams until it exits or the
// client detaches.
func (e *Engine) Attach(ctx context.Context, ref string, s AttachStreams) (int, error) {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return -1, err
	}
	st, err := e.currentState(c.ID)
	if err != nil {
		return -1, err
	}
	if st.Status != container.StateRunning {
		return -1, errdefs.ErrConflict.WithMessage("You cannot attach to a stopped container, start it first")
	}
	conn, err := e.dialAttach(c.ID, attachHello{Stdin: s.Stdin != nil, Stdout: s.Stdout != nil, Stderr: s.Stderr != nil})
	if err != nil {
		return -1, fmt.Errorf("attaching to %s: %w", c.Name, err)
	}
	return conn.stream(s)
}

// waitExited polls until the container is no longer running, or limit.
func (e *Engine) waitExited(id string, limit time.Duration) (*State, bool) {
	deadline := time.Now().Add(limit)
	for {
		st, err := e.currentState(id)
		if err == nil && st.Status != container.StateRunning && st.Status != container.StateRestarting && st.Status != container.StatePaused {
			return st, true
		}
		if time.Now().After(deadline) {
			return st, false
		}
		time.Sleep(10 * time.Millisecond)
	}
}
