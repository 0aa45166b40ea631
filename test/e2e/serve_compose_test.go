//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dockerCompose is Debian's docker-compose 1.29 (Python), used unchanged.
const dockerCompose = "/usr/bin/docker-compose"

// composeProject is a two-service project: web serves a file from a named
// volume with busybox httpd, client reaches it by service name.
const composeProject = `version: "3.8"
services:
  web:
    image: alpine
    command: ["sh", "-c", "echo hello from compose > /www/index.html && echo web ready && exec httpd -f -v -p 8080 -h /www"]
    volumes:
      - www:/www
  client:
    image: alpine
    command: ["sleep", "1000"]
    depends_on:
      - web
volumes:
  www:
`

// TestServeCompose drives rrun serve with docker-compose as the test user:
// up, ps, exec by service name, logs, down -v.
func TestServeCompose(t *testing.T) {
	if _, err := os.Stat(dockerCompose); err != nil {
		t.Skip("docker-compose is not installed (hack/setup.sh installs it)")
	}
	e := newEnv(t)
	sock := e.serve()
	dir := filepath.Join(e.work, "proj")
	e.mkdirAsUser(dir)
	e.writeUserFile("proj/docker-compose.yml", []byte(composeProject))

	compose := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, dockerCompose, append([]string{"-p", "e2e"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(userEnv(), "DOCKER_HOST=unix://"+sock, "COMPOSE_INTERACTIVE_NO_CLI=1")
		cmd.SysProcAttr = userCredential()
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("docker-compose %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out.String(), errb.String())
		}
		return out.String()
	}

	compose("up", "-d")
	ps := compose("ps")
	for _, svc := range []string{"e2e_web_1", "e2e_client_1"} {
		found := false
		for _, l := range lines(ps) {
			if strings.HasPrefix(l, svc+" ") && strings.Contains(l, " Up") {
				found = true
			}
		}
		if !found {
			t.Fatalf("docker-compose ps: %s is not Up:\n%s", svc, ps)
		}
	}

	// client reaches web by its service name (httpd may need a moment).
	var got string
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, dockerCompose, "-p", "e2e", "exec", "-T", "client", "wget", "-qO-", "http://web:8080/")
		cmd.Dir = dir
		cmd.Env = append(userEnv(), "DOCKER_HOST=unix://"+sock)
		cmd.SysProcAttr = userCredential()
		out, err := cmd.CombinedOutput()
		cancel()
		got = string(out)
		if err == nil && got == "hello from compose\n" {
			break
		}
		if i == 10 {
			t.Fatalf("docker-compose exec client wget http://web:8080/: %v\n%s\nweb: %s", err, got, e.rrun("inspect", "-f", "{{json .NetworkSettings.Networks}} {{json .HostConfig.NetworkMode}}", "e2e_web_1"))
		}
		time.Sleep(500 * time.Millisecond)
	}
	contains(t, compose("logs", "web"), "web ready")

	compose("down", "-v")
	if out := e.ok("ps", "-a"); strings.Contains(out, "e2e_") {
		t.Errorf("containers left after down -v:\n%s", out)
	}
	if out := e.ok("network", "ls"); strings.Contains(out, "e2e_default") {
		t.Errorf("network left after down -v:\n%s", out)
	}
	if out := e.ok("volume", "ls"); strings.Contains(out, "e2e_www") {
		t.Errorf("volume left after down -v:\n%s", out)
	}
}
