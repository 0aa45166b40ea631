//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A user without subordinate ids is told which line to add; without a
// runtime directory rrun falls back to a private /tmp/rrun-$UID.
func TestUserWithoutSubIDsIsToldWhatToAdd(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a user without subordinate ids")
	}
	const name = "rrun-e2e-nosubid"
	_ = exec.Command("userdel", "-r", name).Run()
	// System users get no subordinate ranges from useradd.
	if out, err := exec.Command("useradd", "--system", "--create-home", "--home-dir", "/var/tmp/"+name, name).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("userdel", "-r", name).Run() })
	uid, gid := lookupIDs(t, name)
	tmpRun := fmt.Sprintf("/tmp/rrun-%d", uid)
	os.RemoveAll(tmpRun)
	t.Cleanup(func() { os.RemoveAll(tmpRun) })

	cmd := exec.Command(binary, "images")
	cmd.Env = []string{"HOME=/var/tmp/" + name, "USER=" + name, "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = credentialFor(uid, gid)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 125 {
		t.Fatalf("rrun without subordinate ids: %v\n%s", err, out)
	}
	contains(t, string(out), "/etc/subuid has no range for user \""+name+"\"", name+":100000:65536", "usermod --add-subuids")
	st, err := os.Stat(tmpRun)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("fallback run root %s: %v, mode %v; want 0700", tmpRun, err, st.Mode().Perm())
	}
}

// newuidmap without setuid or file capabilities is named as the problem.
func TestNewuidmapWithoutPrivilegeIsNamed(t *testing.T) {
	e := newEnv(t)
	bin := filepath.Join(e.work, "bin")
	e.mkdirAsUser(bin)
	for _, tool := range []string{"newuidmap", "newgidmap"} {
		data, err := os.ReadFile("/usr/bin/" + tool)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(bin, tool), data, 0o755); err != nil { // no setuid bit
			t.Fatal(err)
		}
	}
	cmd := e.command(context.Background(), "images")
	for i, kv := range cmd.Env {
		if strings.HasPrefix(kv, "PATH=") {
			cmd.Env[i] = "PATH=" + bin + ":/usr/bin:/bin"
		}
	}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("rrun ran with an unprivileged newuidmap:\n%s", out)
	}
	contains(t, string(out), filepath.Join(bin, "newuidmap"), "neither setuid root nor has file capabilities", "chmod u+s")
}

// A registry that refuses (denied, or failing) gives a clear error naming
// the image, not a stack of transport errors.
func TestRefusingRegistry(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v2/":
			w.WriteHeader(http.StatusOK)
		case strings.Contains(r.URL.Path, "/denied/"):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}`)
		default:
			http.Error(w, "internal trouble", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	stderr := e.fails(1, "pull", host+"/denied/image")
	contains(t, stderr, "denied", host+"/denied/image")
	start := time.Now()
	stderr = e.fails(1, "pull", host+"/broken/image")
	contains(t, stderr, host+"/broken/image", "500")
	if time.Since(start) > time.Minute {
		t.Errorf("a failing registry took %v to give up", time.Since(start))
	}
	if got := e.ok("images", "-q"); got != "" {
		t.Fatalf("refused pulls stored images: %q", got)
	}
}

// policy.json is honoured: a policy that rejects the registry stops the
// pull, one that accepts lets it through.
func TestSignaturePolicyIsHonoured(t *testing.T) {
	e := newEnv(t)
	write := func(name, policy string) string {
		path := filepath.Join(e.work, name)
		if err := os.WriteFile(path, []byte(policy), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	reject := write("reject.json", `{"default":[{"type":"reject"}]}`)
	accept := write("accept.json", `{"default":[{"type":"insecureAcceptAnything"}]}`)
	pull := func(policy string) result {
		cmd := e.command(context.Background(), "pull", "-q", "busybox")
		cmd.Env = append(cmd.Env, "CONTAINERS_POLICY_JSON="+policy)
		out, err := cmd.CombinedOutput()
		r := result{stderr: string(out)}
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
		}
		return r
	}
	if r := pull(reject); r.code == 0 || !strings.Contains(r.stderr, "rejected") {
		t.Fatalf("pull under a rejecting policy: %s", r)
	}
	if got := e.ok("images", "-q"); got != "" {
		t.Fatalf("a rejected image was stored: %q", got)
	}
	if r := pull(accept); r.code != 0 {
		t.Fatalf("pull under an accepting policy: %s", r)
	}
}
