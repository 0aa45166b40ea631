//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// docker run attached (attach before start), its exit codes, stdin with
// a half-close, and stdout/stderr kept apart.
func TestServeAttachRun(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "alpine")
	sock := e.serve()

	if r := e.docker(sock, "run", "--rm", "alpine", "echo", "hi"); r.code != 0 || r.stdout != "hi\n" {
		t.Fatalf("docker run echo hi: %s", r)
	}
	if r := e.docker(sock, "run", "--rm", "alpine", "sh", "-c", "exit 3"); r.code != 3 {
		t.Fatalf("docker run exit 3: %s", r)
	}
	if r := e.dockerStdin(sock, strings.NewReader("data\n"), "run", "-i", "--rm", "alpine", "cat"); r.code != 0 || r.stdout != "data\n" {
		t.Fatalf("docker run -i cat: %s", r)
	}
	r := e.docker(sock, "run", "--rm", "alpine", "sh", "-c", "echo out; echo err >&2")
	if r.code != 0 || r.stdout != "out\n" || r.stderr != "err\n" {
		t.Fatalf("docker run out/err: %s", r)
	}
	// A name that keeps its container: output also reached the log.
	if r := e.docker(sock, "run", "--name", "kept", "alpine", "sh", "-c", "echo kept; exit 5"); r.code != 5 || r.stdout != "kept\n" {
		t.Fatalf("docker run kept: %s", r)
	}
	if out := e.dockerOK(sock, "logs", "kept"); out != "kept\n" {
		t.Fatalf("docker logs kept: %q", out)
	}
	// docker start -a attaches before starting too.
	if r := e.docker(sock, "start", "-a", "kept"); r.code != 5 || r.stdout != "kept\n" {
		t.Fatalf("docker start -a kept: %s", r)
	}
}

// docker exec (output, exit code, stdin, -d, inspect) and docker attach.
func TestServeAttachExec(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "alpine")
	sock := e.serve()

	e.dockerOK(sock, "run", "-d", "--name", "box", "alpine", "sh", "-c", "while [ ! -f /tmp/go ]; do sleep 0.1; done; echo later; sleep 1000")
	r := e.docker(sock, "exec", "box", "sh", "-c", "echo exec-out; echo exec-err >&2; exit 4")
	if r.code != 4 || r.stdout != "exec-out\n" || r.stderr != "exec-err\n" {
		t.Fatalf("docker exec: %s", r)
	}
	if r := e.dockerStdin(sock, strings.NewReader("piped\n"), "exec", "-i", "box", "cat"); r.code != 0 || r.stdout != "piped\n" {
		t.Fatalf("docker exec -i cat: %s", r)
	}
	if r := e.docker(sock, "exec", "box", "/nonexistent"); r.code != 127 && r.code != 126 {
		t.Fatalf("docker exec of a missing command: %s", r)
	}
	e.dockerOK(sock, "exec", "-d", "box", "sh", "-c", "echo detached > /tmp/d")
	waitFor(t, "the detached exec", func() bool {
		return e.docker(sock, "exec", "box", "cat", "/tmp/d").stdout == "detached\n"
	})

	// docker attach to the running container, which prints later.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd, out, errb := e.dockerCmd(ctx, sock, nil, "attach", "--no-stdin", "box")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	e.dockerOK(sock, "exec", "box", "touch", "/tmp/go")
	waitFor(t, "docker attach's output", func() bool { return strings.Contains(out.String(), "later") })
	e.dockerOK(sock, "kill", "box")
	_ = cmd.Wait()
	if out.String() != "later\n" {
		t.Fatalf("docker attach printed %q (stderr %q)", out, errb)
	}

	// exec on a stopped container: docker's 409 wording.
	if r := e.docker(sock, "exec", "box", "true"); r.code == 0 || !strings.Contains(r.stderr, "is not running") {
		t.Fatalf("exec in a stopped container: %s", r)
	}
}

// The exec API's inspect document while running and after.
func TestServeAttachExecInspect(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "alpine")
	sock := e.serve()
	id := strings.TrimSpace(e.dockerOK(sock, "run", "-d", "alpine", "sleep", "1000"))
	c := apiClient(sock)
	resp, err := c.Post("http://d/v1.51/containers/"+id+"/exec", "application/json", strings.NewReader(`{"Cmd":["sleep","2"]}`))
	if err != nil {
		t.Fatal(err)
	}
	var created struct{ Id string }
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != 201 || len(created.Id) != 64 {
		t.Fatalf("exec create: %d %q", resp.StatusCode, created.Id)
	}
	resp, err = c.Post("http://d/v1.51/exec/"+created.Id+"/start", "application/json", strings.NewReader(`{"Detach":true}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("exec start detached: %d", resp.StatusCode)
	}
	inspect := func() map[string]any {
		resp, err := c.Get("http://d/v1.51/exec/" + created.Id + "/json")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return m
	}
	m := inspect()
	if m["Running"] != true || m["ExitCode"] != nil || m["ContainerID"] != id || m["Pid"].(float64) <= 0 {
		t.Fatalf("exec inspect while running: %v", m)
	}
	waitFor(t, "the exec's end", func() bool { return inspect()["Running"] == false })
	if m := inspect(); m["ExitCode"] != float64(0) {
		t.Fatalf("exec inspect after: %v", m)
	}
	// Starting it again is a conflict; an unknown exec is a 404.
	resp, _ = c.Post("http://d/v1.51/exec/"+created.Id+"/start", "application/json", strings.NewReader(`{"Detach":true}`))
	resp.Body.Close()
	if resp.StatusCode != 409 {
		t.Fatalf("second start: %d", resp.StatusCode)
	}
	resp, _ = c.Get("http://d/v1.51/exec/nope/json")
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("unknown exec: %d", resp.StatusCode)
	}
	e.dockerOK(sock, "rm", "-f", id)
}

// docker run -t through a pty (util-linux script): raw TTY output, and the
// resize the CLI sends after the start.
func TestServeAttachTTY(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("needs script(1) for a pty")
	}
	e := newEnv(t)
	e.ok("pull", "alpine")
	sock := e.serve()
	r := e.docker(sock, "run", "--rm", "alpine", "true") // warm up
	if r.code != 0 {
		t.Fatalf("warm-up: %s", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd, out, errb := e.dockerCmd(ctx, sock, nil, "x")
	cmd.Args = []string{"script", "-qec", "docker run -t --rm alpine sh -c 'tty; stty size; exit 7'", "/dev/null"}
	cmd.Path, _ = exec.LookPath("script")
	err := cmd.Run()
	ee, _ := err.(*exec.ExitError)
	if ee == nil || ee.ExitCode() != 7 || !strings.Contains(out.String(), "/dev/pts/") {
		t.Fatalf("docker run -t: %v\nstdout %q\nstderr %q", err, out, errb)
	}
}
