//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestLogsOptions(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "--name", "talker", "alpine", "sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done; echo oops >&2")
	// (The tail counts both streams, as docker's does, and their order
	// is only as good as the pipes': test it on stdout alone.)
	e.ok("run", "--name", "counter", "alpine", "sh", "-c", "for i in 1 2 3 4 5; do echo n$i; done")
	if got := e.ok("logs", "--tail", "2", "counter"); got != "n4\nn5\n" {
		t.Errorf("--tail 2: %q", got)
	}
	r := e.rrun("logs", "-t", "talker")
	first := lines(r.stdout)[0]
	ts, rest, _ := strings.Cut(first, " ")
	if _, err := time.Parse(time.RFC3339Nano, ts); err != nil || rest != "line1" {
		t.Errorf("-t line %q: %v", first, err)
	}
	if r.stderr != "" && !strings.Contains(r.stderr, "oops") {
		t.Errorf("stderr %q", r.stderr)
	}
	if got := e.ok("logs", "--since", "1h", "--until", "2000-01-01T00:00:00Z", "talker"); got != "" {
		t.Errorf("--until in the past printed %q", got)
	}
	if got := e.ok("logs", "--since", time.Now().Add(time.Hour).Format(time.RFC3339), "talker"); got != "" {
		t.Errorf("--since in the future printed %q", got)
	}

	// -f follows new output and ends when the container does.
	e.ok("run", "-d", "--name", "ticker", "alpine", "sh", "-c", "for i in 1 2 3; do echo tick$i; sleep 0.3; done")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := e.command(ctx, "logs", "-f", "ticker")
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("logs -f: %v", err)
	}
	if out.String() != "tick1\ntick2\ntick3\n" {
		t.Fatalf("logs -f got %q", out.String())
	}
}

func TestLogDriverNone(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "--name", "quiet", "--log-driver", "none", "alpine", "echo", "hi")
	contains(t, e.fails(1, "logs", "quiet"), "does not support reading")
	contains(t, e.fails(125, "run", "--log-driver", "syslog", "alpine", "true"), "syslog")
}

func TestRestartAlwaysRespectsStop(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "-d", "--name", "always", "--restart", "always", "alpine", "sh", "-c", "sleep 0.2; exit 2")
	waitFor(t, "a restart", func() bool { return e.inspectContainer("always").RestartCount >= 1 })
	e.ok("stop", "-t", "1", "always")
	time.Sleep(500 * time.Millisecond)
	info := e.inspectContainer("always")
	if info.State.Running || info.State.Status != "exited" {
		t.Fatalf("a stopped --restart always container came back: %+v", info.State)
	}
}

// Killing the CLI while it starts a detached container leaves a state
// that tells the truth.
func TestKilledCLIDuringRunDetached(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "-q", "alpine")
	for i, delay := range []time.Duration{5 * time.Millisecond, 20 * time.Millisecond, 60 * time.Millisecond} {
		name := []string{"k0", "k1", "k2"}[i]
		cmd := e.command(context.Background(), "run", "-d", "--name", name, "alpine", "sleep", "30")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	}
	time.Sleep(300 * time.Millisecond)
	for _, name := range []string{"k0", "k1", "k2"} {
		r := e.rrun("inspect", "--format", "{{.State.Status}} {{.State.Pid}}", name)
		if r.code != 0 {
			continue // killed before the container was created: nothing to show
		}
		status, pid, _ := strings.Cut(strings.TrimSpace(r.stdout), " ")
		switch status {
		case "running":
			if pid == "0" || syscall.Kill(atoi(pid), 0) != nil {
				t.Errorf("%s says running with pid %s, which does not exist", name, pid)
			}
		case "created", "exited":
		default:
			t.Errorf("%s: unexpected state %q", name, status)
		}
		e.ok("rm", "-f", name)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// Without a terminal, signals sent to `rrun run` reach the container
// (--sig-proxy, on by default); `start -a -i` attaches input.
func TestSignalProxyAndStartAttach(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "-q", "alpine")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := e.command(ctx, "run", "--rm", "alpine", "sh", "-c", "trap 'echo got-usr1; exit 0' USR1; echo ready; while true; do sleep 0.1; done")
	var out bytes.Buffer
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256)
	for !strings.Contains(out.String(), "ready") {
		n, err := stdout.Read(buf)
		if err != nil {
			t.Fatalf("reading: %v (%q)", err, out.String())
		}
		out.Write(buf[:n])
	}
	_ = cmd.Process.Signal(syscall.SIGUSR1)
	rest, _ := io.ReadAll(stdout)
	out.Write(rest)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("run ended with %v; output %q", err, out.String())
	}
	contains(t, out.String(), "got-usr1")

	e.ok("create", "-i", "--name", "reader", "alpine", "sh", "-c", "read line; echo got:$line")
	r := e.rrunInput(strings.NewReader("hello\n"), "start", "-a", "-i", "reader")
	if r.code != 0 || r.stdout != "got:hello\n" {
		t.Fatalf("start -a -i: %s", r)
	}
}
