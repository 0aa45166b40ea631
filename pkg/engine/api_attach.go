package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
)

// StartStreaming is StartAttached for the API server: it starts the
// container with the client attached before its first instruction runs,
// returns once the container's process runs, and gives a function that
// streams until the container exits (its exit code) or the client
// detaches. The API answers the start request in between.
func (e *Engine) StartStreaming(ctx context.Context, ref string, s AttachStreams) (func() (int, error), error) {
	hello := attachHello{Stdin: s.Stdin != nil, Stdout: s.Stdout != nil, Stderr: s.Stderr != nil}
	_, conn, err := e.start(ctx, ref, &hello)
	if err != nil {
		return nil, err
	}
	if conn == nil {
		return nil, fmt.Errorf("starting %s: the monitor did not take the attach", ref)
	}
	return func() (int, error) { return conn.stream(s) }, nil
}

// ExecStreaming is Exec for the API server: it returns once the process
// runs, with its pid and a function that streams it until it exits (its
// exit code). For opts.Detach the stream function returns 0 at once.
func (e *Engine) ExecStreaming(ctx context.Context, ref string, opts ExecOptions, s AttachStreams) (int, func() (int, error), error) {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return 0, nil, err
	}
	if len(opts.Cmd) == 0 {
		return 0, nil, errdefs.ErrInvalidArgument.WithMessage("no exec command specified")
	}
	st, err := e.currentState(c.ID)
	if err != nil {
		return 0, nil, err
	}
	if st.Status != container.StateRunning {
		return 0, nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf("container %s is not running", c.ID))
	}
	hello := attachHello{Stdin: s.Stdin != nil, Stdout: s.Stdout != nil, Stderr: s.Stderr != nil, Exec: &opts}
	conn, err := e.dialAttach(c.ID, hello)
	if err != nil {
		return 0, nil, fmt.Errorf("reaching the monitor of %s: %w", c.Name, err)
	}
	kind, payload, err := readFrame(conn.r)
	if err != nil {
		conn.conn.Close()
		return 0, nil, fmt.Errorf("exec in %s: the monitor hung up: %w", c.Name, err)
	}
	switch kind {
	case frameExecError:
		conn.conn.Close()
		return 0, nil, parseStartError(string(payload))
	case frameExecStarted:
	default:
		conn.conn.Close()
		return 0, nil, fmt.Errorf("exec in %s: unexpected answer from the monitor", c.Name)
	}
	pid, _ := strconv.Atoi(string(payload))
	e.emit(containerEvent(events.Action("exec_start: "+strings.Join(opts.Cmd, " ")), c))
	if opts.Detach {
		conn.conn.Close()
		return pid, func() (int, error) { return 0, nil }, nil
	}
	return pid, func() (int, error) { return conn.stream(s) }, nil
}

// ResizeTTY sets the terminal size of a running container (docker's
// POST /containers/{id}/resize) through its monitor, as an attach
// client's resize frame does. A container without a TTY ignores it.
func (e *Engine) ResizeTTY(ctx context.Context, ref string, height, width uint16) error {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return err
	}
	st, err := e.currentState(c.ID)
	if err != nil {
		return err
	}
	if st.Status != container.StateRunning {
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("Container %s is not running", c.ID))
	}
	conn, err := e.dialAttach(c.ID, attachHello{})
	if err != nil {
		return fmt.Errorf("reaching the monitor of %s: %w", c.Name, err)
	}
	defer conn.conn.Close()
	var b [4]byte
	binary.BigEndian.PutUint16(b[:2], width) // the protocol's order: width, height
	binary.BigEndian.PutUint16(b[2:], height)
	return writeFrame(conn.conn, frameResize, b[:])
}
