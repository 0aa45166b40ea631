//go:build e2e

package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// dockerOK runs the docker CLI and fails the test unless it exits 0.
func (e *env) dockerOK(sock string, args ...string) string {
	e.t.Helper()
	r := e.docker(sock, args...)
	if r.code != 0 {
		e.t.Fatalf("docker %s: %s", strings.Join(args, " "), r)
	}
	return r.stdout
}

// The container lifecycle through the unmodified docker CLI, and the
// containers it makes are rrun's own (and the reverse).
func TestServeContainersDockerCLI(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "alpine")
	sock := e.serve()

	// create, start, wait, logs.
	id := strings.TrimSpace(e.dockerOK(sock, "create", "--name", "x1", "alpine", "echo", "hi"))
	if len(id) != 64 {
		t.Fatalf("docker create printed %q", id)
	}
	contains(t, e.ok("ps", "-a", "--format", "{{.Names}} {{.Status}}"), "x1 Created")
	contains(t, e.dockerOK(sock, "start", "x1"), "x")
	if code := strings.TrimSpace(e.dockerOK(sock, "wait", "x1")); code != "0" {
		t.Fatalf("docker wait x1 printed %q", code)
	}
	if out := e.dockerOK(sock, "logs", "x1"); out != "hi\n" {
		t.Fatalf("docker logs x1: %q", out)
	}
	// The exit code of a failing command.
	e.dockerOK(sock, "create", "--name", "three", "alpine", "sh", "-c", "echo err >&2; exit 3")
	e.dockerOK(sock, "start", "three")
	if code := strings.TrimSpace(e.dockerOK(sock, "wait", "three")); code != "3" {
		t.Fatalf("docker wait three printed %q", code)
	}
	r := e.docker(sock, "logs", "three")
	if r.stdout != "" || r.stderr != "err\n" {
		t.Fatalf("logs of three: %s", r)
	}
	// A name in use.
	if r := e.docker(sock, "create", "--name", "x1", "alpine", "true"); r.code == 0 || !strings.Contains(r.stderr, `The container name "/x1" is already in use`) {
		t.Fatalf("duplicate name: %s", r)
	}

	// run -d, top, stop, restart, kill, rm.
	yid := strings.TrimSpace(e.dockerOK(sock, "run", "-d", "--name", "y1", "alpine", "sleep", "100"))
	contains(t, e.ok("ps", "--no-trunc", "--format", "{{.ID}} {{.Names}}"), yid+" y1")
	contains(t, e.dockerOK(sock, "top", "y1"), "PID", "sleep 100")
	contains(t, e.dockerOK(sock, "stop", "-t", "1", "y1"), "y1")
	contains(t, e.ok("inspect", "--format", "{{.State.Status}}", "y1"), "exited")
	e.dockerOK(sock, "restart", "-t", "1", "y1")
	contains(t, e.ok("inspect", "--format", "{{.State.Status}}", "y1"), "running")
	e.dockerOK(sock, "kill", "y1")
	contains(t, e.dockerOK(sock, "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "y1"), "exited 137")
	if r := e.docker(sock, "kill", "y1"); r.code == 0 || !strings.Contains(r.stderr, "is not running") {
		t.Fatalf("kill of a stopped container: %s", r)
	}
	e.dockerOK(sock, "start", "y1")
	if r := e.docker(sock, "rm", "y1"); r.code == 0 || !strings.Contains(r.stderr, "container is running: stop the container before removing or force remove") {
		t.Fatalf("rm of a running container: %s", r)
	}
	e.dockerOK(sock, "rm", "-f", "y1")
	if r := e.rrun("inspect", "y1"); r.code == 0 {
		t.Fatalf("y survived docker rm -f: %s", r)
	}

	// rename; a container made by rrun, driven by docker.
	e.dockerOK(sock, "rename", "x1", "x2")
	contains(t, e.ok("ps", "-a", "--format", "{{.Names}}"), "x2")
	e.ok("create", "--name", "fromrrun", "alpine", "sh", "-c", "echo made by rrun")
	contains(t, e.dockerOK(sock, "ps", "-a", "--format", "{{.Names}}"), "fromrrun")
	e.dockerOK(sock, "start", "fromrrun")
	e.dockerOK(sock, "wait", "fromrrun")
	contains(t, e.dockerOK(sock, "logs", "fromrrun"), "made by rrun")

	// export: a tar of the root filesystem.
	var names []string
	tr := tar.NewReader(strings.NewReader(e.dockerOK(sock, "export", "x2")))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("export: %v", err)
		}
		names = append(names, h.Name)
	}
	contains(t, strings.Join(names, "\n"), "bin/busybox")

	// diff, stats, prune.
	e.dockerOK(sock, "run", "-d", "--name", "writer", "alpine", "sh", "-c", "touch /newfile; sleep 100")
	waitFor(t, "writer's file", func() bool { return strings.Contains(e.docker(sock, "diff", "writer").stdout, "A /newfile") })
	contains(t, e.dockerOK(sock, "stats", "--no-stream", "--format", "{{.Name}}", "writer"), "writer")
	out := e.dockerOK(sock, "container", "prune", "-f")
	contains(t, out, id, "Total reclaimed space")
	if strings.Contains(out, yid) {
		t.Fatalf("prune printed a removed container: %s", out)
	}
	list := e.ok("ps", "-a", "--format", "{{.Names}}")
	if strings.Contains(list, "x2") || strings.Contains(list, "fromrrun") || !strings.Contains(list, "writer") {
		t.Fatalf("after prune: %s", list)
	}
	e.dockerOK(sock, "rm", "-f", "writer")
}

// httpDo sends a request over the socket and returns status, headers and
// body.
func httpDo(t *testing.T, c *http.Client, method, path, body string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, "http://rrun"+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(data)
}

// The container endpoints' statuses, headers and bodies, as dockerd's.
func TestServeContainersHTTP(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "alpine")
	sock := e.serve()
	c := apiClient(sock)

	for _, tc := range []struct {
		body   string
		status int
		want   string
	}{
		{`{"Image":`, 400, `{"message":"invalid JSON`},
		{`{"Image":"nosuch","Cmd":["true"]}`, 404, `{"message":"No such image: nosuch:latest"}` + "\n"},
	} {
		resp, body := httpDo(t, c, "POST", "/v1.41/containers/create", tc.body)
		if resp.StatusCode != tc.status || !strings.HasPrefix(body, tc.want) || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("create %s: %d %q, want %d %q", tc.body, resp.StatusCode, body, tc.status, tc.want)
		}
	}

	// Created: 201 with Warnings [] (never null).
	resp, body := httpDo(t, c, "POST", "/v1.40/containers/create?name=hello", `{"Image":"alpine","Cmd":["sh","-c","echo hello world; sleep 0.3; echo to-stderr >&2; sleep 1; exit 7"],"SomethingNew":true}`)
	var created struct {
		ID       string `json:"Id"`
		Warnings []string
	}
	if resp.StatusCode != 201 || json.Unmarshal([]byte(body), &created) != nil || len(created.ID) != 64 || !strings.Contains(body, `"Warnings":[]`) {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	if resp, body := httpDo(t, c, "POST", "/containers/create?name=hello", `{"Image":"alpine","Cmd":["true"]}`); resp.StatusCode != 409 || !strings.Contains(body, `is already in use by container \"`+created.ID) {
		t.Errorf("name conflict: %d %s", resp.StatusCode, body)
	}

	// wait?condition=next-exit opened before start: headers at once, the
	// body when the container exits.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://rrun/v1.41/containers/"+created.ID[:12]+"/wait?condition=next-exit", nil)
	headers := make(chan *http.Response, 1)
	go func() {
		resp, err := c.Do(req)
		if err != nil {
			t.Errorf("wait: %v", err)
			close(headers)
			return
		}
		headers <- resp
	}()
	var waitResp *http.Response
	select {
	case waitResp = <-headers:
	case <-time.After(10 * time.Second):
		t.Fatal("wait's headers did not come before the container started")
	}
	if waitResp == nil {
		t.FailNow()
	}
	defer waitResp.Body.Close()
	if waitResp.StatusCode != 200 || waitResp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("wait: %d %s", waitResp.StatusCode, waitResp.Header.Get("Content-Type"))
	}
	if resp, body := httpDo(t, c, "POST", "/v1.40/containers/"+created.ID+"/start", ""); resp.StatusCode != 204 || body != "" {
		t.Fatalf("start: %d %q", resp.StatusCode, body)
	}
	if resp, body := httpDo(t, c, "POST", "/v1.40/containers/"+created.ID+"/start", ""); resp.StatusCode != 304 || body != "" {
		t.Errorf("second start: %d %q, want 304", resp.StatusCode, body)
	}
	started := time.Now()
	waitBody, err := io.ReadAll(waitResp.Body)
	if err != nil || string(waitBody) != `{"Error":null,"StatusCode":7}`+"\n" {
		t.Fatalf("wait body: %q %v", waitBody, err)
	}
	if time.Since(started) < 500*time.Millisecond {
		t.Errorf("wait returned before the container exited")
	}

	// Logs: the multiplexed stream, frame by frame.
	resp, body = httpDo(t, c, "GET", "/containers/"+created.ID[:12]+"/logs?stdout=1&stderr=1", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.docker.multiplexed-stream" {
		t.Fatalf("logs: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	want := append([]byte{1, 0, 0, 0, 0, 0, 0, 12}, "hello world\n"...)
	want = append(append(want, 2, 0, 0, 0, 0, 0, 0, 10), "to-stderr\n"...)
	if !bytes.Equal([]byte(body), want) {
		t.Fatalf("logs bytes:\n%q\nwant\n%q", body, want)
	}
	resp, body = httpDo(t, c, "GET", "/v1.41/containers/"+created.ID[:12]+"/logs?stdout=1", "")
	if body != "\x01\x00\x00\x00\x00\x00\x00\x0chello world\n" || resp.Header.Get("Content-Type") != "application/vnd.docker.raw-stream" {
		t.Errorf("stdout-only logs (API 1.41): %q %s", body, resp.Header.Get("Content-Type"))
	}
	if resp, body := httpDo(t, c, "GET", "/containers/"+created.ID+"/logs", ""); resp.StatusCode != 400 || !strings.Contains(body, "you must choose at least one stream") {
		t.Errorf("logs without streams: %d %s", resp.StatusCode, body)
	}
	// A TTY container's log is raw.
	resp, body = httpDo(t, c, "POST", "/containers/create?name=tty", `{"Image":"alpine","Tty":true,"Cmd":["echo","raw"]}`)
	if resp.StatusCode != 201 {
		t.Fatalf("create tty: %d %s", resp.StatusCode, body)
	}
	httpDo(t, c, "POST", "/containers/tty/start", "")
	if resp, body := httpDo(t, c, "POST", "/containers/tty/wait", ""); resp.StatusCode != 200 || !strings.Contains(body, `"StatusCode":0`) {
		t.Fatalf("wait tty: %d %s", resp.StatusCode, body)
	}
	resp, body = httpDo(t, c, "GET", "/containers/tty/logs?stdout=1&stderr=1", "")
	if resp.Header.Get("Content-Type") != "application/vnd.docker.raw-stream" || body != "raw\r\n" {
		t.Errorf("tty logs: %s %q", resp.Header.Get("Content-Type"), body)
	}

	// Export (before the prune below removes it).
	resp, _ = httpDo(t, c, "GET", "/containers/"+created.ID+"/export", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-tar" {
		t.Errorf("export: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, _ := httpDo(t, c, "GET", "/containers/nosuch/export", ""); resp.StatusCode != 404 {
		t.Errorf("export nosuch: %d", resp.StatusCode)
	}

	// Stop, kill, remove, unknown containers.
	resp, body = httpDo(t, c, "POST", "/containers/create?name=sleeper", `{"Image":"alpine","Cmd":["sleep","100"]}`)
	if resp.StatusCode != 201 {
		t.Fatalf("create sleeper: %d %s", resp.StatusCode, body)
	}
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"POST", "/containers/nosuch/start", 404, `{"message":"No such container: nosuch"}`},
		{"POST", "/containers/nosuch/wait", 404, "No such container: nosuch"},
		{"POST", "/containers/sleeper/wait?condition=bogus", 400, "invalid condition"},
		{"POST", "/containers/sleeper/kill", 409, "is not running"},
		{"POST", "/containers/sleeper/stop", 304, ""},
		{"POST", "/containers/sleeper/start", 204, ""},
		{"GET", "/containers/sleeper/top", 200, `"Titles":[`},
		{"POST", "/containers/sleeper/pause", 0, ""},
		{"GET", "/containers/sleeper/stats?stream=0", 200, `"name":"/sleeper"`},
		{"DELETE", "/containers/sleeper", 409, `cannot remove container \"/sleeper\": container is running`},
		{"POST", "/containers/sleeper/update", 200, `{"Warnings":[]}`},
		{"POST", "/containers/sleeper/stop?t=1", 204, ""},
		{"POST", "/containers/sleeper/rename?name=sleeper2", 204, ""},
		{"GET", "/containers/sleeper2/changes", 200, ""},
		{"DELETE", "/containers/sleeper2?v=1", 204, ""},
		{"DELETE", "/containers/sleeper2", 404, "No such container: sleeper2"},
		{"POST", "/containers/prune", 200, `"SpaceReclaimed":`},
	} {
		body := ""
		if tc.path == "/containers/sleeper/update" {
			body = `{"RestartPolicy":{"Name":"no"}}`
		}
		resp, got := httpDo(t, c, tc.method, tc.path, body)
		if strings.HasSuffix(tc.path, "/pause") {
			t.Logf("pause: %d %s", resp.StatusCode, strings.TrimSpace(got))
			// Frozen with a cgroup v2 of its own; else the engine's reason,
			// a failed precondition (412 as moby maps it), never a 500.
			switch {
			case resp.StatusCode == 204:
				if resp, got := httpDo(t, c, "POST", "/containers/sleeper/unpause", ""); resp.StatusCode != 204 {
					t.Errorf("unpause: %d %s", resp.StatusCode, got)
				}
			case resp.StatusCode != 412 || !strings.Contains(got, "pausing containers needs cgroup v2"):
				t.Errorf("pause: %d %s", resp.StatusCode, got)
			}
			continue
		}
		if resp.StatusCode != tc.status || !strings.Contains(got, tc.body) {
			t.Errorf("%s %s: %d %q, want %d with %q", tc.method, tc.path, resp.StatusCode, got, tc.status, tc.body)
		}
	}
}
