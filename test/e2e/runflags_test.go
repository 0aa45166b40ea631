//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Security and resource flags reach the container's process.
func TestSecurityFlags(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "-q", "alpine")
	status := func(args ...string) map[string]string {
		out := e.ok(append(append([]string{"run", "--rm"}, args...), "alpine", "cat", "/proc/self/status")...)
		m := map[string]string{}
		for _, l := range lines(out) {
			if k, v, ok := strings.Cut(l, ":"); ok {
				m[k] = strings.TrimSpace(v)
			}
		}
		return m
	}
	def := status()
	if def["CapEff"] != "00000000a80425fb" || def["Seccomp"] != "2" || def["NoNewPrivs"] != "0" {
		t.Errorf("defaults: CapEff %s Seccomp %s NoNewPrivs %s; want docker's caps a80425fb, seccomp filter, no NNP", def["CapEff"], def["Seccomp"], def["NoNewPrivs"])
	}
	if got := status("--cap-drop", "ALL", "--cap-add", "CHOWN")["CapEff"]; got != "0000000000000001" {
		t.Errorf("--cap-drop ALL --cap-add CHOWN: CapEff %s", got)
	}
	if got := status("--cap-drop", "NET_RAW")["CapEff"]; got != "00000000a80405fb" {
		t.Errorf("--cap-drop NET_RAW: CapEff %s", got)
	}
	if got := status("--security-opt", "seccomp=unconfined")["Seccomp"]; got != "0" {
		t.Errorf("seccomp=unconfined: Seccomp %s", got)
	}
	if got := status("--security-opt", "no-new-privileges")["NoNewPrivs"]; got != "1" {
		t.Errorf("no-new-privileges: NoNewPrivs %s", got)
	}
	priv := status("--privileged")
	if priv["Seccomp"] != "0" || priv["CapEff"] == def["CapEff"] {
		t.Errorf("--privileged: CapEff %s Seccomp %s", priv["CapEff"], priv["Seccomp"])
	}
	// Masked paths: /proc/interrupts reads empty by default.
	if out := e.ok("run", "--rm", "alpine", "sh", "-c", "wc -c < /proc/interrupts"); strings.TrimSpace(out) != "0" {
		t.Errorf("/proc/interrupts is not masked: %q", out)
	}
	contains(t, e.fails(125, "run", "--rm", "--cap-add", "NOT_A_CAP", "alpine", "true"), "NOT_A_CAP")
	contains(t, e.fails(125, "run", "--rm", "--security-opt", "bogus", "alpine", "true"), "bogus")
}

func TestRunFlagsReachTheContainer(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "-q", "alpine")
	labels := filepath.Join(e.work, "labels")
	if err := os.WriteFile(labels, []byte("# comment\nteam=infra\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cid := filepath.Join(e.work, "cid")
	out := e.ok("run", "--rm", "--ulimit", "nofile=512:1024", "--shm-size", "16m",
		"--add-host", "db.internal:10.1.2.3", "--cidfile", cid, "--label-file", labels,
		"--mount", "type=tmpfs,destination=/cache,tmpfs-size=1m",
		"--stop-signal", "SIGUSR1", "--stop-timeout", "3",
		"alpine", "sh", "-c", "ulimit -n; ulimit -Hn; df -k /dev/shm | tail -1; grep db.internal /etc/hosts; df -k /cache | tail -1")
	f := lines(out)
	if len(f) != 5 || f[0] != "512" || f[1] != "1024" || !strings.Contains(f[2], "16384") || !strings.Contains(f[3], "10.1.2.3") || !strings.Contains(f[4], "1024") {
		t.Fatalf("flags inside the container:\n%s", out)
	}
	id, err := os.ReadFile(cid)
	if err != nil || len(id) != 64 {
		t.Fatalf("--cidfile: %q %v", id, err)
	}
	// A --mount bind and a labelled, stopped container's inspect.
	e.ok("create", "--name", "labelled", "--label-file", labels, "-l", "extra", "--stop-signal", "SIGUSR1", "alpine", "true")
	var got []struct {
		Config struct {
			Labels     map[string]string
			StopSignal string
		}
	}
	mustJSON(t, e.ok("inspect", "labelled"), &got)
	if got[0].Config.Labels["team"] != "infra" || got[0].Config.StopSignal != "SIGUSR1" {
		t.Errorf("inspect: %+v", got[0].Config)
	}
	if _, ok := got[0].Config.Labels["extra"]; !ok {
		t.Errorf("label without a value is missing: %v", got[0].Config.Labels)
	}
	// --device gives the container a host device it may use.
	if out := e.ok("run", "--rm", "--device", "/dev/fuse", "alpine", "ls", "-l", "/dev/fuse"); !strings.HasPrefix(out, "c") {
		t.Errorf("--device /dev/fuse: %q", out)
	}
	// --network none leaves only loopback.
	if out := e.ok("run", "--rm", "--network", "none", "alpine", "sh", "-c", "ls /sys/class/net"); strings.TrimSpace(out) != "lo" {
		t.Errorf("--network none interfaces: %q", out)
	}
}

// An image a container uses cannot be removed without -f; the conflict
// names the container.
func TestRemoveImageInUse(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(e.ok("create", "--name", "user", "busybox", "true"))
	contains(t, e.fails(1, "rmi", "busybox"), "conflict", "container "+id[:12]+" is using its referenced image")
	e.ok("rm", "user")
	e.ok("rmi", "busybox")
}

// inspect lists the container's mounts as docker does.
func TestInspectMounts(t *testing.T) {
	e := newEnv(t)
	host := filepath.Join(e.work, "src")
	e.mkdirAsUser(host)
	e.ok("create", "--name", "mounted", "-v", host+":/src:ro", "-v", "named:/data", "-v", "/anon", "--tmpfs", "/scratch", "alpine", "true")
	var got []struct {
		Mounts []struct {
			Type, Name, Source, Destination string
			RW                              bool
		}
	}
	mustJSON(t, e.ok("inspect", "mounted"), &got)
	m := got[0].Mounts
	if len(m) != 4 {
		t.Fatalf("Mounts: %+v", m)
	}
	byDst := map[string]int{}
	for i, x := range m {
		byDst[x.Destination] = i
	}
	if x := m[byDst["/src"]]; x.Type != "bind" || x.Source != host || x.RW {
		t.Errorf("bind: %+v", x)
	}
	if x := m[byDst["/data"]]; x.Type != "volume" || x.Name != "named" || !x.RW || !strings.HasSuffix(x.Source, "/volumes/named/_data") {
		t.Errorf("named volume: %+v", x)
	}
	if x := m[byDst["/anon"]]; x.Type != "volume" || len(x.Name) != 64 {
		t.Errorf("anonymous volume: %+v", x)
	}
	if x := m[byDst["/scratch"]]; x.Type != "tmpfs" {
		t.Errorf("tmpfs: %+v", x)
	}
}

// ps -s shows the container layer's size and the total with its image.
func TestPsSize(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "--name", "writer", "alpine", "sh", "-c", "dd if=/dev/zero of=/f bs=1k count=200 2>/dev/null")
	var row struct{ Size string }
	mustJSON(t, e.ok("ps", "-a", "-s", "--format", "json"), &row)
	if !strings.HasPrefix(row.Size, "20") || !strings.Contains(row.Size, "kB (virtual 2.") {
		t.Fatalf("ps -s size %q: want about 200kB written over a 2MB image", row.Size)
	}
}
