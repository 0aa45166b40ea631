//go:build e2e

// Package e2e runs the built rrun binary as an unprivileged user with
// subordinate id ranges, against the local registry that hack/setup.sh
// starts (127.0.0.1:5000, with docker.io short names mapped to it in the
// user's registries.conf).
//
// Environment:
//
//	RRUN_BINARY              the binary under test (required)
//	RRUN_E2E_USER            the user to run it as when the suite runs as root
//	RRUN_E2E_STORAGE_DRIVER  overlay, fuse-overlayfs or vfs (default: rrun's choice)
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testUser is whom rrun runs as.
type testUser struct {
	name       string
	uid, gid   int
	home       string
	runtimeDir string // the user's XDG_RUNTIME_DIR
	asRoot     bool   // the suite runs as root and switches to the user
}

var (
	binary string // a copy of RRUN_BINARY the test user can execute
	tuser  testUser
	driver = os.Getenv("RRUN_E2E_STORAGE_DRIVER")
)

func TestMain(m *testing.M) {
	if err := setup(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e setup: %v\n", err)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(filepath.Dir(binary))
	os.Exit(code)
}

func setup() error {
	src := os.Getenv("RRUN_BINARY")
	if src == "" {
		return fmt.Errorf("RRUN_BINARY is not set: run `make test-e2e`")
	}
	u, err := user.Current()
	if err != nil {
		return err
	}
	if u.Uid == "0" {
		name := os.Getenv("RRUN_E2E_USER")
		if name == "" {
			return fmt.Errorf("running as root: set RRUN_E2E_USER to an unprivileged user with subuid/subgid ranges (hack/setup.sh creates rrun-test)")
		}
		if u, err = user.Lookup(name); err != nil {
			return fmt.Errorf("test user: %w (run hack/setup.sh %s)", err, name)
		}
		tuser.asRoot = true
	}
	tuser.name, tuser.home = u.Username, u.HomeDir
	tuser.uid, _ = strconv.Atoi(u.Uid)
	tuser.gid, _ = strconv.Atoi(u.Gid)
	tuser.runtimeDir = os.Getenv("XDG_RUNTIME_DIR")
	if tuser.asRoot || tuser.runtimeDir == "" {
		tuser.runtimeDir = fmt.Sprintf("/run/user/%d", tuser.uid)
	}
	// The repository may live where the test user cannot read (/root):
	// run a copy from a directory the user can reach.
	dir, err := os.MkdirTemp("", "rrun-e2e-bin-")
	if err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	binary = filepath.Join(dir, "rrun")
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(binary, data, 0o755)
}

// env is one test's private rrun: its own storage and run directories, so
// tests do not see each other's images or namespaces.
type env struct {
	t       *testing.T
	root    string // --root
	runroot string // --runroot
	work    string // scratch space the user owns
}

// newEnv creates a private rrun for t and removes it, namespace holder
// included, when t ends.
func newEnv(t *testing.T) *env {
	t.Helper()
	base := filepath.Join(tuser.home, ".rrun-e2e", sanitize(t.Name())+"-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	e := &env{
		t:       t,
		root:    filepath.Join(base, "root"),
		work:    filepath.Join(base, "work"),
		runroot: filepath.Join(tuser.runtimeDir, "rrun-e2e-"+filepath.Base(base)),
	}
	for _, d := range []string{filepath.Dir(base), base, e.work} {
		e.mkdirAsUser(d)
	}
	t.Cleanup(e.destroy)
	return e
}

func sanitize(name string) string {
	return strings.NewReplacer("/", "_", " ", "_").Replace(name)
}

func (e *env) mkdirAsUser(dir string) {
	e.t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		e.t.Fatal(err)
	}
	if tuser.asRoot {
		if err := os.Chown(dir, tuser.uid, tuser.gid); err != nil {
			e.t.Fatal(err)
		}
	}
}

// destroy removes the storage from inside the namespace (its files belong
// to subordinate ids) and stops the namespace holder.
func (e *env) destroy() {
	if _, err := os.Stat(e.runroot); err == nil {
		if ids := strings.Fields(e.rrun("ps", "-aq").stdout); len(ids) > 0 {
			e.rrun(append([]string{"rm", "-f"}, ids...)...)
		}
		// Monitors of --rm containers may still be finishing: retry.
		var r result
		for i := 0; i < 20; i++ {
			if r = e.rrun("unshare", "rm", "-rf", e.root); r.code == 0 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if r.code != 0 {
			e.t.Logf("cleanup: %s", r.stderr)
		}
		e.killPause()
	}
	os.RemoveAll(filepath.Dir(e.root))
	os.RemoveAll(e.runroot)
}

// pausePID is the namespace holder's pid, 0 if there is none.
func (e *env) pausePID() int {
	data, err := os.ReadFile(filepath.Join(e.runroot, "pause.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.Fields(string(data))[0])
	return pid
}

func (e *env) killPause() {
	if pid := e.pausePID(); pid > 0 {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// result is what one rrun run printed and how it ended.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
}

// command prepares rrun with the env's global flags, as the test user.
func (e *env) command(ctx context.Context, args ...string) *exec.Cmd {
	global := []string{"--root", e.root, "--runroot", e.runroot}
	if driver != "" {
		global = append(global, "--storage-driver", driver)
	}
	cmd := exec.CommandContext(ctx, binary, append(global, args...)...)
	cmd.Dir = e.work
	cmd.Env = userEnv()
	cmd.SysProcAttr = userCredential()
	return cmd
}

// userEnv is a login-like environment for the test user.
func userEnv() []string {
	return []string{
		"HOME=" + tuser.home,
		"USER=" + tuser.name,
		"LOGNAME=" + tuser.name,
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"XDG_RUNTIME_DIR=" + tuser.runtimeDir,
		"LANG=C.UTF-8",
	}
}

func userCredential() *syscall.SysProcAttr {
	if !tuser.asRoot {
		return nil
	}
	return credentialFor(tuser.uid, tuser.gid)
}

// rrun runs rrun to completion (two minutes at most).
func (e *env) rrun(args ...string) result {
	return e.rrunInput(nil, args...)
}

func (e *env) rrunInput(stdin io.Reader, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := e.command(ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("running rrun %v: %v", args, err)
	}
	if ctx.Err() != nil {
		e.t.Fatalf("rrun %v timed out: %s", args, r)
	}
	return r
}

// ok runs rrun and fails the test unless it exits 0; it returns stdout.
func (e *env) ok(args ...string) string {
	e.t.Helper()
	r := e.rrun(args...)
	if r.code != 0 {
		e.t.Fatalf("rrun %s: %s", strings.Join(args, " "), r)
	}
	return r.stdout
}

// fails runs rrun, wants exit status code, and returns stderr.
func (e *env) fails(code int, args ...string) string {
	e.t.Helper()
	r := e.rrun(args...)
	if r.code != code {
		e.t.Fatalf("rrun %s: want exit %d, got %s", strings.Join(args, " "), code, r)
	}
	return r.stderr
}

// contains fails the test unless s contains every one of subs.
func contains(t *testing.T, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Fatalf("output does not contain %q:\n%s", sub, s)
		}
	}
}

func lines(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// subIDStart reads the test user's first range from /etc/subuid or /etc/subgid.
func subIDStart(t *testing.T, file string) (start, count int) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) == 3 && (f[0] == tuser.name || f[0] == strconv.Itoa(tuser.uid)) {
			start, _ = strconv.Atoi(f[1])
			count, _ = strconv.Atoi(f[2])
			return start, count
		}
	}
	t.Fatalf("%s has no range for %s", file, tuser.name)
	return 0, 0
}

func lookupIDs(t *testing.T, name string) (uid, gid int) {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid
}

func credentialFor(uid, gid int) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}}
}

func mustJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("parsing %q: %v", s, err)
	}
}
