package engine

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/console"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/opencontainers/runc/libcontainer"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/rrun/rrun/pkg/oci"
	"github.com/rrun/rrun/pkg/storage"
)

// A container's monitor (conmon's job) starts it with the embedded
// runtime, owns its stdio, writes its log, serves attach and exec,
// records its exit and applies the restart policy. Monitors are
// goroutines of one supervisor process per run root (supervisor.go), so
// a running container costs a few goroutines and buffers, not a process.

// monitorArgs is what a monitor is told by the command that starts it.
type monitorArgs struct {
	ID      string  `json:"id"`
	Options Options `json:"options"`
	// AttachFirst holds the start until a client has attached, so that
	// `rrun run` sees the container's first byte of output.
	AttachFirst bool `json:"attachFirst"`
	// Network, when set, asks for a change to the running container's
	// networks instead of a start (network_connect.go).
	Network *networkChange `json:"network,omitempty"`
}

type monitor struct {
	args monitorArgs
	// mu guards lc and rootfs: the running container, for exec sessions.
	mu     sync.Mutex
	lc     *libcontainer.Container
	rootfs string
	report io.WriteCloser // to the starter; nil once it has its answer
	e      *Engine
	c      *Container
	spec   *specs.Spec
	logger *jsonLogger
	hub    *hub
	// connected says the container's network is up (prepare) and not yet
	// released; only the monitor's goroutine touches it, and bypassLn.
	connected bool
	bypassLn  *net.UnixListener // connect bypass (network_bypass.go)
}

// say sends one line to the starter.
func (m *monitor) say(line string) {
	if m.report != nil {
		_, _ = m.report.Write([]byte(line + "\n"))
	}
}

func (m *monitor) done() {
	if m.report != nil {
		m.report.Close()
		m.report = nil
	}
}

// fail reports a start failure to the starter: "error CODE MESSAGE".
func (m *monitor) fail(err error) {
	code := 125
	if se, ok := err.(*StartError); ok {
		code = se.ExitCode
	}
	m.say(fmt.Sprintf("error %d %s", code, strings.ReplaceAll(err.Error(), "\n", " ")))
	m.done()
}

func (m *monitor) run() error {
	rootfs, err := m.mount()
	if err != nil {
		return err
	}
	e := m.e
	runDir := e.runDir(m.c.ID)
	mounted := true
	unmount := func() {
		if mounted {
			mounted = false
			m.unmount()
		}
	}
	defer unmount()
	m.rootfs = rootfs
	if err := m.prepare(); err != nil {
		return err
	}
	defer m.releaseNetwork() // when a run failed before its process exited
	if lc := m.c.HostConfig.LogConfig; lc.Type != "none" {
		dir, err := e.containerDir(m.c.ID)
		if err != nil {
			return err
		}
		if m.logger, err = newJSONLogger(filepath.Join(dir, logFile), lc.Config); err != nil {
			return err
		}
		defer m.logger.close()
	}
	ln, err := listenUnix(runDir, attachSocket)
	if err != nil {
		return fmt.Errorf("listening for attach: %w", err)
	}
	m.hub = newHub(m.c.Config)
	m.hub.exec = m.execSession
	go m.hub.serve(ln)
	defer ln.Close()
	if m.args.AttachFirst {
		m.say("listening")
		select {
		case <-m.hub.firstClient:
		case <-time.After(30 * time.Second):
		}
	}
	code, err := m.supervise()
	// Clean up before telling attached clients: whoever waits for the
	// exit may remove the container (or the whole store) next. The
	// socket's disappearance tells a remover that the monitor is done.
	unmount()
	_ = os.Remove(filepath.Join(runDir, attachSocket))
	if m.c.HostConfig.AutoRemove { // also when it never started, as docker
		storeMu.Lock()
		if rerr := e.removeStopped(m.c); rerr != nil {
			logrus.Warnf("removing container %s: %v", m.c.Name, rerr)
		}
		storeMu.Unlock()
	}
	m.hub.exit(code)
	return err
}

// storeMu serialises the monitors' changes to the image store (mount,
// unmount, remove): one store instance serves the whole supervisor.
var storeMu sync.Mutex

// sharedStores are the supervisor's open stores, one per configuration:
// opened once and kept, as reopening costs milliseconds on every start,
// and containers/storage notices other processes' changes by itself.
var sharedStores = map[string]*storage.Store{}

// monitorEngine is an engine for one monitor, on the shared store.
func monitorEngine(opts Options) (*Engine, error) {
	key, err := json.Marshal(opts)
	if err != nil {
		return nil, err
	}
	if s, ok := sharedStores[string(key)]; ok {
		return &Engine{opts: opts, Images: s}, nil
	}
	e, err := Open(opts)
	if err != nil {
		return nil, err
	}
	sharedStores[string(key)] = e.Images
	return e, nil
}

// mount loads the container and mounts its root filesystem.
func (m *monitor) mount() (string, error) {
	storeMu.Lock()
	defer storeMu.Unlock()
	e, err := monitorEngine(m.args.Options)
	if err != nil {
		return "", err
	}
	m.e = e
	if m.c, err = e.loadContainer(m.args.ID); err != nil {
		return "", err
	}
	if err := os.MkdirAll(e.runDir(m.c.ID), 0o700); err != nil {
		return "", err
	}
	rootfs, err := e.Images.Containers().Mount(m.c.ID, "")
	if err != nil {
		return "", fmt.Errorf("mounting the container's root filesystem: %w", err)
	}
	return rootfs, nil
}

func (m *monitor) unmount() {
	storeMu.Lock()
	defer storeMu.Unlock()
	_, _ = m.e.Images.Containers().Unmount(m.c.ID, false)
}

// prepare connects the container's network and builds its spec, before
// each of its runs: as with docker, a container's ports and addresses are
// released when it exits, so that `stop` frees them at once, and taken
// again when its restart policy brings it back.
func (m *monitor) prepare() error {
	att, err := m.e.connectNetworks(m.c)
	if err != nil {
		return err
	}
	m.connected = true
	if _, err := m.e.updateState(m.c.ID, func(s *State) { s.Networks, s.Ports = att.endpoints, att.ports }); err != nil {
		m.releaseNetwork()
		return err
	}
	spec, err := m.e.containerSpec(m.c, m.rootfs, att)
	if err == nil {
		err = m.startBypass(spec, att)
	}
	if err != nil {
		m.releaseNetwork()
		return err
	}
	m.spec = spec
	return nil
}

// releaseNetwork gives back what prepare took, once: a later start of the
// container may already have made a new namespace at the same path.
func (m *monitor) releaseNetwork() {
	for _, ev := range m.releaseNetworkQuietly() {
		m.e.emit(ev)
	}
}

// releaseNetworkQuietly is releaseNetwork leaving the events to the caller.
func (m *monitor) releaseNetworkQuietly() []events.Message {
	m.stopBypass()
	if !m.connected {
		return nil
	}
	m.connected = false
	return m.e.releaseNetworks(m.c)
}

// supervise runs the container, again and again as its restart policy
// says, and returns the last exit code.
func (m *monitor) supervise() (int, error) {
	backoff := 100 * time.Millisecond
	for first := true; ; first = false {
		started := time.Now()
		code, err := m.runOnce()
		m.releaseNetwork() // before a failure is reported too
		if err != nil {
			if first {
				return code, err
			}
			logrus.Warnf("restarting %s: %v", m.c.Name, err)
		}
		st, serr := m.e.loadState(m.c.ID)
		if serr != nil {
			return code, serr
		}
		if !shouldRestart(m.c.HostConfig.RestartPolicy, st, code) {
			return code, nil
		}
		// docker's back-off: double the delay each time, start over after
		// a run of ten seconds or more, never wait more than a minute.
		if time.Since(started) >= 10*time.Second {
			backoff = 100 * time.Millisecond
		}
		_, _ = m.e.updateState(m.c.ID, func(s *State) {
			s.Status = container.StateRestarting
			s.RestartCount++
		})
		time.Sleep(backoff)
		backoff = min(backoff*2, time.Minute)
		if st, _ := m.e.loadState(m.c.ID); st != nil && st.ManualStop {
			_, _ = m.e.updateState(m.c.ID, func(s *State) { s.Status = container.StateExited })
			return code, nil
		}
		if err := m.prepare(); err != nil {
			return 125, err
		}
	}
}

func shouldRestart(p container.RestartPolicy, st *State, code int) bool {
	if st.ManualStop {
		return false
	}
	switch p.Name {
	case container.RestartPolicyAlways, container.RestartPolicyUnlessStopped:
		return true
	case container.RestartPolicyOnFailure:
		return code != 0 && (p.MaximumRetryCount == 0 || st.RestartCount < p.MaximumRetryCount)
	}
	return false
}

// runOnce starts the container's process and waits for it to exit.
func (m *monitor) runOnce() (int, error) {
	rt := &oci.Runtime{Root: filepath.Join(m.e.opts.RunRoot, "runc")}
	lc, err := rt.Create(m.c.ID, m.spec)
	if err != nil {
		return 125, err
	}
	defer func() {
		m.setCurrent(nil)
		_ = lc.Destroy()
	}()
	proc, err := oci.NewProcess(m.spec.Process)
	if err != nil {
		return 125, err
	}
	pumps, err := m.setupIO(proc, lc)
	if err != nil {
		return 125, err
	}
	pid, err := proc.Pid()
	if err != nil {
		return 125, err
	}
	pidStart, _, _ := processStart(pid)
	monStart, _, _ := processStart(os.Getpid())
	st, err := m.e.updateState(m.c.ID, func(s *State) {
		s.Status = container.StateRunning
		s.Pid, s.PidStart = pid, pidStart
		s.MonitorPid, s.MonitorStart = os.Getpid(), monStart
		s.BootID = bootID()
		s.StartedAt = time.Now().UTC()
		s.ExitCode, s.Error, s.OOMKilled = 0, "", false
		s.ManualStop = false
	})
	if err != nil {
		_ = proc.Signal(syscall.SIGKILL)
		return 125, err
	}
	m.setCurrent(lc)
	m.e.emit(containerEvent(events.ActionStart, m.c))
	m.say(fmt.Sprintf("ok %d", pid))
	m.done()

	ps, _ := proc.Wait()
	m.refresh() // rename and update may have changed the record meanwhile
	code := exitCode(ps)
	pumps.wait(2 * time.Second)
	disconnected := m.releaseNetworkQuietly() // before anyone is told it stopped
	_, _ = m.e.updateState(m.c.ID, func(s *State) {
		s.Status = container.StateExited
		s.ExitCode = code
		s.FinishedAt = time.Now().UTC()
		s.Pid, s.PidStart = 0, 0
		s.Networks, s.Ports = nil, nil
	})
	m.e.emit(containerEvent(events.ActionDie, m.c, "exitCode", strconv.Itoa(code)))
	for _, ev := range disconnected {
		m.e.emit(ev)
	}
	_ = st
	return code, nil
}

func (m *monitor) setCurrent(lc *libcontainer.Container) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lc = lc
}

// current is the running container, nil between runs.
func (m *monitor) current() (*libcontainer.Container, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lc, m.rootfs
}

func exitCode(ps *os.ProcessState) int {
	if ps == nil {
		return 255
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// pumpSet tracks the goroutines copying the container's output.
type pumpSet struct{ wg sync.WaitGroup }

func (p *pumpSet) wait(limit time.Duration) {
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(limit): // a daemonised child may hold the pipe open
	}
}

// setupIO connects the process's stdio to the log and the attach hub, and
// starts it.
func (m *monitor) setupIO(proc *libcontainer.Process, lc *libcontainer.Container) (*pumpSet, error) {
	pumps := &pumpSet{}
	if m.spec.Process.Terminal {
		parent, child, err := oci.ConsolePair()
		if err != nil {
			return nil, err
		}
		defer parent.Close()
		defer child.Close()
		proc.ConsoleSocket = child
		if err := lc.Run(proc); err != nil {
			return nil, startError(err)
		}
		master, err := oci.ReceiveConsole(parent)
		if err != nil {
			_ = proc.Signal(syscall.SIGKILL)
			return nil, fmt.Errorf("receiving the container's terminal: %w", err)
		}
		cons, err := console.ConsoleFromFile(master)
		if err != nil {
			return nil, err
		}
		if w, h := m.hub.lastSize(); w > 0 {
			_ = cons.Resize(console.WinSize{Width: w, Height: h})
		}
		m.hub.setInput(master, func(w, h uint16) { _ = cons.Resize(console.WinSize{Width: w, Height: h}) })
		m.pump(pumps, master, frameStdout, "stdout")
		return pumps, nil
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	proc.Stdout, proc.Stderr = outW, errW
	var inW *os.File
	if m.c.Config.OpenStdin {
		inR, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		proc.Stdin, inW = inR, w
		defer inR.Close()
	}
	err = lc.Run(proc)
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		if inW != nil {
			inW.Close()
		}
		return nil, startError(err)
	}
	if inW != nil {
		m.hub.setInput(inW, nil)
	}
	m.pump(pumps, outR, frameStdout, "stdout")
	m.pump(pumps, errR, frameStderr, "stderr")
	return pumps, nil
}

// pump copies one output stream to the log and to attached clients.
func (m *monitor) pump(p *pumpSet, r io.ReadCloser, kind byte, stream string) {
	split := &lineSplitter{emit: func(line []byte) {
		if m.logger != nil {
			m.logger.write(stream, line)
		}
	}}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer r.Close()
		buf := make([]byte, 32*1024)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				m.hub.broadcast(kind, buf[:n])
				_, _ = split.Write(buf[:n])
			}
			if err != nil {
				split.flush()
				return
			}
		}
	}()
}

// StartError is a container that could not start, with the exit status
// docker gives it: 127 for a missing command, 126 for one that cannot be
// run, 125 otherwise.
type StartError struct {
	ExitCode int
	Msg      string
}

func (e *StartError) Error() string { return e.Msg }

// startError classifies the runtime's start failure. The cause comes back
// from the container's init as text, so the text is all there is to read.
func startError(err error) error {
	msg := err.Error()
	code := 125
	switch {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory"):
		code = 127
	case strings.Contains(msg, "permission denied"), strings.Contains(msg, "exec format error"):
		code = 126
	}
	return &StartError{ExitCode: code, Msg: "failed to create task for container: " + msg}
}

// hub fans the container's output out to attached clients and their input
// in.
type hub struct {
	cfg         *container.Config
	mu          sync.Mutex
	clients     map[*hubClient]bool
	input       io.WriteCloser
	resize      func(w, h uint16)
	size        [2]uint16
	firstClient chan struct{}
	firstOnce   sync.Once
	// exec serves a client that asked for a new process (exec.go).
	exec func(net.Conn, *bufio.Reader, attachHello)
}

type hubClient struct {
	conn  net.Conn
	hello attachHello
	out   chan []byte // whole frames
}

func newHub(cfg *container.Config) *hub {
	return &hub{cfg: cfg, clients: map[*hubClient]bool{}, firstClient: make(chan struct{})}
}

func (h *hub) serve(ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go h.handle(conn)
	}
}

func (h *hub) handle(conn net.Conn) {
	r := bufio.NewReader(conn)
	line, err := r.ReadBytes('\n')
	var hello attachHello
	if err != nil || json.Unmarshal(line, &hello) != nil {
		conn.Close()
		return
	}
	if hello.Exec != nil {
		if h.exec != nil {
			h.exec(conn, r, hello)
		} else {
			conn.Close()
		}
		return
	}
	c := &hubClient{conn: conn, hello: hello, out: make(chan []byte, 1024)}
	h.mu.Lock()
	h.clients[c] = true
	h.mu.Unlock()
	h.firstOnce.Do(func() { close(h.firstClient) })
	go func() {
		for frame := range c.out {
			if _, err := conn.Write(frame); err != nil {
				break
			}
		}
		conn.Close()
	}()
	for {
		kind, payload, err := readFrame(r)
		if err != nil {
			h.drop(c)
			return
		}
		switch kind {
		case frameStdin:
			if hello.Stdin {
				h.writeInput(payload)
			}
		case frameStdinEOF:
			// docker closes the container's stdin when a client that
			// attached it once (run -i) ends its input.
			if hello.Stdin && h.cfg.StdinOnce {
				h.closeInput()
			}
		case frameResize:
			if len(payload) == 4 {
				h.setSize(binary.BigEndian.Uint16(payload[:2]), binary.BigEndian.Uint16(payload[2:]))
			}
		}
	}
}

func (h *hub) drop(c *hubClient) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.clients[c] {
		delete(h.clients, c)
		close(c.out)
	}
}

func (h *hub) broadcast(kind byte, data []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.clients) == 0 {
		return // the usual case for a detached container: no copy per read
	}
	frame := make([]byte, 5+len(data))
	frame[0] = kind
	binary.BigEndian.PutUint32(frame[1:], uint32(len(data)))
	copy(frame[5:], data)
	for c := range h.clients {
		if kind == frameStdout && !c.hello.Stdout || kind == frameStderr && !c.hello.Stderr {
			continue
		}
		select {
		case c.out <- frame:
		default: // a client that cannot keep up is dropped, not waited for
			delete(h.clients, c)
			close(c.out)
		}
	}
}

// exit tells every client the exit code and lets their writers drain.
func (h *hub) exit(code int) {
	h.broadcast(frameExit, []byte(strconv.Itoa(code)))
	h.mu.Lock()
	for c := range h.clients {
		delete(h.clients, c)
		close(c.out)
	}
	h.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
}

func (h *hub) setInput(w io.WriteCloser, resize func(w, h uint16)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.input, h.resize = w, resize
}

func (h *hub) writeInput(p []byte) {
	h.mu.Lock()
	w := h.input
	h.mu.Unlock()
	if w != nil {
		_, _ = w.Write(p)
	}
}

func (h *hub) closeInput() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.input != nil && h.resize == nil { // a terminal is not closed
		h.input.Close()
		h.input = nil
	}
}

func (h *hub) setSize(w, hgt uint16) {
	h.mu.Lock()
	h.size = [2]uint16{w, hgt}
	resize := h.resize
	h.mu.Unlock()
	if resize != nil {
		resize(w, hgt)
	}
}

func (h *hub) lastSize() (uint16, uint16) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.size[0], h.size[1]
}
