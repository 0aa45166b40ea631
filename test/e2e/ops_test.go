//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// unixTime is t as docker's --since/--until take it.
func unixTime(t time.Time) string {
	return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond())
}

// eventLine is docker's default events line.
var eventLine = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) (\w+) (\S+) (\S*)( \((.*)\))?$`)

func TestEvents(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "-q", "alpine")
	since := time.Now()
	e.ok("run", "--rm", "--name", "evt", "-l", "app=ev", "alpine", "true")
	e.ok("tag", "alpine", "mine:1")
	e.ok("rmi", "mine:1")
	until := time.Now()
	window := []string{"events", "--since", unixTime(since), "--until", unixTime(until)}

	out := e.ok(window...)
	var actions []string
	var id string
	for _, l := range lines(out) {
		m := eventLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("not docker's event line: %q", l)
		}
		actions = append(actions, m[2]+" "+m[3])
		if m[2] == "container" && m[3] == "create" {
			id = m[4]
			contains(t, m[6], "name=evt", "image=alpine", "app=ev")
		}
	}
	// docker's order, network events included.
	if got := strings.Join(actions, ","); got != "container create,network connect,container start,container die,network disconnect,container destroy,image tag,image untag" {
		t.Fatalf("events: %s\n%s", got, out)
	}
	if len(id) != 64 {
		t.Errorf("container id %q", id)
	}
	for _, tc := range []struct {
		filters []string
		want    string
	}{
		{[]string{"--filter", "event=die"}, "die evt"},
		{[]string{"--filter", "container=ev", "--filter", "event=start", "--filter", "event=destroy"}, "start evt,destroy evt"},
		{[]string{"--filter", "container=" + id[:12], "--filter", "type=container"}, "create evt,start evt,die evt,destroy evt"},
		{[]string{"--filter", "label=app=ev", "--filter", "event=create"}, "create evt"},
		{[]string{"--filter", "label=app=other"}, ""},
		{[]string{"--filter", "type=image"}, "tag mine:1,untag " + e.inspectImage("alpine").ID},
		{[]string{"--filter", "image=alpine", "--filter", "type=container", "--filter", "event=die"}, "die evt"},
	} {
		args := append(append(append([]string{}, window...), tc.filters...), "--format", "{{.Action}} {{.Actor.Attributes.name}}")
		if got := strings.Join(lines(e.ok(args...)), ","); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.filters, got, tc.want)
		}
	}
	var msg struct {
		Type, Action string
		Actor        struct{ ID string }
		Time         int64 `json:"time"`
		TimeNano     int64 `json:"timeNano"`
	}
	mustJSON(t, lines(e.ok(append(window, "--filter", "event=create", "--format", "json")...))[0], &msg)
	if msg.Type != "container" || msg.Actor.ID != id || msg.TimeNano < since.UnixNano() || msg.Time != msg.TimeNano/1e9 {
		t.Errorf("json: %+v", msg)
	}
	contains(t, e.fails(125, "events", "--filter", "nonsense"), "bad format of filter")
	contains(t, e.fails(1, append(window, "--filter", "colour=red")...), "invalid filter 'colour'")

	// Without --until, events are followed until the command is interrupted.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := e.command(ctx, "events", "--filter", "event=start", "--format", "{{.Actor.Attributes.name}}")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // let it reach the end of the file
	e.ok("run", "--rm", "--name", "followed", "alpine", "true")
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		got <- line
	}()
	select {
	case line := <-got:
		if line != "followed\n" {
			t.Errorf("followed: %q", line)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the followed start event never came")
	}
	_ = cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Errorf("events after SIGINT: %v", err)
	}
}

func TestTop(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "-d", "--name", "top1", "alpine", "sh", "-c", "sleep 1001 & exec sleep 1000")
	e.ok("run", "-d", "--name", "top2", "alpine", "sleep", "2000")
	out := e.ok("top", "top1")
	rows := lines(out)
	if len(rows) != 3 || !regexp.MustCompile(`^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$`).MatchString(rows[0]) {
		t.Fatalf("top:\n%s", out)
	}
	t.Logf("top:\n%s", out)
	contains(t, out, "sleep 1000", "sleep 1001")
	if strings.Contains(out, "sleep 2000") {
		t.Fatalf("top shows another container's process:\n%s", out)
	}
	// The init's pid is the one inspect shows, as the host sees it.
	if pid := e.inspectContainer("top1").State.Pid; !strings.Contains(out, " "+strconv.Itoa(pid)+" ") {
		t.Errorf("init %d not listed:\n%s", pid, out)
	}
	// ps options pass through.
	out = e.ok("top", "top1", "-o", "pid,comm")
	if rows := lines(out); len(rows) != 3 || strings.Fields(rows[0])[1] != "COMMAND" || !strings.HasSuffix(rows[1], "sleep") {
		t.Errorf("top -o pid,comm:\n%s", out)
	}
	contains(t, e.fails(1, "top", "top1", "-o", "user=PID"), `specifying "user=PID" is not allowed`)
	e.ok("create", "--name", "idle", "alpine", "true")
	contains(t, e.fails(1, "top", "idle"), "is not running")
	contains(t, e.fails(1, "top", "nosuch"), "No such container: nosuch")
}

func TestRename(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(e.ok("create", "--name", "old", "alpine", "true"))
	if out := e.ok("rename", "old", "new"); out != "" {
		t.Errorf("rename printed %q", out)
	}
	if info := e.inspectContainer("new"); info.ID != id || info.Name != "/new" {
		t.Fatalf("inspect new: %s %s", info.ID, info.Name)
	}
	contains(t, e.fails(1, "inspect", "old"), "No such object: old")
	if got := strings.TrimSpace(e.ok("ps", "-a", "--format", "{{.Names}}")); got != "new" {
		t.Errorf("ps: %q", got)
	}
	other := strings.TrimSpace(e.ok("create", "--name", "other", "alpine", "true"))
	contains(t, e.fails(1, "rename", "new", "other"),
		`Conflict. The container name "/other" is already in use by container "`+other+`". You have to remove (or rename) that container to be able to reuse that name.`)
	if e.inspectContainer("other").ID != other || e.inspectContainer("new").ID != id {
		t.Fatal("a refused rename moved a name")
	}
	contains(t, e.fails(1, "rename", "new", "new"), "Renaming a container with the same name as its current name")
	contains(t, e.fails(1, "rename", "new", "bad/name"), "Invalid container name (bad/name)")
	contains(t, e.fails(125, "rename", "new"), `"rename" requires exactly 2 arguments`)

	// A running container is renamed too, and its exit is reported
	// under the new name.
	since := time.Now()
	e.ok("run", "-d", "--name", "busy", "alpine", "sleep", "1000")
	e.ok("rename", "busy", "calm")
	e.ok("stop", "-t", "0", "calm")
	out := e.ok("events", "--since", unixTime(since), "--until", unixTime(time.Now()), "--filter", "event=rename", "--filter", "event=die",
		"--format", "{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.oldName}}")
	if got := strings.Join(lines(out), ","); got != "rename calm /busy,die calm <no value>" {
		t.Errorf("events: %q", got)
	}
}

func TestPort(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "-d", "--name", "web", "-p", "18080:80", "-p", "127.0.0.1::53/udp", "--expose", "443", "alpine", "sleep", "1000")
	out := e.ok("port", "web")
	contains(t, out, "80/tcp -> 0.0.0.0:18080\n80/tcp -> [::]:18080\n", "53/udp -> 127.0.0.1:")
	if got := e.ok("port", "web", "80"); got != "0.0.0.0:18080\n[::]:18080\n" {
		t.Errorf("port web 80: %q", got)
	}
	if got := e.fails(1, "port", "web", "443"); got != "Error: No public port '443' published for web\n" {
		t.Errorf("port web 443: %q", got)
	}
	contains(t, e.fails(1, "port", "web", "80/udp"), "No public port '80/udp' published for web")
	contains(t, e.fails(1, "port", "web", "http"), "invalid port (http)")
	contains(t, e.fails(1, "port", "nosuch"), "No such container: nosuch")
	// A host port range takes its first free port; ranges map one to one.
	e.ok("run", "-d", "--name", "next", "-p", "18080-18085:80", "-p", "18090-18091:90-91", "alpine", "sleep", "1000")
	contains(t, e.ok("port", "next"), "80/tcp -> 0.0.0.0:18081\n", "90/tcp -> 0.0.0.0:18090\n", "91/tcp -> 0.0.0.0:18091\n")
	// A stopped container publishes nothing.
	e.ok("stop", "-t", "0", "web")
	if r := e.rrun("port", "web"); r.code != 0 || r.stdout != "" {
		t.Errorf("port of a stopped container: %s", r)
	}
}

// statsJSON is a line of `rrun stats --format json`.
type statsJSON struct {
	Container, ID, Name, CPUPerc, MemUsage, MemPerc, NetIO, BlockIO, PIDs string
}

func TestStats(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "-d", "--name", "busy", "--network", "host", "alpine", "sh", "-c", "while true; do :; done")
	e.ok("run", "-d", "--name", "multi", "alpine", "sh", "-c", "sleep 1000 & sleep 1000 & wait")
	e.ok("create", "--name", "idle", "alpine", "true")

	r := e.rrun("stats", "--no-stream")
	if r.code != 0 {
		t.Fatalf("stats: %s", r)
	}
	rows := lines(r.stdout)
	header := regexp.MustCompile(`^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE / LIMIT\s+MEM %\s+NET I/O\s+BLOCK I/O\s+PIDS$`)
	if len(rows) != 3 || !header.MatchString(rows[0]) {
		t.Fatalf("stats:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "idle") {
		t.Errorf("a stopped container shown without -a:\n%s", r.stdout)
	}
	if hostHasNoCgroupV2() {
		contains(t, r.stderr, "WARNING: rootless containers get no cgroup on this host", "proportional set size")
	}

	var got []statsJSON
	for _, l := range lines(e.ok("stats", "--no-stream", "-a", "--format", "json")) {
		var s statsJSON
		mustJSON(t, l, &s)
		got = append(got, s)
	}
	byName := map[string]statsJSON{}
	for _, s := range got {
		byName[s.Name] = s
	}
	busy, multi, idle := byName["busy"], byName["multi"], byName["idle"]
	if len(got) != 3 || busy.ID == "" || idle.ID == "" {
		t.Fatalf("stats -a: %+v", got)
	}
	cpu, _ := strconv.ParseFloat(strings.TrimSuffix(busy.CPUPerc, "%"), 64)
	if cpu < 20 {
		t.Errorf("a busy loop uses %s CPU", busy.CPUPerc)
	}
	for _, s := range []statsJSON{busy, multi} {
		if n, _ := strconv.Atoi(s.PIDs); n < 1 || strings.HasPrefix(s.MemUsage, "0B ") || !strings.Contains(s.MemUsage, " / ") {
			t.Errorf("%s: PIDs %s, MEM %s", s.Name, s.PIDs, s.MemUsage)
		}
	}
	if n, _ := strconv.Atoi(multi.PIDs); n != 3 {
		t.Errorf("sh with two sleeps: PIDS %s", multi.PIDs)
	}
	if busy.NetIO != "--" {
		t.Errorf("host network: NET I/O %q", busy.NetIO)
	}
	if idle.CPUPerc != "0.00%" || idle.MemUsage != "0B / 0B" || idle.PIDs != "0" {
		t.Errorf("stopped: %+v", idle)
	}

	// Named containers, a template, and a container with its own network.
	e.ok("run", "-d", "--name", "isolated", "--network", "none", "alpine", "sleep", "1000")
	out := e.ok("stats", "--no-stream", "--format", "{{.Container}} {{.NetIO}}", "isolated", "busy")
	if got := strings.Join(lines(out), ","); got != "isolated 0B / 0B,busy --" {
		t.Errorf("named: %q", got)
	}
	contains(t, e.fails(1, "stats", "--no-stream", "nosuch"), "No such container: nosuch")

	// Streaming without a terminal prints successive tables until interrupted.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := e.command(ctx, "stats", "--format", "{{.Name}}", "busy")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for i := 0; i < 2; i++ {
		if !sc.Scan() || sc.Text() != "busy" {
			t.Fatalf("streamed line %d: %q", i, sc.Text())
		}
	}
	_ = cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Errorf("stats after SIGINT: %v", err)
	}
}

// hostHasNoCgroupV2 says whether /sys/fs/cgroup is not the unified
// hierarchy, so rootless containers get no cgroup.
func hostHasNoCgroupV2() bool {
	var st syscall.Statfs_t
	return syscall.Statfs("/sys/fs/cgroup", &st) != nil || st.Type != 0x63677270 // CGROUP2_SUPER_MAGIC
}

func TestPause(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "-d", "--name", "frozen", "alpine", "sleep", "1000")
	contains(t, e.fails(1, "unpause", "frozen"), "is not paused")
	if !hostHasNoCgroupV2() {
		t.Log("cgroup v2 host: pausing works if the user's cgroups are delegated")
		if r := e.rrun("pause", "frozen"); r.code != 0 {
			t.Skipf("pause on this cgroup v2 host: %s", r)
		}
		if got := e.inspectContainer("frozen").State.Status; got != "paused" {
			t.Fatalf("after pause: %s", got)
		}
		e.ok("unpause", "frozen")
		if got := e.inspectContainer("frozen").State.Status; got != "running" {
			t.Fatalf("after unpause: %s", got)
		}
		return
	}
	r := e.rrun("pause", "frozen")
	if r.code != 1 || r.stdout != "" {
		t.Fatalf("pause: %s", r)
	}
	contains(t, r.stderr, "Error response from daemon: pausing containers needs cgroup v2 with systemd delegation; this host has cgroup ")
	contains(t, r.stderr, ": rootless containers cannot be frozen")
	if got := e.inspectContainer("frozen").State.Status; got != "running" {
		t.Errorf("after a failed pause: %s", got)
	}
	e.ok("create", "--name", "idle", "alpine", "true")
	contains(t, e.fails(1, "pause", "idle"), "is not running")
}

func TestUpdate(t *testing.T) {
	e := newEnv(t)
	e.ok("create", "--name", "upd", "alpine", "true")
	if out := e.ok("update", "--restart", "always", "upd"); out != "upd\n" {
		t.Errorf("update printed %q", out)
	}
	if got := e.inspectContainer("upd").HostConfig.RestartPolicy.Name; got != "always" {
		t.Errorf("RestartPolicy %q", got)
	}
	r := e.rrun("update", "-m", "64m", "--pids-limit", "20", "upd")
	if r.code != 0 || r.stdout != "upd\n" {
		t.Fatalf("update -m: %s", r)
	}
	if hostHasNoCgroupV2() {
		contains(t, r.stderr, "WARNING: the new resource limits are recorded, but this host cannot apply them")
	}
	if got := strings.TrimSpace(e.ok("inspect", "--format", "{{json .HostConfig.Memory}} {{json .HostConfig.PidsLimit}}", "upd")); got != "67108864 20" {
		t.Errorf("limits recorded: %q", got)
	}
	contains(t, e.fails(1, "update", "-m", "1m", "upd"), "Minimum memory limit allowed is 6MB")
	contains(t, e.fails(125, "update", "upd"), "you must provide one or more flags")
	e.ok("create", "--rm", "--name", "temp", "alpine", "true")
	contains(t, e.fails(1, "update", "--restart", "always", "temp"), "Restart policy cannot be updated because AutoRemove is enabled for the container")
	r = e.rrun("update", "--restart", "no", "upd", "nosuch")
	if r.code != 1 || r.stdout != "upd\n" || !strings.Contains(r.stderr, "No such container: nosuch") {
		t.Errorf("update of one missing: %s", r)
	}

	// A new restart policy applies to a running container's next exit.
	e.ok("run", "-d", "--name", "flaky", "alpine", "sh", "-c", "sleep 1; exit 3")
	e.ok("update", "--restart", "on-failure:1", "flaky")
	waitFor(t, "the restart", func() bool {
		info := e.inspectContainer("flaky")
		return info.RestartCount == 1 && info.State.Status == "exited"
	})
}

func TestContainerPrune(t *testing.T) {
	e := newEnv(t)
	created := strings.TrimSpace(e.ok("create", "--name", "created", "alpine", "true"))
	e.ok("run", "--name", "exited", "alpine", "sh", "-c", "echo data > /file")
	exited := e.inspectContainer("exited").ID
	running := strings.TrimSpace(e.ok("run", "-d", "--name", "running", "alpine", "sleep", "1000"))
	e.ok("create", "--name", "keep", "-l", "keep=yes", "alpine", "true")

	// No answer, no removal.
	r := e.rrunInput(strings.NewReader("n\n"), "container", "prune")
	if r.code != 0 || r.stdout != "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] " {
		t.Fatalf("declined: %s", r)
	}
	if n := len(lines(e.ok("ps", "-aq"))); n != 4 {
		t.Fatalf("declined prune removed containers: %d left", n)
	}
	out := e.ok("container", "prune", "-f", "--filter", "label!=keep")
	m := regexp.MustCompile(`^Deleted Containers:\n([0-9a-f]{64})\n([0-9a-f]{64})\n\nTotal reclaimed space: (\S+)\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("prune output:\n%s", out)
	}
	if got := []string{m[1], m[2]}; !(got[0] == created && got[1] == exited || got[0] == exited && got[1] == created) {
		t.Errorf("deleted %v, want %s and %s", got, created, exited)
	}
	if m[3] == "0B" {
		t.Errorf("a container that wrote a file reclaimed %s", m[3])
	}
	left := e.ok("ps", "-a", "--format", "{{.Names}}")
	if got := strings.Join(lines(left), ","); got != "keep,running" {
		t.Errorf("left: %q", got)
	}
	if got := e.ok("container", "prune", "-f", "--filter", "label=nothing"); got != "Total reclaimed space: 0B\n" {
		t.Errorf("nothing to prune: %q", got)
	}
	e.ok("container", "prune", "-f")
	if got := strings.TrimSpace(e.ok("ps", "-aq", "--no-trunc")); got != running {
		t.Errorf("after prune: %q, want only the running container", got)
	}
	contains(t, e.fails(1, "container", "prune", "-f", "--filter", "status=exited"), "invalid filter 'status'")
}
