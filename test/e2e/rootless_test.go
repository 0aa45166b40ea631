//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestVersionAndHelp(t *testing.T) {
	e := newEnv(t)
	contains(t, e.ok("--version"), "rrun version")
	help := e.ok("--help")
	contains(t, help, "pull", "images", "unshare", "--storage-driver", "--root", "--log-level")
	contains(t, e.fails(125, "no-such-command"), "not a rrun command")
	contains(t, e.fails(125, "images", "--no-such-flag"), "no-such-flag")
}

// The namespace maps container root to the user and the container's other
// ids to the user's whole subordinate range, as podman does.
func TestUnshareMapsTheFullSubIDRange(t *testing.T) {
	e := newEnv(t)
	uidStart, uidCount := subIDStart(t, "/etc/subuid")
	gidStart, gidCount := subIDStart(t, "/etc/subgid")
	uidMap := strings.Fields(e.ok("unshare", "cat", "/proc/self/uid_map"))
	gidMap := strings.Fields(e.ok("unshare", "cat", "/proc/self/gid_map"))
	wantUID := []string{"0", fmt.Sprint(tuser.uid), "1", "1", fmt.Sprint(uidStart), fmt.Sprint(uidCount)}
	wantGID := []string{"0", fmt.Sprint(tuser.gid), "1", "1", fmt.Sprint(gidStart), fmt.Sprint(gidCount)}
	if strings.Join(uidMap, " ") != strings.Join(wantUID, " ") {
		t.Errorf("uid_map %v, want %v", uidMap, wantUID)
	}
	if strings.Join(gidMap, " ") != strings.Join(wantGID, " ") {
		t.Errorf("gid_map %v, want %v", gidMap, wantGID)
	}
	if id := strings.TrimSpace(e.ok("unshare", "id", "-u")); id != "0" {
		t.Errorf("uid inside the namespace is %s, want 0", id)
	}
	// Capabilities inside: mounting a tmpfs works.
	e.ok("unshare", "sh", "-c", "mkdir -p /tmp/rrun-e2e-mnt-$$ && mount -t tmpfs none /tmp/rrun-e2e-mnt-$$ && umount /tmp/rrun-e2e-mnt-$$ && rmdir /tmp/rrun-e2e-mnt-$$")
	// The exit status of the command is unshare's.
	if r := e.rrun("unshare", "sh", "-c", "exit 7"); r.code != 7 {
		t.Errorf("unshare exit status %d, want 7", r.code)
	}
}

// Later commands join the first command's namespaces instead of making new ones.
func TestNamespaceIsReusedAcrossCommands(t *testing.T) {
	e := newEnv(t)
	first := e.ok("unshare", "readlink", "/proc/self/ns/user", "/proc/self/ns/mnt")
	pid := e.pausePID()
	if pid == 0 {
		t.Fatal("no namespace holder recorded after the first command")
	}
	second := e.ok("unshare", "readlink", "/proc/self/ns/user", "/proc/self/ns/mnt")
	if first != second {
		t.Fatalf("namespaces differ between commands:\n%s\n%s", first, second)
	}
	if e.pausePID() != pid {
		t.Fatalf("namespace holder changed from %d to %d", pid, e.pausePID())
	}
	// A mount made by one command is seen by the next: one mount namespace.
	e.ok("unshare", "sh", "-c", "mkdir -p "+e.work+"/m && mount -t tmpfs none "+e.work+"/m && touch "+e.work+"/m/seen")
	e.ok("unshare", "test", "-e", e.work+"/m/seen")
	e.ok("unshare", "umount", e.work+"/m")
}

// A holder that died (or a recycled pid) is detected and replaced.
func TestStaleNamespaceHolderIsReplaced(t *testing.T) {
	e := newEnv(t)
	e.ok("unshare", "true")
	old := e.pausePID()
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, old)
	e.ok("unshare", "true")
	if now := e.pausePID(); now == 0 || now == old {
		t.Fatalf("holder %d was not replaced (now %d)", old, now)
	}
	// A record naming a live process that is not the holder (pid 1) is stale too.
	if err := os.WriteFile(e.runroot+"/pause.pid", []byte("1 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.ok("unshare", "true")
	if e.pausePID() == 1 {
		t.Fatal("joined pid 1 from a forged record")
	}
}

// Concurrent first commands agree on one namespace holder.
func TestConcurrentFirstCommandsShareOneHolder(t *testing.T) {
	e := newEnv(t)
	const n = 6
	outs := make(chan string, n)
	for i := 0; i < n; i++ {
		go func() {
			outs <- strings.TrimSpace(e.rrun("unshare", "readlink", "/proc/self/ns/user").stdout)
		}()
	}
	first := <-outs
	for i := 1; i < n; i++ {
		if got := <-outs; got != first || got == "" {
			t.Fatalf("concurrent commands saw different namespaces: %q vs %q", first, got)
		}
	}
}

func TestRunningAsRootIsRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the suite does not run as root, so rrun cannot be started as root here")
	}
	cmd := exec.Command(binary, "--root", t.TempDir(), "--runroot", t.TempDir(), "images")
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 125 {
		t.Fatalf("rrun as root: %v\n%s", err, out)
	}
	contains(t, string(out), "rootless", "ordinary user")
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		// A zombie still answers kill(0): check its state.
		if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err != nil || strings.Contains(string(data), ") Z ") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process %d did not exit", pid)
}

// Commands joined to the namespace keep the caller's working directory,
// so relative paths mean what the user meant.
func TestRelativePathsSurviveTheNamespaceJoin(t *testing.T) {
	e := newEnv(t)
	e.ok("unshare", "true") // the holder exists: the next command joins it
	if got := strings.TrimSpace(e.ok("unshare", "pwd")); got != e.work {
		t.Fatalf("working directory inside the namespace is %q, want %q", got, e.work)
	}
	e.ok("pull", "-q", "busybox")
	e.ok("save", "-o", "relative.tar", "busybox")
	if _, err := os.Stat(e.work + "/relative.tar"); err != nil {
		t.Fatalf("save -o relative.tar did not write into the working directory: %v", err)
	}
}
