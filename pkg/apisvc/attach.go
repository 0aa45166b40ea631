package apisvc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types"

	"github.com/rrun/rrun/pkg/engine"
)

// pendingAttachTimeout bounds how long an attach to a container that is
// not running waits for its start (docker run attaches, then starts).
var pendingAttachTimeout = 60 * time.Second

// streamState is a server's live attach and exec sessions.
type streamState struct {
	mu sync.Mutex
	// pending: attaches waiting for their container's start, by full id.
	pending map[string][]*pendingAttach
	execs   map[string]*execEntry
}

func newStreamState() *streamState {
	return &streamState{pending: map[string][]*pendingAttach{}, execs: map[string]*execEntry{}}
}

func (s *Server) streams() *streamState { return s.sessions }

// pendingAttach is an attach made before its container started.
type pendingAttach struct {
	streams engine.AttachStreams
	resize  chan [2]uint16
	claimed chan struct{} // closed when a start takes it
	done    chan struct{} // closed when its stream ended
}

// hijackStream takes over the connection and answers as dockerd does:
// 101 UPGRADED when the client asked for an upgrade, a bare 200
// otherwise. The reader holds bytes the server had already buffered.
func hijackStream(w http.ResponseWriter, r *http.Request, multiplexed bool) (net.Conn, *bufio.Reader, error) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, nil, invalid("error attaching: hijack connection missing")
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	var head string
	if _, upgrade := r.Header["Upgrade"]; upgrade {
		contentType := types.MediaTypeRawStream
		if multiplexed && compareVersions(requestVersion(r), "1.42") >= 0 {
			contentType = types.MediaTypeMultiplexedStream
		}
		head = "HTTP/1.1 101 UPGRADED\r\nContent-Type: " + contentType + "\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
	} else {
		head = "HTTP/1.1 200 OK\r\nContent-Type: " + types.MediaTypeRawStream + "\r\n\r\n"
	}
	if _, err := io.WriteString(conn, head); err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, rw.Reader, nil
}

// streamsFor wires a hijacked connection as attach streams: raw output
// for a TTY, docker's multiplexed frames otherwise.
func streamsFor(conn net.Conn, in io.Reader, stdin, stdout, stderr, tty bool) engine.AttachStreams {
	var s engine.AttachStreams
	if stdin {
		s.Stdin = in
	}
	s.Stdout, s.Stderr = streamWriters(conn, tty, stdout, stderr)
	return s
}

// parseDetachKeys reads the detachKeys parameter, with dockerd's error.
func parseDetachKeys(s string) ([]byte, error) {
	keys, ok := engine.ParseDetachKeys(s)
	if !ok {
		return nil, invalid("Invalid detach keys (" + s + ") provided")
	}
	return keys, nil
}

// attachContainer serves POST /containers/{id}/attach with stream=1: the
// connection is hijacked and carries the container's stdio until it
// exits. A container that is not running yet keeps the attach pending
// until its start (docker run attaches first).
func (s *Server) attachContainer(w http.ResponseWriter, r *http.Request) error {
	c, err := s.eng.Inspect(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	st := c.State
	switch {
	case st != nil && st.Paused:
		return errdefs.ErrConflict.WithMessage("You cannot attach to a paused container, unpause it first")
	case st != nil && st.Restarting:
		return errdefs.ErrConflict.WithMessage("You cannot attach to a restarting container, wait until it is running")
	}
	tty := c.Config != nil && c.Config.Tty
	stdin := boolValue(r, "stdin") && c.Config != nil && c.Config.OpenStdin
	var keys []byte
	if tty {
		if keys, err = parseDetachKeys(r.URL.Query().Get("detachKeys")); err != nil {
			return err
		}
	}
	conn, in, err := hijackStream(w, r, !tty)
	if err != nil {
		return err
	}
	defer conn.Close()
	if !boolValue(r, "stream") {
		return nil // logs-only attaches are not served: the stream ends at once
	}
	streams := streamsFor(conn, in, stdin, boolValue(r, "stdout"), boolValue(r, "stderr"), tty)
	streams.DetachKeys = keys
	if st != nil && st.Running {
		_, _ = s.eng.Attach(context.Background(), c.ID, streams)
		return nil
	}
	resize := make(chan [2]uint16, 8)
	streams.Resize = resize
	p := &pendingAttach{streams: streams, resize: resize, claimed: make(chan struct{}), done: make(chan struct{})}
	ss := s.streams()
	ss.mu.Lock()
	ss.pending[c.ID] = append(ss.pending[c.ID], p)
	ss.mu.Unlock()
	timer := time.NewTimer(pendingAttachTimeout)
	defer timer.Stop()
	select {
	case <-p.claimed:
		<-p.done
	case <-timer.C:
		if !ss.dropPending(c.ID, p) {
			<-p.done // a start took it meanwhile
		}
	}
	return nil
}

// dropPending removes p if no start took it yet.
func (ss *streamState) dropPending(id string, p *pendingAttach) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	list := ss.pending[id]
	for i, q := range list {
		if q == p {
			ss.pending[id] = append(list[:i:i], list[i+1:]...)
			if len(ss.pending[id]) == 0 {
				delete(ss.pending, id)
			}
			return true
		}
	}
	return false
}

// takePending claims the attaches waiting for the container's start.
func (ss *streamState) takePending(id string) []*pendingAttach {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	list := ss.pending[id]
	delete(ss.pending, id)
	for _, p := range list {
		close(p.claimed)
	}
	return list
}

func (ss *streamState) hasPending() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.pending) > 0
}

// startPending starts a container that has attaches waiting: the first
// is connected before the container's first instruction runs (no output
// lost), the others right after the start. It returns once the container
// runs; handled is false when no attach was waiting.
func (s *Server) startPending(ctx context.Context, ref string) (handled bool, err error) {
	ss := s.streams()
	if !ss.hasPending() {
		return false, nil
	}
	c, err := s.eng.Inspect(ctx, ref)
	if err != nil {
		return false, nil // the plain start reports it
	}
	list := ss.takePending(c.ID)
	if len(list) == 0 {
		return false, nil
	}
	stream, err := s.eng.StartStreaming(ctx, c.ID, list[0].streams)
	if err != nil {
		if errdefs.IsNotModified(err) { // it runs already: attach the usual way
			for _, p := range list {
				go func() {
					defer close(p.done)
					_, _ = s.eng.Attach(context.Background(), c.ID, p.streams)
				}()
			}
			return true, err
		}
		for _, p := range list {
			close(p.done)
		}
		return true, err
	}
	go func() {
		defer close(list[0].done)
		_, _ = stream()
	}()
	for _, p := range list[1:] {
		go func() {
			defer close(p.done)
			_, _ = s.eng.Attach(context.Background(), c.ID, p.streams)
		}()
	}
	return true, nil
}

// resizeContainer serves POST /containers/{id}/resize?h=&w=.
func (s *Server) resizeContainer(w http.ResponseWriter, r *http.Request) error {
	height, width, err := sizeParams(r)
	if err != nil {
		return err
	}
	c, err := s.eng.Inspect(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if c.State == nil || !c.State.Running {
		// An attach waiting for the start takes the size with it.
		ss := s.streams()
		ss.mu.Lock()
		list := ss.pending[c.ID]
		for _, p := range list {
			select {
			case p.resize <- [2]uint16{width, height}:
			default:
			}
		}
		ss.mu.Unlock()
		if len(list) > 0 {
			w.WriteHeader(http.StatusOK)
			return nil
		}
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("Container %s is not running", c.ID))
	}
	if err := s.eng.ResizeTTY(r.Context(), c.ID, height, width); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// sizeParams reads h and w as dockerd does.
func sizeParams(r *http.Request) (height, width uint16, err error) {
	q := r.URL.Query()
	h, herr := strconv.ParseUint(q.Get("h"), 10, 16)
	wd, werr := strconv.ParseUint(q.Get("w"), 10, 16)
	if err := errors.Join(herr, werr); err != nil {
		return 0, 0, invalid(err.Error())
	}
	return uint16(h), uint16(wd), nil
}
