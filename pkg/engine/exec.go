package engine

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/console"
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"

	"github.com/rrun/rrun/pkg/oci"
)

// ExecOptions are docker exec's flags.
type ExecOptions struct {
	Cmd        []string `json:"cmd"`
	Env        []string `json:"env,omitempty"`
	User       string   `json:"user,omitempty"`
	WorkingDir string   `json:"workingDir,omitempty"`
	Tty        bool     `json:"tty,omitempty"`
	Privileged bool     `json:"privileged,omitempty"`
	// Detach starts the process and returns; the monitor reaps it.
	Detach bool `json:"detach,omitempty"`
}

// Frames of an exec session beyond the attach protocol's.
const (
	frameExecStarted byte = 's' // payload: the process's pid
	frameExecError   byte = 'e' // payload: "CODE MESSAGE"
)

// Exec runs a process in a running container, as a child of its monitor
// (so `exec -d` outlives the CLI), and streams it like an attach; it
// returns the process's exit code (0 at once for Detach).
func (e *Engine) Exec(ctx context.Context, ref string, opts ExecOptions, s AttachStreams) (int, error) {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return -1, err
	}
	if len(opts.Cmd) == 0 {
		return -1, errdefs.ErrInvalidArgument.WithMessage("no exec command specified")
	}
	st, err := e.currentState(c.ID)
	if err != nil {
		return -1, err
	}
	if st.Status != "running" {
		return -1, errdefs.ErrConflict.WithMessage(fmt.Sprintf("container %s is not running", c.ID))
	}
	hello := attachHello{Stdin: s.Stdin != nil, Stdout: s.Stdout != nil, Stderr: s.Stderr != nil, Exec: &opts}
	conn, err := e.dialAttach(c.ID, hello)
	if err != nil {
		return -1, fmt.Errorf("reaching the monitor of %s: %w", c.Name, err)
	}
	// The first frame says whether the process started.
	kind, payload, err := readFrame(conn.r)
	if err != nil {
		conn.conn.Close()
		return -1, fmt.Errorf("exec in %s: the monitor hung up: %w", c.Name, err)
	}
	switch kind {
	case frameExecError:
		conn.conn.Close()
		return -1, parseStartError(string(payload))
	case frameExecStarted:
	default:
		conn.conn.Close()
		return -1, fmt.Errorf("exec in %s: unexpected answer from the monitor", c.Name)
	}
	e.emit(containerEvent(events.Action("exec_start: "+strings.Join(opts.Cmd, " ")), c))
	if opts.Detach {
		conn.conn.Close()
		return 0, nil
	}
	return conn.stream(s)
}

// lockedWriter serialises frames from several goroutines onto one conn.
type lockedWriter struct {
	mu   sync.Mutex
	conn net.Conn
}

func (w *lockedWriter) frame(kind byte, payload []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return writeFrame(w.conn, kind, payload)
}

// execSession serves one exec request in the monitor: start the process
// in the running container, then relay its stdio over the connection.
func (m *monitor) execSession(conn net.Conn, r *bufio.Reader, hello attachHello) {
	defer conn.Close()
	w := &lockedWriter{conn: conn}
	fail := func(code int, err error) {
		_ = w.frame(frameExecError, []byte(fmt.Sprintf("%d %s", code, strings.ReplaceAll(err.Error(), "\n", " "))))
	}
	lc, rootfs := m.current()
	if lc == nil {
		fail(125, fmt.Errorf("container %s is not running", m.c.ID))
		return
	}
	req := hello.Exec
	p := *m.spec.Process
	p.Args = req.Cmd
	p.Terminal = req.Tty
	p.Env = mergeEnv(oci.Env(m.c.Config.Env, hostname(m.c), req.Tty), req.Env)
	if req.WorkingDir != "" {
		p.Cwd = req.WorkingDir
	}
	if req.User != "" {
		user, err := oci.ResolveUser(rootfs, req.User, nil)
		if err != nil {
			fail(126, err)
			return
		}
		p.User = user
	}
	proc, err := oci.NewProcess(&p)
	if err != nil {
		fail(125, err)
		return
	}
	proc.Init = false
	var pumps pumpSet
	var input *os.File
	relay := func(src *os.File, kind byte, want bool) {
		pumps.wg.Add(1)
		go func() {
			defer pumps.wg.Done()
			defer src.Close()
			buf := make([]byte, 32*1024)
			for {
				n, err := src.Read(buf)
				if n > 0 && want {
					_ = w.frame(kind, buf[:n])
				}
				if err != nil {
					return
				}
			}
		}()
	}
	if req.Tty {
		parent, child, err := oci.ConsolePair()
		if err != nil {
			fail(125, err)
			return
		}
		proc.ConsoleSocket = child
		err = lc.Run(proc)
		child.Close()
		if err != nil {
			parent.Close()
			fail(execStartError(err))
			return
		}
		master, err := oci.ReceiveConsole(parent)
		parent.Close()
		if err != nil {
			_ = proc.Signal(syscall.SIGKILL)
			fail(125, err)
			return
		}
		input = master
		if cons, err := console.ConsoleFromFile(master); err == nil {
			go m.execInput(r, input, hello, func(wd, ht uint16) { _ = cons.Resize(console.WinSize{Width: wd, Height: ht}) })
		}
		relay(master, frameStdout, hello.Stdout && !req.Detach)
	} else {
		outR, outW, _ := os.Pipe()
		errR, errW, _ := os.Pipe()
		proc.Stdout, proc.Stderr = outW, errW
		var inR *os.File
		if hello.Stdin && !req.Detach {
			inR, input, _ = os.Pipe()
			proc.Stdin = inR
		}
		err := lc.Run(proc)
		outW.Close()
		errW.Close()
		if inR != nil {
			inR.Close()
		}
		if err != nil {
			outR.Close()
			errR.Close()
			fail(execStartError(err))
			return
		}
		if input != nil {
			go m.execInput(r, input, hello, nil)
		}
		relay(outR, frameStdout, hello.Stdout && !req.Detach)
		relay(errR, frameStderr, hello.Stderr && !req.Detach)
	}
	pid, _ := proc.Pid()
	_ = w.frame(frameExecStarted, []byte(strconv.Itoa(pid)))
	ps, _ := proc.Wait()
	pumps.wait(2 * time.Second)
	code := exitCode(ps)
	m.e.emit(containerEvent(events.Action("exec_die"), m.c, "exitCode", strconv.Itoa(code)))
	_ = w.frame(frameExit, []byte(strconv.Itoa(code)))
}

// execStartError is docker's wording for an exec that did not start.
func execStartError(err error) (int, error) {
	se := startError(err).(*StartError)
	return se.ExitCode, fmt.Errorf("OCI runtime exec failed: exec failed: %s", strings.TrimPrefix(se.Msg, "failed to create task for container: "))
}

// execInput relays a client's input frames to an exec'd process.
func (m *monitor) execInput(r *bufio.Reader, in *os.File, hello attachHello, resize func(w, h uint16)) {
	for {
		kind, payload, err := readFrame(r)
		if err != nil {
			if resize == nil {
				in.Close()
			}
			return
		}
		switch kind {
		case frameStdin:
			_, _ = in.Write(payload)
		case frameStdinEOF:
			if resize == nil {
				in.Close()
			}
		case frameResize:
			if resize != nil && len(payload) == 4 {
				resize(uint16(payload[0])<<8|uint16(payload[1]), uint16(payload[2])<<8|uint16(payload[3]))
			}
		}
	}
}
