//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/console"
)

// ptySession runs rrun with a real terminal as its stdin, stdout and
// stderr, as a user at a shell would.
type ptySession struct {
	t      *testing.T
	master console.Console
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer
	done   chan struct{}
}

func (e *env) startPTY(size console.WinSize, args ...string) *ptySession {
	e.t.Helper()
	master, slavePath, err := console.NewPty()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := master.Resize(size); err != nil {
		e.t.Fatal(err)
	}
	slave, err := os.OpenFile(slavePath, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	if tuser.asRoot {
		_ = os.Chown(slavePath, tuser.uid, tuser.gid)
	}
	cmd := e.command(context.Background(), args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
	cmd.SysProcAttr.Setctty = true
	cmd.SysProcAttr.Ctty = 0
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	slave.Close()
	s := &ptySession{t: e.t, master: master, cmd: cmd, done: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			s.mu.Lock()
			s.out.Write(buf[:n])
			s.mu.Unlock()
			if err != nil {
				close(s.done)
				return
			}
		}
	}()
	e.t.Cleanup(func() { _ = cmd.Process.Kill(); master.Close() })
	return s
}

func (s *ptySession) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// expect waits until the terminal has shown want.
func (s *ptySession) expect(want string) {
	s.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(s.output(), want) {
			return
		}
	}
	s.t.Fatalf("terminal never showed %q; it shows:\n%s", want, s.output())
}

func (s *ptySession) send(text string) {
	s.t.Helper()
	if _, err := io.WriteString(s.master, text); err != nil {
		s.t.Fatal(err)
	}
}

// exitCode waits for rrun to end and returns its status.
func (s *ptySession) exitCode() int {
	s.t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- s.cmd.Wait() }()
	select {
	case err := <-errc:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			s.t.Fatal(err)
		}
		return 0
	case <-time.After(15 * time.Second):
		s.t.Fatalf("rrun did not exit; terminal:\n%s", s.output())
		return -1
	}
}

func TestInteractiveTerminal(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "-q", "alpine")
	s := e.startPTY(console.WinSize{Width: 91, Height: 27}, "run", "-it", "--name", "tty", "alpine", "sh")
	s.send("stty size; tty; echo marker-$((6*7))\r")
	s.expect("27 91")
	s.expect("/dev/pts/0")
	s.expect("marker-42")
	// A resize of the user's terminal reaches the container.
	if err := s.master.Resize(console.WinSize{Width: 120, Height: 40}); err != nil {
		t.Fatal(err)
	}
	_ = s.cmd.Process.Signal(syscall.SIGWINCH)
	time.Sleep(200 * time.Millisecond)
	s.send("stty size\r")
	s.expect("40 120")
	s.send("exit 7\r")
	if code := s.exitCode(); code != 7 {
		t.Fatalf("run -it exit status %d, want 7; terminal:\n%s", code, s.output())
	}
}

func TestDetachKeysAndAttach(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "-q", "alpine")
	s := e.startPTY(console.WinSize{Width: 80, Height: 24}, "run", "-it", "--name", "det", "alpine", "sh")
	s.send("echo ready-$((1+1))\r")
	s.expect("ready-2")
	s.send("\x10\x11") // ctrl-p ctrl-q
	if code := s.exitCode(); code != 0 {
		t.Fatalf("detach: rrun exited %d; terminal:\n%s", code, s.output())
	}
	if !e.inspectContainer("det").State.Running {
		t.Fatal("the container stopped when the client detached")
	}
	// Attach again with custom detach keys, then end the shell.
	a := e.startPTY(console.WinSize{Width: 80, Height: 24}, "attach", "--detach-keys", "ctrl-x", "det")
	time.Sleep(200 * time.Millisecond)
	a.send("echo again-$((2+3))\r")
	a.expect("again-5")
	a.send("exit 4\r")
	if code := a.exitCode(); code != 4 {
		t.Fatalf("attach exit status %d, want 4; terminal:\n%s", code, a.output())
	}
}

func TestExec(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "-d", "--name", "target", "-e", "FROM_RUN=1", "alpine", "sleep", "1000")
	if r := e.rrun("exec", "target", "sh", "-c", "echo $FROM_RUN; echo err >&2; exit 5"); r.code != 5 || r.stdout != "1\n" || r.stderr != "err\n" {
		t.Fatalf("exec: %s", r)
	}
	r := e.rrunInput(strings.NewReader("piped\n"), "exec", "-i", "-u", "1000:1000", "-w", "/tmp", "-e", "X=y", "target", "sh", "-c", "cat; pwd; id -u; echo $X")
	if r.code != 0 || r.stdout != "piped\n/tmp\n1000\ny\n" {
		t.Fatalf("exec -i -u -w -e: %s", r)
	}
	if r := e.rrun("exec", "target", "/no/such"); r.code != 127 || !strings.Contains(r.stderr, "no such file") && !strings.Contains(r.stderr, "not found") {
		t.Fatalf("exec of a missing command: %s", r)
	}
	e.ok("exec", "-d", "target", "sh", "-c", "sleep 0.3; touch /tmp/from-detached")
	waitFor(t, "the detached exec", func() bool { return e.rrun("exec", "target", "test", "-e", "/tmp/from-detached").code == 0 })
	// An exec with a terminal.
	s := e.startPTY(console.WinSize{Width: 50, Height: 10}, "exec", "-it", "target", "sh")
	s.send("stty size; exit 3\r")
	s.expect("10 50")
	if code := s.exitCode(); code != 3 {
		t.Fatalf("exec -it exit %d", code)
	}
	e.ok("stop", "-t", "0", "target")
	contains(t, e.fails(1, "exec", "target", "true"), "is not running")
}
