//go:build e2e

package e2e

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The filesystem commands: cp, export, diff and commit.

// local names a path in the env's scratch directory, keeping a trailing
// "/" or "/." (which cp gives a meaning). The paths are absolute: rrun
// runs in its namespaces from "/", whatever directory it was started in.
func (e *env) local(rel string) string { return e.work + "/" + rel }

// tarEntry is one member of an archive rrun sent.
type tarEntry struct {
	hdr  *tar.Header
	body string
}

// tarEntries reads an archive into its members by name.
func tarEntries(t *testing.T, data string) map[string]tarEntry {
	t.Helper()
	out := map[string]tarEntry{}
	tr := tar.NewReader(strings.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("reading the archive: %v", err)
		}
		body, _ := io.ReadAll(tr)
		out[hdr.Name] = tarEntry{hdr: hdr, body: string(body)}
	}
}

// catFile reads one file of a container through `cp CONTAINER:PATH -`,
// with its owner as the container sees it.
func (e *env) catFile(ctr, path string) (body string, uid, gid int) {
	e.t.Helper()
	entries := tarEntries(e.t, e.ok("cp", ctr+":"+path, "-"))
	ent, ok := entries[filepath.Base(path)]
	if !ok {
		e.t.Fatalf("cp %s:%s - sent %v", ctr, path, entries)
	}
	return ent.body, ent.hdr.Uid, ent.hdr.Gid
}

// userTar is a tar archive of one file with the given owner.
func userTar(t *testing.T, name, body string, uid, gid int) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Uid: uid, Gid: gid, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	io.WriteString(tw, body)
	tw.Close()
	return buf.Bytes()
}

// ownedByUser fails unless path belongs to the test user on the host.
func ownedByUser(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if int(st.Uid) != tuser.uid || int(st.Gid) != tuser.gid {
		t.Errorf("%s belongs to %d:%d, want the user's %d:%d", path, st.Uid, st.Gid, tuser.uid, tuser.gid)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestCpPathRules(t *testing.T) {
	e := newEnv(t)
	e.ok("create", "--name", "box", "alpine", "true")
	e.writeUserFile("hello.txt", []byte("hello\n"))
	e.mkdirAsUser(filepath.Join(e.work, "tree"))
	e.mkdirAsUser(filepath.Join(e.work, "tree", "sub"))
	e.writeUserFile("tree/sub/f", []byte("f\n"))

	// Into the container. A relative container path is from its root.
	e.ok("cp", e.local("hello.txt"), "box:/hello.txt")
	e.ok("cp", e.local("hello.txt"), "box:tmp")
	e.ok("cp", e.local("tree"), "box:/tree")  // missing: created with the contents
	e.ok("cp", e.local("tree"), "box:/tree")  // existing directory: copied into it
	e.ok("cp", e.local("tree/."), "box:/t2/") // the contents, into a new directory
	for path, want := range map[string]string{"/hello.txt": "hello\n", "/tmp/hello.txt": "hello\n", "/tree/sub/f": "f\n", "/tree/tree/sub/f": "f\n", "/t2/sub/f": "f\n"} {
		body, uid, gid := e.catFile("box", path)
		if body != want || uid != 0 || gid != 0 {
			t.Errorf("%s: %q owned by %d:%d, want %q owned by 0:0", path, body, uid, gid, want)
		}
	}
	contains(t, e.fails(1, "cp", e.local("hello.txt"), "box:/missing/"), "no such directory")
	contains(t, e.fails(1, "cp", e.local("hello.txt"), "box:/missing/dir/x"), "Could not find the file /missing/dir in container box")
	contains(t, e.fails(1, "cp", e.local("tree"), "box:/hello.txt"), "cannot copy directory")
	contains(t, e.fails(1, "cp", e.local("nothere"), "box:/"), "no such file or directory")

	// Out of it: the files are the user's.
	e.mkdirAsUser(filepath.Join(e.work, "dir"))
	e.ok("cp", "box:/hello.txt", e.local("copy.txt"))
	e.ok("cp", "box:/hello.txt", e.local("dir"))
	e.ok("cp", "box:/tree", e.local("out"))
	e.ok("cp", "box:/tree/.", e.local("dir"))
	e.ok("cp", "box:tree/sub/", e.local("dir/subcopy"))
	for path, want := range map[string]string{"copy.txt": "hello\n", "dir/hello.txt": "hello\n", "out/sub/f": "f\n", "dir/sub/f": "f\n", "dir/tree/sub/f": "f\n", "dir/subcopy/f": "f\n"} {
		full := filepath.Join(e.work, path)
		if got := readFile(t, full); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
		ownedByUser(t, full)
	}
	ownedByUser(t, filepath.Join(e.work, "out"))
	contains(t, e.fails(1, "cp", "box:/hello.txt", e.local("nodir/")), "no such directory")
	contains(t, e.fails(1, "cp", "box:/tree", e.local("copy.txt")), "cannot copy directory")
	contains(t, e.fails(1, "cp", "box:/etc/nope", e.local("x")), "Could not find the file /etc/nope in container box")
	contains(t, e.fails(1, "cp", "nosuch:/etc/passwd", e.local("x")), "No such container:path: nosuch:/etc/passwd")
	contains(t, e.fails(1, "cp", "box:/a", "box:/b"), "copying between containers is not supported")
	contains(t, e.fails(1, "cp", "a", "b"), "must specify at least one container source")
	contains(t, e.fails(125, "cp", "box:/a"), `"cp" requires exactly 2 arguments`)
}

func TestCpTarStreams(t *testing.T) {
	e := newEnv(t)
	e.ok("create", "--name", "box", "alpine", "true")
	// Out: a tar archive of the path, named after its last element.
	entries := tarEntries(t, e.ok("cp", "box:/etc", "-"))
	if _, ok := entries["etc/passwd"]; !ok {
		t.Errorf("cp box:/etc - sent %d entries, no etc/passwd", len(entries))
	}
	if ent := entries["etc/passwd"]; ent.hdr != nil && (ent.hdr.Uid != 0 || !strings.Contains(ent.body, "root:")) {
		t.Errorf("etc/passwd: uid %d, %q", ent.hdr.Uid, ent.body)
	}
	// In: extracted into a directory; the files become root's, unless -a
	// keeps the archive's owners.
	if r := e.rrunInput(bytes.NewReader(userTar(t, "plain", "plain\n", 1234, 5678)), "cp", "-", "box:/tmp"); r.code != 0 {
		t.Fatal(r)
	}
	if body, uid, gid := e.catFile("box", "/tmp/plain"); body != "plain\n" || uid != 0 || gid != 0 {
		t.Errorf("cp - : %q owned by %d:%d, want 0:0", body, uid, gid)
	}
	if r := e.rrunInput(bytes.NewReader(userTar(t, "kept", "kept\n", 1234, 5678)), "cp", "-a", "-", "box:/tmp/"); r.code != 0 {
		t.Fatal(r)
	}
	if body, uid, gid := e.catFile("box", "/tmp/kept"); body != "kept\n" || uid != 1234 || gid != 5678 {
		t.Errorf("cp -a - : %q owned by %d:%d, want 1234:5678", body, uid, gid)
	}
	r := e.rrunInput(bytes.NewReader(userTar(t, "x", "x", 0, 0)), "cp", "-", "box:/etc/passwd")
	if r.code != 1 || !strings.Contains(r.stderr, `destination "box:/etc/passwd" must be a directory`) {
		t.Errorf("cp - to a file: %s", r)
	}
}

// Symlinks in a container resolve inside it: neither an absolute link nor
// "../" leads cp to the host's files.
func TestCpSymlinksStayInside(t *testing.T) {
	e := newEnv(t)
	marker := "rrun-e2e-" + filepath.Base(e.root)
	e.ok("run", "--name", "box", "alpine", "sh", "-c",
		"echo container > /etc/marker; ln -s /etc /etclink; ln -s ../../../../../../../etc /up; ln -s /etc/marker /m")
	for _, path := range []string{"/etclink/marker", "/up/marker", "/../../../../etc/marker", "/etclink/../../../etc/marker"} {
		if body, _, _ := e.catFile("box", path); body != "container\n" {
			t.Errorf("%s: %q, want the container's file", path, body)
		}
	}
	// The host's /etc/passwd is not what the container's links lead to.
	if body, _, _ := e.catFile("box", "/up/passwd"); body == readFile(t, "/etc/passwd") {
		t.Error("/up/passwd is the host's /etc/passwd")
	}
	// Writing through the links writes into the container.
	e.writeUserFile(marker, []byte("from host\n"))
	e.ok("cp", e.local(marker), "box:/up/")
	e.ok("cp", e.local(marker), "box:/etclink")
	if _, err := os.Stat(filepath.Join("/etc", marker)); err == nil {
		os.Remove(filepath.Join("/etc", marker))
		t.Fatal("cp wrote into the host's /etc")
	}
	if body, _, _ := e.catFile("box", "/etc/"+marker); body != "from host\n" {
		t.Errorf("the file copied through the links: %q", body)
	}
	// Without -L a link is copied as a link; with -L, what it points to.
	entries := tarEntries(t, e.ok("cp", "box:/m", "-"))
	if ent, ok := entries["m"]; !ok || ent.hdr.Typeflag != tar.TypeSymlink || ent.hdr.Linkname != "/etc/marker" {
		t.Errorf("cp box:/m - sent %v", entries)
	}
	e.ok("cp", "box:/m", e.local("link"))
	if target, err := os.Readlink(filepath.Join(e.work, "link")); err != nil || target != "/etc/marker" {
		t.Errorf("copied link: %q %v", target, err)
	}
	e.ok("cp", "-L", "box:/m", e.local("followed"))
	if got := readFile(t, filepath.Join(e.work, "followed")); got != "container\n" {
		t.Errorf("cp -L: %q", got)
	}
	e.ok("cp", "-L", "box:/etclink", e.local("etccopy"))
	if got := readFile(t, filepath.Join(e.work, "etccopy", "marker")); got != "container\n" {
		t.Errorf("cp -L of a directory link: %q", got)
	}
}

// A running container is copied to and from as docker does: its root
// filesystem with its volumes, bind mounts and /etc files, not its tmpfs
// mounts; once stopped, its volumes are still reached.
func TestCpRunningContainer(t *testing.T) {
	e := newEnv(t)
	e.mkdirAsUser(filepath.Join(e.work, "bind"))
	e.writeUserFile("bind/b", []byte("in-bind\n"))
	id := strings.TrimSpace(e.ok("run", "-d", "--name", "live", "-v", "fsvol:/vol", "-v", e.local("bind")+":/bind",
		"--tmpfs", "/scratch", "alpine", "sh", "-c",
		"echo in-volume > /vol/v; echo in-tmpfs > /scratch/t; touch /ready; exec sleep 1000"))
	waitFor(t, "the container to write its files", func() bool { return e.rrun("cp", "live:/ready", "-").code == 0 })
	for path, want := range map[string]string{"/vol/v": "in-volume\n", "/bind/b": "in-bind\n", "/etc/hostname": id[:12] + "\n"} {
		if body, _, _ := e.catFile("live", path); body != want {
			t.Errorf("%s: %q, want %q", path, body, want)
		}
	}
	contains(t, e.fails(1, "cp", "live:/scratch/t", "-"), "Could not find the file /scratch/t in container live")
	e.writeUserFile("in.txt", []byte("copied in\n"))
	e.ok("cp", e.local("in.txt"), "live:/vol/")
	e.ok("cp", e.local("in.txt"), "live:/bind/")
	if got := readFile(t, filepath.Join(e.work, "bind", "in.txt")); got != "copied in\n" {
		t.Errorf("the bind mount's directory has %q", got)
	}
	e.ok("stop", "-t", "1", "live")
	if body, _, _ := e.catFile("live", "/vol/in.txt"); body != "copied in\n" {
		t.Errorf("the volume of the stopped container: %q", body)
	}
	// The volume really got it: another container sees it.
	if got := e.ok("run", "--rm", "-v", "fsvol:/v", "alpine", "cat", "/v/in.txt"); got != "copied in\n" {
		t.Errorf("another container reads %q", got)
	}
	e.ok("run", "-d", "--name", "ro", "--read-only", "-v", "fsvol:/vol", "-v", e.local("bind")+":/robind:ro", "alpine", "sleep", "1000")
	contains(t, e.fails(1, "cp", e.local("in.txt"), "ro:/"), "container rootfs is marked read-only")
	contains(t, e.fails(1, "cp", e.local("in.txt"), "ro:/robind/"), "mounted volume is marked read-only")
	e.ok("cp", e.local("in.txt"), "ro:/vol/again.txt")
}

func TestExport(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "--name", "box", "alpine", "sh", "-c", "echo new > /newfile; rm /etc/group")
	members := tarMembers(t, []byte(e.ok("export", "box")))
	for _, want := range []string{"bin/busybox", "newfile", "etc/passwd"} {
		if !members[want] {
			t.Errorf("export has no %s (%d members)", want, len(members))
		}
	}
	if members["etc/group"] {
		t.Error("export has the deleted etc/group")
	}
	e.ok("export", "-o", e.local("box.tar"), "box")
	out := filepath.Join(e.work, "box.tar")
	ownedByUser(t, out)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if m := tarMembers(t, data); !m["newfile"] || !m["bin/busybox"] {
		t.Errorf("export -o: %d members", len(m))
	}
	// A failed export leaves the old file and no temporary file.
	e.fails(1, "export", "-o", e.local("box.tar"), "nosuch")
	if again, _ := os.ReadFile(out); !bytes.Equal(again, data) {
		t.Error("a failed export changed the file")
	}
	if tmp, _ := filepath.Glob(filepath.Join(e.work, ".box.tar*")); len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
	contains(t, e.fails(1, "export", "-o", e.local("missing/box.tar"), "box"), "invalid output path")
	contains(t, e.fails(1, "export", "nosuch"), "No such container: nosuch")
}

func TestDiff(t *testing.T) {
	e := newEnv(t)
	e.ok("create", "--name", "fresh", "alpine", "true")
	if got := e.ok("diff", "fresh"); got != "" {
		t.Errorf("diff of a new container: %q", got)
	}
	// The mount points made for /etc/hosts and the like are not changes.
	e.ok("run", "--name", "ran", "alpine", "true")
	if got := e.ok("diff", "ran"); got != "" {
		t.Errorf("diff of a container that changed nothing: %q", got)
	}
	e.ok("run", "--name", "box", "alpine", "sh", "-c",
		"echo a > /added; mkdir /newdir; echo more >> /etc/alpine-release; rm /etc/group")
	want := "A /added\nC /etc\nC /etc/alpine-release\nD /etc/group\nA /newdir\n"
	if got := e.ok("diff", "box"); got != want {
		t.Errorf("diff:\n%s\nwant:\n%s", got, want)
	}
	contains(t, e.fails(1, "diff", "nosuch"), "No such container: nosuch")
}

func TestCommit(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "--name", "src", "-e", "FROM_RUN=1", "alpine", "sh", "-c", "echo committed > /f; rm /etc/group")
	base := e.inspectImage("alpine")
	out := e.ok("commit", "-a", "Ann Author <ann@example.com>", "-m", "a message",
		"-c", `CMD ["cat","/f"]`, "--change", "LABEL stage=committed", "src", "e2e/committed:v1")
	id := strings.TrimSpace(out)
	if !strings.HasPrefix(id, "sha256:") || len(id) != 71 {
		t.Fatalf("commit printed %q", out)
	}
	img := e.inspectImage("e2e/committed:v1")
	if img.ID != id || len(img.RootFS.Layers) != len(base.RootFS.Layers)+1 {
		t.Errorf("committed image %s with %d layers (base has %d)", img.ID, len(img.RootFS.Layers), len(base.RootFS.Layers))
	}
	if fmt.Sprint(img.Config.Cmd) != "[cat /f]" || img.Config.Labels["stage"] != "committed" || !slicesContain(img.Config.Env, "FROM_RUN=1") {
		t.Errorf("config: Cmd %q Labels %v Env %q", img.Config.Cmd, img.Config.Labels, img.Config.Env)
	}
	if got := strings.TrimSpace(e.ok("image", "inspect", "--format", "{{.Author}}|{{.Comment}}", id)); got != "Ann Author <ann@example.com>|a message" {
		t.Errorf("author and comment: %q", got)
	}
	rows := lines(e.ok("history", "--no-trunc", "--format", "{{.CreatedBy}}|{{.Comment}}", "e2e/committed:v1"))
	if len(rows) == 0 || rows[0] != "sh -c echo committed > /f; rm /etc/group|a message" {
		t.Errorf("history: %q", rows)
	}
	// A new container of it has the committed files and runs the new Cmd.
	if got := e.ok("run", "--rm", "e2e/committed:v1"); got != "committed\n" {
		t.Errorf("run of the committed image: %q", got)
	}
	if r := e.rrun("run", "--rm", "e2e/committed:v1", "ls", "/etc/group"); r.code == 0 {
		t.Errorf("the deleted /etc/group is back: %s", r)
	}

	// Untagged, and from a container that ran but changed nothing: no
	// new layer, only a history entry.
	e.ok("run", "--name", "ran", "alpine", "true")
	untagged := strings.TrimSpace(e.ok("commit", "ran"))
	var got []imageInspect
	if err := json.Unmarshal([]byte(e.ok("image", "inspect", untagged)), &got); err != nil || len(got) != 1 {
		t.Fatalf("inspect %s: %v", untagged, err)
	}
	if len(got[0].RepoTags) != 0 || len(got[0].RootFS.Layers) != len(base.RootFS.Layers) {
		t.Errorf("untagged commit: tags %v, %d layers", got[0].RepoTags, len(got[0].RootFS.Layers))
	}
	if rows := lines(e.ok("history", "--format", "{{.CreatedBy}}|{{.Size}}", untagged)); len(rows) == 0 || rows[0] != "true|0B" {
		t.Errorf("history of the untagged commit: %q", rows)
	}
	// A running container is committed (paused where it can be) and
	// keeps running.
	e.ok("run", "-d", "--name", "running", "alpine", "sh", "-c", "echo live > /live; exec sleep 1000")
	waitFor(t, "the container to write /live", func() bool { return e.rrun("cp", "running:/live", "-").code == 0 })
	e.ok("commit", "running", "e2e/live")
	e.ok("commit", "--pause=false", "running", "e2e/live:nopause")
	for _, ref := range []string{"e2e/live", "e2e/live:nopause"} {
		if got := e.ok("run", "--rm", ref, "cat", "/live"); got != "live\n" {
			t.Errorf("%s: /live is %q", ref, got)
		}
	}
	if info := e.inspectContainer("running"); !info.State.Running || info.State.Status != "running" {
		t.Errorf("after commit: %+v", info.State)
	}
	contains(t, e.fails(1, "commit", "-c", "RUN true", "src"), "run is not a valid change command")
	contains(t, e.fails(1, "commit", "nosuch"), "No such container: nosuch")
}

func slicesContain(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
