//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// serve starts `rrun serve` for the env and returns its socket; it stops
// when the test ends.
func (e *env) serve() string {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := e.command(ctx, "serve")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	sock := filepath.Join(e.runroot, "rrun.sock")
	waitFor(e.t, "rrun serve's socket", func() bool {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return sock
}

// docker runs the docker CLI as the test user against sock.
func (e *env) docker(sock string, args ...string) result {
	e.t.Helper()
	return e.dockerStdin(sock, nil, args...)
}

// dockerStdin runs the docker CLI with stdin from in (nil: none).
func (e *env) dockerStdin(sock string, in io.Reader, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd, out, errb := e.dockerCmd(ctx, sock, in, args...)
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("docker %v: %v", args, err)
	}
	return r
}

// dockerCmd prepares the docker CLI as the test user against sock.
func (e *env) dockerCmd(ctx context.Context, sock string, stdin io.Reader, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = append(userEnv(), "DOCKER_HOST=unix://"+sock, "DOCKER_CONFIG="+filepath.Join(e.work, ".docker"))
	cmd.Dir = e.work
	cmd.SysProcAttr = userCredential()
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	return cmd, &out, &errb
}

// apiClient talks HTTP over the socket (as root: the file mode is checked
// separately).
func apiClient(sock string) *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}, Timeout: 30 * time.Second}
}

func TestServeDockerCLIReads(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(e.ok("run", "-d", "--name", "web", "-p", "0:80", "-l", "app=web", "alpine", "sleep", "1000"))
	e.ok("network", "create", "front")
	e.ok("volume", "create", "data")
	sock := e.serve()

	// The socket is its owner's alone.
	st, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %o, want 600", st.Mode().Perm())
	}
	if dir, _ := os.Stat(filepath.Dir(sock)); dir.Mode().Perm() != 0o700 {
		t.Errorf("socket directory mode %o, want 700", dir.Mode().Perm())
	}
	if tuser.asRoot { // as another user (nobody), the API is out of reach
		other, err := user.Lookup("nobody")
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(other.Uid)
		gid, _ := strconv.Atoi(other.Gid)
		cmd := exec.Command("curl", "-sS", "--unix-socket", sock, "http://x/_ping")
		cmd.SysProcAttr = credentialFor(uid, gid)
		if out, err := cmd.CombinedOutput(); err == nil {
			t.Fatalf("another user reached the API: %s", out)
		}
	}

	// The docker CLI negotiates, and reads what the rrun CLI made.
	contains(t, e.docker(sock, "version", "--format", "{{.Server.Version}} {{.Server.APIVersion}}").stdout, "1.51")
	r := e.docker(sock, "ps", "--format", "{{.ID}} {{.Names}} {{.Label \"app\"}} {{.Ports}}")
	contains(t, r.stdout, id[:12]+" web web 0.0.0.0:", "->80/tcp")
	contains(t, e.docker(sock, "ps", "-q", "--filter", "label=app=web").stdout, id[:12])
	if out := e.docker(sock, "ps", "-q", "--filter", "label=app=other").stdout; out != "" {
		t.Errorf("label filter kept %q", out)
	}
	contains(t, e.docker(sock, "images", "--format", "{{.Repository}}:{{.Tag}}").stdout, "alpine:latest")
	contains(t, e.docker(sock, "network", "ls", "--format", "{{.Name}}").stdout, "bridge\n", "front\n", "host\n", "none\n")
	contains(t, e.docker(sock, "volume", "ls", "-q").stdout, "data\n")
	contains(t, e.docker(sock, "inspect", "--format", "{{.Name}} {{.State.Running}} {{.NetworkSettings.Networks.bridge.IPAddress}}", "web").stdout, "/web true 172.17.0.")
	contains(t, e.docker(sock, "image", "inspect", "--format", "{{.Os}}", "alpine").stdout, "linux")
	contains(t, e.docker(sock, "network", "inspect", "--format", "{{.Name}} {{.Driver}}", "front").stdout, "front bridge")
	contains(t, e.docker(sock, "info", "--format", "{{.Containers}} {{.ContainersRunning}} {{.OSType}}").stdout, "1 1 linux")
	if r := e.docker(sock, "inspect", "nosuch"); r.code != 1 || !strings.Contains(r.stderr, "No such object: nosuch") {
		t.Errorf("inspect nosuch: %s", r)
	}

	// Over HTTP: versions, _ping's headers, docker's error bodies.
	c := apiClient(sock)
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/_ping", 200, "OK"},
		{"HEAD", "/_ping", 200, ""},
		{"GET", "/v1.24/containers/json", 200, id},
		{"GET", "/containers/" + id[:12] + "/json", 200, `"Name":"/web"`},
		{"GET", "/v1.41/containers/nosuch/json", 404, `{"message":"No such container: nosuch"}`},
		{"GET", "/v1.12/version", 400, `{"message":"client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version"}`},
		{"GET", "/v9.99/version", 400, "is too new"},
		{"GET", "/containers/json?filters=notjson", 400, "invalid filter"},
		{"GET", "/nosuch", 404, `{"message":"page not found"}`},
		{"GET", "/images/alpine/json", 200, `"RepoTags":["alpine:latest"]`},
		{"GET", "/images/nosuch/json", 404, "No such image: nosuch"},
	} {
		req, _ := http.NewRequest(tc.method, "http://rrun"+tc.path, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.body) {
			t.Errorf("%s %s: %d %s, want %d with %q", tc.method, tc.path, resp.StatusCode, body, tc.status, tc.body)
		}
		if tc.status >= 400 && resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: error Content-Type %q", tc.method, tc.path, resp.Header.Get("Content-Type"))
		}
		if tc.path == "/_ping" {
			for k, want := range map[string]string{"Api-Version": "1.51", "Ostype": "linux", "Docker-Experimental": "false",
				"Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache"} {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s /_ping: %s = %q, want %q", tc.method, k, got, want)
				}
			}
		}
	}
	var list []map[string]any
	resp, err := c.Get("http://rrun/containers/json?all=1")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || len(list) != 1 {
		t.Fatalf("containers/json: %v %v", list, err)
	}
	resp.Body.Close()
	// A second server on the same socket is refused; the first keeps serving.
	contains(t, e.fails(1, "serve"), "another server already listens on "+sock)
	contains(t, e.docker(sock, "ps", "-q").stdout, id[:12])
}

func TestServeNetworksVolumesEvents(t *testing.T) {
	e := newEnv(t)
	sock := e.serve()
	since := time.Now()
	// Networks through the docker CLI, seen by rrun's.
	id := strings.TrimSpace(e.docker(sock, "network", "create", "--subnet", "10.66.0.0/24", "--label", "via=docker", "apinet").stdout)
	if len(id) != 64 {
		t.Fatalf("docker network create printed %q", id)
	}
	contains(t, e.ok("network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}} {{end}}", "apinet"), "10.66.0.0/24")
	if r := e.docker(sock, "network", "create", "apinet"); r.code == 0 || !strings.Contains(r.stderr, "network with name apinet already exists") {
		t.Errorf("duplicate network: %s", r)
	}
	e.ok("run", "-d", "--name", "member", "alpine", "sleep", "1000")
	e.docker(sock, "network", "connect", "apinet", "member")
	contains(t, e.ok("exec", "member", "ip", "-o", "-4", "addr"), "10.66.0.")
	if r := e.docker(sock, "network", "rm", "apinet"); r.code == 0 || !strings.Contains(r.stderr, "has active endpoints") {
		t.Errorf("rm of a used network: %s", r)
	}
	e.docker(sock, "network", "disconnect", "apinet", "member")
	e.docker(sock, "network", "rm", "apinet")
	contains(t, e.fails(1, "network", "inspect", "apinet"), "not found")
	// Volumes.
	e.docker(sock, "volume", "create", "--label", "via=docker", "apivol")
	contains(t, e.ok("volume", "ls", "-q"), "apivol")
	contains(t, e.docker(sock, "volume", "rm", "apivol").stdout, "apivol")
	if r := e.docker(sock, "volume", "inspect", "apivol"); r.code == 0 {
		t.Errorf("volume still there: %s", r)
	}
	// Malformed bodies are the client's error, in dockerd's shape.
	resp, err := apiClient(sock).Post("http://rrun/v1.41/networks/create", "application/json", strings.NewReader("{not json"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.HasPrefix(string(body), `{"message":"invalid JSON`) {
		t.Errorf("malformed network create: %d %s", resp.StatusCode, body)
	}
	// The events of all that, through docker events.
	until := time.Now()
	out := e.docker(sock, "events", "--since", since.Format(time.RFC3339Nano), "--until", until.Format(time.RFC3339Nano),
		"--filter", "type=network", "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}").stdout
	contains(t, out, "network create apinet\n", "network connect apinet\n", "network disconnect apinet\n", "network destroy apinet\n")
	// A live stream: an event appears while the client listens.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://rrun/events?filters="+`{"type":["volume"]}`, nil)
	resp, err = apiClient(sock).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	e.ok("volume", "create", "live")
	var msg struct {
		Type, Action string
		Actor        struct{ ID string }
		TimeNano     int64 `json:"timeNano"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&msg); err != nil {
		t.Fatal(err)
	}
	if msg.Type != "volume" || msg.Action != "create" || msg.Actor.ID != "live" || msg.TimeNano == 0 {
		t.Fatalf("live event: %+v", msg)
	}
}

// serve killed with -9 leaves its socket file behind; the next serve
// replaces it, and the containers went on running meanwhile.
func TestServeKilledRestartsClean(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(e.ok("run", "-d", "alpine", "sleep", "1000"))
	cmd := e.command(context.Background(), "serve")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(e.runroot, "rrun.sock")
	waitFor(t, "the first server", func() bool {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("expected the killed server's socket file to remain: %v", err)
	}
	e.serve()
	contains(t, e.docker(sock, "ps", "-q", "--no-trunc").stdout, id)
}

// A client may remove a container as soon as it has the logs' headers,
// before it reads the body (docker-py's containers.run does): the lines
// logged must still come.
func TestServeLogsOutliveRemoval(t *testing.T) {
	e := newEnv(t)
	sock := e.serve()
	id := strings.TrimSpace(e.ok("run", "-d", "alpine", "sh", "-c", "echo before; sleep 0.3; echo after"))
	resp, err := apiClient(sock).Get("http://rrun/containers/" + id + "/logs?stdout=1&follow=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	e.ok("wait", id)
	e.ok("rm", id)
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	// Each line in its 8-byte frame (stream 1).
	want := "\x01\x00\x00\x00\x00\x00\x00\x07before\n\x01\x00\x00\x00\x00\x00\x00\x06after\n"
	if string(body) != want {
		t.Fatalf("logs after removal: %q, want %q", body, want)
	}
}
