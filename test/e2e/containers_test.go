//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// containerInspect is the part of docker's container inspect tests read.
type containerInspect struct {
	ID    string `json:"Id"`
	Name  string
	Path  string
	Args  []string
	State struct {
		Status     string
		Running    bool
		Pid        int
		ExitCode   int
		Error      string
		StartedAt  string
		FinishedAt string
	}
	Image        string
	RestartCount int
	LogPath      string
	Config       struct {
		Hostname   string
		Env        []string
		Cmd        []string
		Image      string
		WorkingDir string
		Labels     map[string]string
	}
	HostConfig struct {
		AutoRemove    bool
		RestartPolicy struct{ Name string }
	}
}

func (e *env) inspectContainer(name string) containerInspect {
	e.t.Helper()
	var out []containerInspect
	if err := json.Unmarshal([]byte(e.ok("container", "inspect", name)), &out); err != nil || len(out) != 1 {
		e.t.Fatalf("container inspect %s: %v", name, err)
	}
	return out[0]
}

// waitFor polls cond until it holds or ten seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestRunOutputAndExitCode(t *testing.T) {
	e := newEnv(t)
	r := e.rrun("run", "--name", "hello", "alpine", "sh", "-c", "echo out; echo err >&2; exit 3")
	if r.code != 3 {
		t.Fatalf("exit status %d, want the container's 3: %s", r.code, r)
	}
	if r.stdout != "out\n" || !strings.Contains(r.stderr, "err\n") {
		t.Fatalf("stdout %q stderr %q", r.stdout, r.stderr)
	}
	// The image was pulled on first use, as docker run does.
	contains(t, r.stderr, "Unable to find image 'alpine:latest' locally")
	info := e.inspectContainer("hello")
	if info.State.Status != "exited" || info.State.ExitCode != 3 || info.Name != "/hello" {
		t.Fatalf("state %+v name %s", info.State, info.Name)
	}
	if info.Path != "sh" || fmt.Sprint(info.Args) != "[-c echo out; echo err >&2; exit 3]" {
		t.Errorf("Path %q Args %q", info.Path, info.Args)
	}
	// Logs keep stdout and stderr apart.
	lr := e.rrun("logs", "hello")
	if lr.stdout != "out\n" || lr.stderr != "err\n" {
		t.Errorf("logs: stdout %q stderr %q", lr.stdout, lr.stderr)
	}
	// The container ran as root of the user namespace, in its own pid namespace.
	out := e.ok("run", "--rm", "alpine", "sh", "-c", "id -u; echo $$; hostname")
	f := lines(out)
	if len(f) != 3 || f[0] != "0" || f[1] != "1" || len(f[2]) != 12 {
		t.Errorf("id/pid/hostname inside: %q", out)
	}
}

func TestRunExitCodesForBadCommands(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "-q", "alpine")
	if r := e.rrun("run", "--rm", "alpine", "/no/such/command"); r.code != 127 {
		t.Errorf("missing command: exit %d, want 127: %s", r.code, r)
	}
	if r := e.rrun("run", "--rm", "alpine", "/etc/passwd"); r.code != 126 {
		t.Errorf("non-executable command: exit %d, want 126: %s", r.code, r)
	}
	if r := e.rrun("run", "--rm", "no-such-image-anywhere"); r.code != 125 {
		t.Errorf("unknown image: exit %d, want 125: %s", r.code, r)
	}
	if r := e.rrun("run", "--rm", "--pull", "never", "busybox", "true"); r.code != 125 || !strings.Contains(r.stderr, "No such image") {
		t.Errorf("--pull never without the image: %s", r)
	}
	// --rm containers that could not start are gone too, as with docker.
	if out := e.ok("ps", "-a", "-q"); out != "" {
		t.Errorf("--rm containers that failed to start are left: %q", out)
	}
}

func TestRunRemovesWithRm(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "--rm", "--name", "gone", "alpine", "true")
	if out := e.ok("ps", "-a", "-q"); out != "" {
		t.Fatalf("--rm container still listed: %q", out)
	}
	if r := e.rrun("run", "--rm", "alpine", "sh", "-c", "exit 4"); r.code != 4 {
		t.Fatalf("--rm kept the exit status? %s", r)
	}
}

func TestDetachedLifecycle(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(e.ok("run", "-d", "--name", "sleeper", "-l", "app=web", "alpine", "sh", "-c", "echo started; trap 'echo bye; exit 0' TERM; while true; do sleep 0.1; done"))
	if len(id) != 64 {
		t.Fatalf("run -d printed %q, want a 64-hex id", id)
	}
	waitFor(t, "the first log line", func() bool { return e.rrun("logs", "sleeper").stdout == "started\n" })
	info := e.inspectContainer("sleeper")
	if !info.State.Running || info.State.Pid <= 0 || info.Config.Labels["app"] != "web" {
		t.Fatalf("running container: %+v", info.State)
	}
	ps := lines(e.ok("ps"))
	if len(ps) != 2 || !strings.Contains(ps[1], "sleeper") || !strings.Contains(ps[1], "Up ") {
		t.Fatalf("ps:\n%s", strings.Join(ps, "\n"))
	}
	if got := strings.TrimSpace(e.ok("ps", "-q", "--no-trunc")); got != id {
		t.Errorf("ps -q --no-trunc = %q", got)
	}
	if got := strings.TrimSpace(e.ok("ps", "--filter", "label=app=web", "--format", "{{.Names}} {{.State}}")); got != "sleeper running" {
		t.Errorf("ps with label filter: %q", got)
	}
	// rm without -f is refused while it runs.
	contains(t, e.fails(1, "rm", "sleeper"), "container is running")
	// stop sends SIGTERM: the trap runs, the container exits 0.
	e.ok("stop", "sleeper")
	info = e.inspectContainer("sleeper")
	if info.State.Running || info.State.Status != "exited" || info.State.ExitCode != 0 {
		t.Fatalf("after stop: %+v", info.State)
	}
	contains(t, e.ok("logs", "sleeper"), "started\nbye\n")
	if got := e.ok("ps", "-q"); got != "" {
		t.Errorf("ps lists a stopped container: %q", got)
	}
	contains(t, e.ok("ps", "-a", "--format", "{{.Status}}"), "Exited (0)")
	// It can be started again; the log keeps both runs.
	e.ok("start", "sleeper")
	waitFor(t, "the second start", func() bool { return strings.Count(e.rrun("logs", "sleeper").stdout, "started") == 2 })
	e.ok("kill", "sleeper")
	if got := strings.TrimSpace(e.ok("wait", "sleeper")); got != "137" {
		t.Errorf("wait after kill: %q, want 137", got)
	}
	e.ok("rm", "sleeper")
	contains(t, e.fails(1, "inspect", "sleeper"), "No such object: sleeper")
}

func TestNameConflict(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(e.ok("create", "--name", "taken", "alpine", "true"))
	stderr := e.fails(125, "create", "--name", "taken", "alpine", "true")
	contains(t, stderr, `The container name "/taken" is already in use by container "`+id+`"`)
	contains(t, e.fails(125, "create", "--name", "bad/name", "alpine"), "Invalid container name")
}

func TestConfigReachesTheProcess(t *testing.T) {
	e := newEnv(t)
	vol := filepath.Join(e.work, "data")
	e.mkdirAsUser(vol)
	if err := os.Chmod(vol, 0o755); err != nil { // container uid 1000 is not the user
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(vol, "hello.txt"), []byte("from host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if tuser.asRoot {
		_ = os.Chown(filepath.Join(vol, "hello.txt"), tuser.uid, tuser.gid)
	}
	out := e.ok("run", "--rm", "-e", "GREETING=hi,there", "-w", "/tmp", "-u", "1000:1000",
		"--hostname", "box", "-v", vol+":/data", "--tmpfs", "/scratch", "alpine",
		"sh", "-c", `echo "$GREETING"; pwd; id -u; id -g; hostname; cat /data/hello.txt; touch /scratch/x && echo tmpfs-ok`)
	want := "hi,there\n/tmp\n1000\n1000\nbox\nfrom host\ntmpfs-ok\n"
	if out != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}
	// A read-only root filesystem refuses writes.
	if r := e.rrun("run", "--rm", "--read-only", "alpine", "touch", "/x"); r.code == 0 {
		t.Errorf("--read-only allowed a write: %s", r)
	}
	// A named volume keeps data between containers.
	e.ok("run", "--rm", "-v", "keep:/v", "alpine", "sh", "-c", "echo kept > /v/f")
	if got := e.ok("run", "--rm", "-v", "keep:/v", "alpine", "cat", "/v/f"); got != "kept\n" {
		t.Errorf("named volume: %q", got)
	}
	// --entrypoint replaces the image's command.
	if got := e.ok("run", "--rm", "--entrypoint", "echo", "alpine", "a", "b"); got != "a b\n" {
		t.Errorf("--entrypoint: %q", got)
	}
}

func TestInteractiveStdin(t *testing.T) {
	e := newEnv(t)
	r := e.rrunInput(strings.NewReader("line one\nline two\n"), "run", "--rm", "-i", "alpine", "sh", "-c", "cat; echo done")
	if r.code != 0 || r.stdout != "line one\nline two\ndone\n" {
		t.Fatalf("run -i: %s", r)
	}
}

func TestRestartPolicyOnFailure(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "-d", "--name", "flaky", "--restart", "on-failure:2", "alpine", "sh", "-c", "echo try; exit 1")
	waitFor(t, "two restarts", func() bool {
		info := e.inspectContainer("flaky")
		return info.State.Status == "exited" && info.RestartCount == 2
	})
	if n := strings.Count(e.ok("logs", "flaky"), "try"); n != 3 {
		t.Errorf("ran %d times, want 3 (first run + 2 restarts)", n)
	}
}

// The container outlives the CLI; a killed monitor is reported, not shown
// as running forever; a wiped run root (a reboot) leaves it exited.
func TestFaultsLeaveTruthfulState(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "-d", "--name", "victim", "alpine", "sleep", "1000")
	info := e.inspectContainer("victim")
	if !info.State.Running {
		t.Fatalf("not running: %+v", info.State)
	}
	// Kill the container's init behind rrun's back.
	if err := syscall.Kill(info.State.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the exit to be recorded", func() bool { return e.inspectContainer("victim").State.Status == "exited" })
	if got := e.inspectContainer("victim").State.ExitCode; got != 137 {
		t.Errorf("exit code after SIGKILL: %d", got)
	}
	// Kill the monitor and the container: ps must not say "Up".
	e.ok("start", "victim")
	info = e.inspectContainer("victim")
	monitor := monitorPID(t, e, info.ID)
	_ = syscall.Kill(monitor, syscall.SIGKILL)
	_ = syscall.Kill(info.State.Pid, syscall.SIGKILL)
	waitFor(t, "the loss to be noticed", func() bool { return e.inspectContainer("victim").State.Status == "exited" })
	contains(t, e.inspectContainer("victim").State.Error, "monitor")
	// A wiped run root: the container is exited and starts again.
	e.ok("start", "victim")
	info = e.inspectContainer("victim")
	_ = syscall.Kill(monitorPID(t, e, info.ID), syscall.SIGKILL)
	_ = syscall.Kill(info.State.Pid, syscall.SIGKILL)
	e.killPause()
	time.Sleep(100 * time.Millisecond)
	if err := os.RemoveAll(e.runroot); err != nil {
		t.Fatal(err)
	}
	if got := e.inspectContainer("victim").State.Status; got != "exited" {
		t.Fatalf("after the run root was wiped: %s", got)
	}
	e.ok("start", "victim")
	if !e.inspectContainer("victim").State.Running {
		t.Fatal("could not start again after a wiped run root")
	}
	e.ok("rm", "-f", "victim")
}

// monitorPID reads the monitor's pid from the container's state file.
func monitorPID(t *testing.T, e *env, id string) int {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(e.root, "*-containers", id, "userdata", "state.json"))
	if len(matches) != 1 {
		t.Fatalf("state.json of %s not found", id)
	}
	var st struct {
		MonitorPid int `json:"monitorPid"`
	}
	data, err := os.ReadFile(matches[0])
	if err != nil || json.Unmarshal(data, &st) != nil || st.MonitorPid == 0 {
		t.Fatalf("reading %s: %v", matches[0], err)
	}
	return st.MonitorPid
}

func TestConcurrentLifecycles(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "-q", "alpine")
	const n = 4
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			name := fmt.Sprintf("par%d", i)
			for _, args := range [][]string{
				{"create", "--name", name, "alpine", "sh", "-c", "echo " + name},
				{"start", "-a", name},
				{"rm", name},
			} {
				if r := e.rrun(args...); r.code != 0 {
					errs <- fmt.Sprintf("%v: %s", args, r)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if out := e.ok("ps", "-a", "-q"); out != "" {
		t.Fatalf("containers left: %q", out)
	}
}

// --init puts rrun's own init (the same static binary) in front of the
// command: it is PID 1, reaps orphans, forwards signals and passes the
// exit status through.
func TestBuiltInInit(t *testing.T) {
	e := newEnv(t)
	out := e.ok("run", "--rm", "--init", "alpine", "sh", "-c", "cat /proc/1/comm; echo $$")
	if f := lines(out); len(f) != 2 || f[0] != "rrun-init" || f[1] == "1" {
		t.Fatalf("with --init, PID 1 is %q", out)
	}
	if r := e.rrun("run", "--rm", "--init", "alpine", "sh", "-c", "exit 9"); r.code != 9 {
		t.Fatalf("exit status through the init: %s", r)
	}
	// sh as PID 1 ignores SIGTERM; behind the init it gets it and stops.
	e.ok("run", "-d", "--init", "--name", "initd", "alpine", "sh", "-c", "sleep 1000 & wait")
	// A signal that reaches a PID 1 before it handles signals is dropped
	// by the kernel (docker's tini has the same window): wait until the
	// command runs behind the init.
	waitFor(t, "the command behind the init", func() bool { return e.rrun("exec", "initd", "pidof", "sleep").code == 0 })
	start := time.Now()
	e.ok("stop", "-t", "5", "initd")
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("stop took %v: the init did not forward SIGTERM", d)
	}
	// An orphan that exits is reaped rather than left a zombie.
	e.ok("run", "-d", "--init", "--name", "reaper", "alpine", "sh", "-c", "(sleep 0.1 &) ; sleep 1000")
	time.Sleep(500 * time.Millisecond)
	if z := e.ok("exec", "reaper", "sh", "-c", "grep -l '^State:.*Z' /proc/[0-9]*/status || true"); strings.TrimSpace(z) != "" {
		t.Fatalf("zombies in the container: %s", z)
	}
}
