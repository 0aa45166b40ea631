//go:build e2e

package e2e

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// docker system df and df -v over the API.
func TestServeSystemDf(t *testing.T) {
	e := newEnv(t)
	e.ok("volume", "create", "dfvol")
	e.ok("run", "-d", "--name", "dfbox", "-v", "dfvol:/data", "alpine", "sh", "-c", "head -c 100000 /dev/zero > /data/blob; sleep 1000")
	e.ok("create", "--name", "dfidle", "alpine", "true")
	sock := e.serve()
	out := e.dockerOK(sock, "system", "df")
	contains(t, out, "TYPE", "Images", "Containers", "Local Volumes", "Build Cache")
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) > 3 && f[0] == "Images" && (f[1] != "1" || f[2] != "1"):
			t.Errorf("images row: %q", line)
		case len(f) > 3 && f[0] == "Containers" && (f[1] != "2" || f[2] != "1"):
			t.Errorf("containers row: %q", line)
		case len(f) > 4 && f[0] == "Local" && (f[2] != "1" || f[3] != "1"):
			t.Errorf("volumes row: %q", line)
		}
	}
	t.Logf("docker system df:\n%s", out)
	out = e.dockerOK(sock, "system", "df", "-v")
	t.Logf("docker system df -v:\n%s", out)
	contains(t, out, "Images space usage", "alpine", "Containers space usage", "dfbox", "dfidle",
		"Local Volumes space usage", "dfvol", "Build cache usage")
	// The volume's size is counted once the container has written it.
	waitFor(t, "the volume's size", func() bool {
		out := e.dockerOK(sock, "system", "df", "-v", "--format", "{{range .Volumes}}{{.Name}} {{.Size}} {{.Links}}\n{{end}}")
		return strings.Contains(out, "dfvol 100kB 1")
	})
	// The JSON a script reads.
	contains(t, e.dockerOK(sock, "system", "df", "--format", "{{json .}}"), `"Type":"Images"`, `"TotalCount":"2"`)
}

// docker cp both ways, files and directories, tar streams, running and
// stopped containers.
func TestServeDockerCp(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "-d", "--name", "cpbox", "alpine", "sleep", "1000")
	e.ok("create", "--name", "cpidle", "alpine", "true")
	sock := e.serve()

	// Into the container: a file, then a directory.
	e.writeUserFile("hello.txt", []byte("hello from the host\n"))
	e.dockerOK(sock, "cp", e.local("hello.txt"), "cpbox:/tmp/")
	if got := e.ok("exec", "cpbox", "cat", "/tmp/hello.txt"); got != "hello from the host\n" {
		t.Errorf("copied file reads %q", got)
	}
	contains(t, e.ok("exec", "cpbox", "stat", "-c", "%u:%g", "/tmp/hello.txt"), "0:0")
	e.mkdirAsUser(filepath.Join(e.work, "tree"))
	e.mkdirAsUser(filepath.Join(e.work, "tree", "sub"))
	e.writeUserFile("tree/sub/deep.txt", []byte("deep\n"))
	e.dockerOK(sock, "cp", e.local("tree"), "cpbox:/tmp/tree")
	if got := e.ok("exec", "cpbox", "cat", "/tmp/tree/sub/deep.txt"); got != "deep\n" {
		t.Errorf("copied directory: deep.txt reads %q", got)
	}
	// A tar archive on stdin.
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: "fromtar.txt", Mode: 0o644, Size: 4, Uid: 123, Gid: 456, Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte("tar\n"))
	_ = tw.Close()
	if r := e.dockerStdin(sock, bytes.NewReader(buf.Bytes()), "cp", "-", "cpbox:/tmp"); r.code != 0 {
		t.Fatalf("cp - : %s", r)
	}
	if got := e.ok("exec", "cpbox", "cat", "/tmp/fromtar.txt"); got != "tar\n" {
		t.Errorf("extracted file reads %q", got)
	}
	// Out of the container: a file, a directory, and a tar on stdout.
	e.dockerOK(sock, "cp", "cpbox:/etc/alpine-release", e.local("release"))
	if b, err := os.ReadFile(filepath.Join(e.work, "release")); err != nil || len(b) == 0 {
		t.Errorf("copied-out file: %q %v", b, err)
	}
	e.dockerOK(sock, "cp", "cpbox:/tmp/tree", e.local("treeout"))
	if b, err := os.ReadFile(filepath.Join(e.work, "treeout", "sub", "deep.txt")); err != nil || string(b) != "deep\n" {
		t.Errorf("copied-out directory: %q %v", b, err)
	}
	entries := tarEntries(t, e.dockerOK(sock, "cp", "cpbox:/tmp/fromtar.txt", "-"))
	if ent, ok := entries["fromtar.txt"]; !ok || ent.body != "tar\n" {
		t.Errorf("cp to stdout sent %v", entries)
	}
	// A stopped container is copied to and from as well.
	e.dockerOK(sock, "cp", e.local("hello.txt"), "cpidle:/root/")
	entries = tarEntries(t, e.dockerOK(sock, "cp", "cpidle:/root/hello.txt", "-"))
	if ent, ok := entries["hello.txt"]; !ok || ent.body != "hello from the host\n" {
		t.Errorf("stopped container's file: %v", entries)
	}
	// Missing paths and containers.
	if r := e.docker(sock, "cp", "cpbox:/no/such/file", e.local("x")); r.code == 0 || !strings.Contains(r.stderr, "/no/such/file") {
		t.Errorf("cp of a missing path: %s", r)
	}
	if r := e.docker(sock, "cp", e.local("hello.txt"), "nosuch:/tmp"); r.code == 0 || !strings.Contains(r.stderr, "nosuch") {
		t.Errorf("cp into a missing container: %s", r)
	}
	// A symlink pointing out of the container stays inside it.
	e.ok("exec", "cpbox", "ln", "-s", "/../../../../../tmp/escape", "/tmp/link")
	e.dockerOK(sock, "cp", e.local("hello.txt"), "cpbox:/tmp/link")
	if _, err := os.Stat("/tmp/escape"); err == nil {
		t.Errorf("cp through a symlink wrote outside the container")
	}
}

// What rrun cannot do is refused in dockerd's words, or in clear words of
// its own.
func TestServeUnsupported(t *testing.T) {
	e := newEnv(t)
	sock := e.serve()
	const noManager = `This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.`
	for _, args := range [][]string{{"service", "ls"}, {"node", "ls"}, {"secret", "ls"}, {"config", "ls"}, {"swarm", "join-token", "worker"}} {
		if r := e.docker(sock, args...); r.code == 0 || !strings.Contains(r.stderr, noManager) {
			t.Errorf("docker %v: %s", args, r)
		}
	}
	if r := e.docker(sock, "swarm", "init"); r.code == 0 || !strings.Contains(r.stderr, "rrun does not support swarm mode") {
		t.Errorf("docker swarm init: %s", r)
	}
	if r := e.docker(sock, "swarm", "leave", "--force"); r.code == 0 || !strings.Contains(r.stderr, "This node is not part of a swarm") {
		t.Errorf("docker swarm leave: %s", r)
	}
	// Plugins: none.
	out := e.dockerOK(sock, "plugin", "ls")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "ID") {
		t.Errorf("docker plugin ls: %q", out)
	}
	// A build says that rrun cannot build.
	e.mkdirAsUser(filepath.Join(e.work, "ctx"))
	e.writeUserFile("ctx/Dockerfile", []byte("FROM alpine\nRUN true\n"))
	r := e.docker(sock, "build", "-t", "x", e.local("ctx"))
	if r.code == 0 || !strings.Contains(r.stderr, "rrun cannot build images yet") {
		t.Errorf("docker build: %s", r)
	}
	t.Logf("docker build: %s", r)
}
