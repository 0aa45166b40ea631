package apisvc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"

	"github.com/rrun/rrun/pkg/engine"
)

// execRetention is how long a finished exec stays inspectable.
const execRetention = 10 * time.Minute

// execEntry is one exec instance of the server's table.
type execEntry struct {
	id, containerID string
	cfg             container.ExecCreateRequest
	detachKeys      []byte

	mu       sync.Mutex
	started  bool
	running  bool
	pid      int
	exitCode *int
	ended    time.Time
	resize   chan [2]uint16
}

func newExecID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Server) lookupExec(id string) (*execEntry, error) {
	ss := s.streams()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ex := ss.execs[id]; ex != nil {
		return ex, nil
	}
	return nil, notFound("No such exec instance: " + id)
}

// createExec serves POST /containers/{id}/exec.
func (s *Server) createExec(w http.ResponseWriter, r *http.Request) error {
	var req container.ExecCreateRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	c, err := s.eng.Inspect(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if len(req.Cmd) == 0 {
		return invalid("No exec command specified")
	}
	switch {
	case c.State == nil || !c.State.Running:
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("container %s is not running", c.ID))
	case c.State.Paused:
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("container %s is paused, unpause the container before exec", c.ID))
	case c.State.Restarting:
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("container %s is restarting, wait until the container is running", c.ID))
	}
	keys, err := parseDetachKeys(req.DetachKeys)
	if err != nil {
		return err
	}
	ex := &execEntry{id: newExecID(), containerID: c.ID, cfg: req, detachKeys: keys}
	ss := s.streams()
	ss.mu.Lock()
	for id, old := range ss.execs {
		old.mu.Lock()
		stale := !old.ended.IsZero() && time.Since(old.ended) > execRetention
		old.mu.Unlock()
		if stale {
			delete(ss.execs, id)
		}
	}
	ss.execs[ex.id] = ex
	ss.mu.Unlock()
	return writeJSON(w, http.StatusCreated, container.ExecCreateResponse{ID: ex.id})
}

// begin marks the exec started, once.
func (ex *execEntry) begin() error {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.running {
		return errdefs.ErrConflict.WithMessage("Error: Exec command " + ex.id + " is already running")
	}
	if ex.started {
		return errdefs.ErrConflict.WithMessage("Error: Exec command " + ex.id + " has already run")
	}
	ex.started, ex.running = true, true
	ex.resize = make(chan [2]uint16, 8)
	return nil
}

func (ex *execEntry) setPid(pid int) {
	ex.mu.Lock()
	ex.pid = pid
	ex.mu.Unlock()
}

func (ex *execEntry) finish(code int) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	ex.running = false
	ex.exitCode = &code
	ex.ended = time.Now()
}

// exitOf is the exit code docker records for an exec that ended with err.
func exitOf(code int, err error) int {
	var se *engine.StartError
	switch {
	case errors.As(err, &se):
		return se.ExitCode
	case err != nil && code < 0:
		return 126
	}
	return code
}

func (ex *execEntry) options(detach bool) engine.ExecOptions {
	return engine.ExecOptions{
		Cmd: ex.cfg.Cmd, Env: ex.cfg.Env, User: ex.cfg.User, WorkingDir: ex.cfg.WorkingDir,
		Tty: ex.cfg.Tty, Privileged: ex.cfg.Privileged, Detach: detach,
	}
}

// startExec serves POST /exec/{id}/start: detached, it answers 200 once
// the process runs; otherwise the connection is hijacked as for an attach
// and carries the process's stdio until it exits.
func (s *Server) startExec(w http.ResponseWriter, r *http.Request) error {
	var req container.ExecStartRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	ex, err := s.lookupExec(r.PathValue("id"))
	if err != nil {
		return err
	}
	c, err := s.eng.Inspect(r.Context(), ex.containerID)
	if err != nil {
		return err
	}
	if c.State == nil || !c.State.Running {
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("container %s is not running", c.ID))
	}
	if err := ex.begin(); err != nil {
		return err
	}
	size := ex.cfg.ConsoleSize
	if req.ConsoleSize != nil {
		size = req.ConsoleSize
	}
	if ex.cfg.Tty && size != nil && size[0] > 0 && size[1] > 0 {
		ex.resize <- [2]uint16{uint16(size[1]), uint16(size[0])}
	}
	if req.Detach {
		// Streams nobody reads: the server still learns the exit code.
		pid, stream, err := s.eng.ExecStreaming(r.Context(), ex.containerID, ex.options(false), engine.AttachStreams{Resize: ex.resize})
		if err != nil {
			ex.finish(exitOf(-1, err))
			return startStatus(err)
		}
		ex.setPid(pid)
		go func() {
			code, err := stream()
			ex.finish(exitOf(code, err))
		}()
		w.WriteHeader(http.StatusOK)
		return nil
	}
	tty := ex.cfg.Tty
	conn, in, err := hijackStream(w, r, !tty)
	if err != nil {
		ex.finish(126)
		return err
	}
	defer conn.Close()
	streams := streamsFor(conn, in, ex.cfg.AttachStdin, ex.cfg.AttachStdout, ex.cfg.AttachStderr, tty)
	streams.Resize = ex.resize
	if tty {
		streams.DetachKeys = ex.detachKeys
	}
	pid, stream, err := s.eng.ExecStreaming(context.Background(), ex.containerID, ex.options(false), streams)
	if err != nil {
		// As dockerd: the error goes down the stream, the code to inspect.
		ex.finish(exitOf(-1, err))
		var out io.Writer = conn
		if !tty {
			out = streamsFor(conn, nil, false, true, false, false).Stdout
		}
		_, _ = io.WriteString(out, err.Error()+"\r\n")
		return nil
	}
	ex.setPid(pid)
	code, err := stream()
	if errors.Is(err, engine.ErrDetached) {
		// The process runs on; nothing will report its exit here.
		return nil
	}
	ex.finish(exitOf(code, err))
	return nil
}

// inspectExec serves GET /exec/{id}/json.
func (s *Server) inspectExec(w http.ResponseWriter, r *http.Request) error {
	ex, err := s.lookupExec(r.PathValue("id"))
	if err != nil {
		return err
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	pc := &container.ExecProcessConfig{Tty: ex.cfg.Tty, Entrypoint: ex.cfg.Cmd[0], Arguments: ex.cfg.Cmd[1:], User: ex.cfg.User}
	if ex.cfg.Privileged {
		priv := true
		pc.Privileged = &priv
	} else {
		priv := false
		pc.Privileged = &priv
	}
	out := container.ExecInspectResponse{
		ID: ex.id, Running: ex.running, ExitCode: ex.exitCode, ProcessConfig: pc,
		OpenStdin: ex.cfg.AttachStdin, OpenStdout: ex.cfg.AttachStdout, OpenStderr: ex.cfg.AttachStderr,
		ContainerID: ex.containerID, DetachKeys: ex.detachKeys, Pid: ex.pid,
	}
	return writeJSON(w, http.StatusOK, out)
}

// resizeExec serves POST /exec/{id}/resize?h=&w=.
func (s *Server) resizeExec(w http.ResponseWriter, r *http.Request) error {
	height, width, err := sizeParams(r)
	if err != nil {
		return err
	}
	ex, err := s.lookupExec(r.PathValue("id"))
	if err != nil {
		return err
	}
	ex.mu.Lock()
	running, ch := ex.running, ex.resize
	ex.mu.Unlock()
	if !running {
		return errdefs.ErrConflict.WithMessage("Exec " + ex.id + " is not running")
	}
	select {
	case ch <- [2]uint16{width, height}:
	default:
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// execRoutes are the /exec routes (listed with the container routes).
func (s *Server) execRoutes() []route {
	return []route{
		{"POST", "/containers/{id}/exec", s.createExec},
		{"POST", "/exec/{id}/start", s.startExec},
		{"GET", "/exec/{id}/json", s.inspectExec},
		{"POST", "/exec/{id}/resize", s.resizeExec},
		{"POST", "/containers/{id}/attach", s.attachContainer},
		{"POST", "/containers/{id}/resize", s.resizeContainer},
	}
}
