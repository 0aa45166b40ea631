//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// dockerpyResult is what testdata/dockerpy_client.py prints: each step's
// value, or {"error": …, "trace": …} when the step raised.
type dockerpyResult map[string]json.RawMessage

// debianPython is the interpreter python3-docker is installed for; a
// python3 earlier on root's PATH (pyenv) would not have it.
const debianPython = "/usr/bin/python3"

// TestServeClientsDockerPy drives rrun serve with Debian's python3-docker
// (docker-py), unmodified, as the test user.
func TestServeClientsDockerPy(t *testing.T) {
	if _, err := exec.Command(debianPython, "-c", "import docker").CombinedOutput(); err != nil {
		t.Skip("python3-docker is not installed (hack/setup.sh installs it)")
	}
	e := newEnv(t)
	sock := e.serve()
	src, err := os.ReadFile("testdata/dockerpy_client.py")
	if err != nil {
		t.Fatal(err)
	}
	script := e.writeUserFile("dockerpy_client.py", src)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, debianPython, script)
	cmd.Dir = e.work
	cmd.Env = append(userEnv(), "DOCKER_HOST=unix://"+sock)
	cmd.SysProcAttr = userCredential()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("docker-py script: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	var res dockerpyResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("docker-py output: %v\n%s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	// step decodes one step's value into v, failing the test with the
	// Python traceback if the step raised.
	step := func(name string, v any) bool {
		t.Helper()
		raw, ok := res[name]
		if !ok {
			t.Errorf("docker-py: step %s did not run", name)
			return false
		}
		var failed struct {
			Error, Trace string
		}
		if json.Unmarshal(raw, &failed) == nil && failed.Error != "" {
			t.Errorf("docker-py: %s: %s\n%s", name, failed.Error, failed.Trace)
			return false
		}
		if err := json.Unmarshal(raw, v); err != nil {
			t.Errorf("docker-py: %s: %v in %s", name, err, raw)
			return false
		}
		return true
	}

	var ping bool
	if step("ping", &ping) && !ping {
		t.Errorf("ping returned false")
	}
	var version struct{ ApiVersion, Os string }
	if step("version", &version) && (version.ApiVersion != "1.51" || version.Os != "linux") {
		t.Errorf("version: %+v", version)
	}
	var pull struct{ Tags []string }
	if step("pull", &pull) && !slicesContain(pull.Tags, "busybox:latest") {
		t.Errorf("pull busybox: tags %v", pull.Tags)
	}
	var echo string
	if step("run_echo", &echo) && echo != "hi\n" {
		t.Errorf("run echo hi: %q", echo)
	}
	var detached struct {
		ID     string
		Status string
		Labels map[string]string
		Ports  map[string][]struct{ HostIp, HostPort string }
	}
	if step("detached", &detached) {
		if detached.Status != "running" || detached.Labels["rrun.e2e"] != "dockerpy" {
			t.Errorf("detached container: %+v", detached)
		}
		if b := detached.Ports["80/tcp"]; len(b) == 0 || b[0].HostPort == "" || b[0].HostPort == "0" {
			t.Errorf("published port 80/tcp: %+v", detached.Ports)
		}
		var ex struct {
			Code   int
			Output string
		}
		if step("exec", &ex) && (ex.Code != 0 || ex.Output != "x\n") {
			t.Errorf("exec_run echo x: %+v", ex)
		}
		var logs string
		if step("logs_before", &logs) && logs != "" {
			t.Errorf("logs of a silent sleep: %q", logs)
		}
		var listed []string
		if step("list", &listed) && (len(listed) != 1 || listed[0] != detached.ID) {
			t.Errorf("list by label: %v, want [%s]", listed, detached.ID)
		}
		var status string
		if step("stop", &status) && status != "exited" {
			t.Errorf("status after stop: %q", status)
		}
		if step("remove", &listed) && len(listed) != 0 {
			t.Errorf("list after remove: %v", listed)
		}
	}
	var nw struct {
		ID            string
		Listed, After bool
	}
	if step("network", &nw) && (len(nw.ID) != 64 || !nw.Listed || nw.After) {
		t.Errorf("network create/list/remove: %+v", nw)
	}
	var vol struct {
		Name          string
		Listed, After bool
	}
	if step("volume", &vol) && (vol.Name != "dockerpy-vol" || !vol.Listed || vol.After) {
		t.Errorf("volume create/list/remove: %+v", vol)
	}
	// What docker-py made is what rrun's own CLI sees.
	if out := e.ok("ps", "-a", "-q", "--filter", "label=rrun.e2e=dockerpy"); strings.TrimSpace(out) != "" {
		t.Errorf("rrun ps after docker-py removed its container: %q", out)
	}
}

// TestServeClientsMobyGo drives rrun serve with the moby Go client
// (github.com/moby/moby/client), as root: root may reach the user's socket.
func TestServeClientsMobyGo(t *testing.T) {
	e := newEnv(t)
	sock := e.serve()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	cli, err := client.New(client.WithHost("unix://"+sock), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()

	ping, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	if err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if ping.APIVersion != "1.51" || ping.OSType != "linux" {
		t.Errorf("Ping: %+v", ping)
	}
	if v := cli.ClientVersion(); v != "1.51" {
		t.Errorf("negotiated API version %q, want 1.51", v)
	}
	ver, err := cli.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		t.Fatalf("ServerVersion: %v", err)
	}
	if ver.APIVersion != "1.51" || ver.Os != "linux" || ver.Version == "" {
		t.Errorf("ServerVersion: %+v", ver)
	}

	pull, err := cli.ImagePull(ctx, "alpine", client.ImagePullOptions{})
	if err != nil {
		t.Fatalf("ImagePull: %v", err)
	}
	if err := pull.Wait(ctx); err != nil {
		t.Fatalf("ImagePull: %v", err)
	}

	created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: "mobygo",
		Config: &container.Config{
			Image:  "alpine",
			Cmd:    []string{"sh", "-c", "echo out; echo err >&2; exit 3"},
			Labels: map[string]string{"via": "moby-go"},
		},
	})
	if err != nil {
		t.Fatalf("ContainerCreate: %v", err)
	}
	if len(created.ID) != 64 {
		t.Errorf("ContainerCreate ID %q", created.ID)
	}
	// Wait for next-exit before starting, as docker run does.
	wait := cli.ContainerWait(ctx, created.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if _, err := cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatalf("ContainerStart: %v", err)
	}
	select {
	case r := <-wait.Result:
		if r.StatusCode != 3 || r.Error != nil {
			t.Errorf("ContainerWait: %+v", r)
		}
	case err := <-wait.Error:
		t.Fatalf("ContainerWait: %v", err)
	case <-ctx.Done():
		t.Fatal("ContainerWait: timed out")
	}

	logs, err := cli.ContainerLogs(ctx, created.ID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatalf("ContainerLogs: %v", err)
	}
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, logs); err != nil {
		t.Errorf("ContainerLogs demux: %v", err)
	}
	logs.Close()
	if stdout.String() != "out\n" || stderr.String() != "err\n" {
		t.Errorf("ContainerLogs: stdout %q stderr %q", stdout.String(), stderr.String())
	}

	images, err := cli.ImageList(ctx, client.ImageListOptions{})
	if err != nil {
		t.Fatalf("ImageList: %v", err)
	}
	var tags []string
	for _, img := range images.Items {
		tags = append(tags, img.RepoTags...)
	}
	if !slicesContain(tags, "alpine:latest") {
		t.Errorf("ImageList tags %v, want alpine:latest", tags)
	}

	if _, err := cli.ContainerRemove(ctx, created.ID, client.ContainerRemoveOptions{}); err != nil {
		t.Fatalf("ContainerRemove: %v", err)
	}
	if _, err := cli.ContainerRemove(ctx, created.ID, client.ContainerRemoveOptions{}); !strings.Contains(errString(err), "No such container") {
		t.Errorf("second ContainerRemove: %v", err)
	}
	if out := e.ok("ps", "-a", "-q"); strings.TrimSpace(out) != "" {
		t.Errorf("rrun ps after ContainerRemove: %q", out)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
