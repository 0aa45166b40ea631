//go:build e2e

package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tarMembers lists the names in a tar archive.
func tarMembers(t *testing.T, data []byte) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("reading the archive: %v", err)
		}
		names[hdr.Name] = true
	}
}

// writeUserFile writes a file the test user can read into the env's
// scratch directory.
func (e *env) writeUserFile(name string, data []byte) string {
	e.t.Helper()
	path := filepath.Join(e.work, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		e.t.Fatal(err)
	}
	if tuser.asRoot {
		if err := os.Chown(path, tuser.uid, tuser.gid); err != nil {
			e.t.Fatal(err)
		}
	}
	return path
}

// rrunWithEnv runs rrun with extra environment variables and stdin.
func (e *env) rrunWithEnv(extra []string, stdin io.Reader, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := e.command(ctx, args...)
	cmd.Env = append(cmd.Env, extra...)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(interface{ ExitCode() int }); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("running rrun %v: %v", args, err)
	}
	return r
}

// rootfsTarball is a tiny root filesystem, gzipped as users' exports are.
func rootfsTarball(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range []struct {
		name, body string
		mode       int64
	}{
		{"etc/", "", 0o755},
		{"etc/motd", "imported by rrun's e2e tests\n", 0o644},
		{"bin/", "", 0o755},
		{"bin/hello", "#!/bin/sh\necho hello\n", 0o755},
	} {
		hdr := &tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.body)), Typeflag: tar.TypeReg, ModTime: time.Unix(1700000000, 0)}
		if strings.HasSuffix(f.name, "/") {
			hdr.Typeflag = tar.TypeDir
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, f.body)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func TestSaveLoadRoundTrip(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "alpine")
	e.ok("pull", "busybox")
	e.ok("tag", "alpine", "alpine:e2e")
	alpine, busybox := e.inspectImage("alpine").ID, e.inspectImage("busybox").ID

	// A repository name saves all its tags; several images share one archive.
	archive := filepath.Join(e.work, "images.tar")
	if out := e.ok("save", "-o", archive, "alpine", "busybox"); out != "" {
		t.Errorf("save -o printed %q", out)
	}
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	var manifest []struct{ RepoTags []string }
	tr := tar.NewReader(bytes.NewReader(data))
	for hdr, err := tr.Next(); err == nil; hdr, err = tr.Next() {
		if hdr.Name == "manifest.json" {
			json.NewDecoder(tr).Decode(&manifest)
		}
	}
	if len(manifest) != 2 || len(manifest[0].RepoTags)+len(manifest[1].RepoTags) != 3 {
		t.Fatalf("docker archive manifest %+v, want 2 images with 3 tags", manifest)
	}

	e.ok("rmi", "alpine", "alpine:e2e", "busybox")
	if got := e.ok("images", "-q"); got != "" {
		t.Fatalf("images left: %q", got)
	}
	out := e.ok("load", "-i", archive)
	contains(t, out, "Loaded image: alpine:latest", "Loaded image: alpine:e2e", "Loaded image: busybox:latest")
	if got := e.inspectImage("alpine:e2e").ID; got != alpine {
		t.Errorf("alpine:e2e is %s after load, want %s", got, alpine)
	}
	if got := e.inspectImage("busybox").ID; got != busybox {
		t.Errorf("busybox is %s after load, want %s", got, busybox)
	}

	// To stdout when it is not a terminal; an id saves the image untagged,
	// and stdin loads it back as "Loaded image ID".
	r := e.rrun("save", busybox)
	if r.code != 0 || !tarMembers(t, []byte(r.stdout))["manifest.json"] {
		t.Fatalf("save to stdout: exit %d, stderr %s", r.code, r.stderr)
	}
	e.ok("rmi", "busybox")
	r = e.rrunInput(strings.NewReader(r.stdout), "image", "load")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "Loaded image ID: "+busybox {
		t.Fatalf("load from stdin: %s", r)
	}
	if got := e.ok("images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "dangling=true"); strings.TrimSpace(got) != "<none>:<none>" {
		t.Errorf("the untagged load is listed as %q", got)
	}
}

func TestSaveFailureKeepsTheOldFile(t *testing.T) {
	e := newEnv(t)
	old := e.writeUserFile("keep.tar", []byte("earlier archive"))
	contains(t, e.fails(1, "save", "-o", old, "no-such-image"), "No such image: no-such-image:latest")
	if data, _ := os.ReadFile(old); string(data) != "earlier archive" {
		t.Fatalf("a failed save changed %s: %q", old, data)
	}
	entries, _ := os.ReadDir(e.work)
	if len(entries) != 1 {
		t.Errorf("a failed save left files beside the output: %v", entries)
	}
	contains(t, e.fails(1, "save", "--format", "tgz", "-o", old, "alpine"), `unsupported archive format "tgz"`)
}

func TestOCIArchiveRoundTrip(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "alpine")
	e.ok("pull", "rrun-test/multiarch")
	alpine, multi := e.inspectImage("alpine").ID, e.inspectImage("rrun-test/multiarch").ID
	archive := filepath.Join(e.work, "oci.tar")
	e.ok("image", "save", "--format", "oci-archive", "-o", archive, "alpine", "rrun-test/multiarch")
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	members := tarMembers(t, data)
	if !members["index.json"] || !members["oci-layout"] || members["manifest.json"] {
		t.Fatalf("not an OCI archive: %v", members)
	}
	e.ok("rmi", "alpine", "rrun-test/multiarch")
	contains(t, e.ok("load", "-q", "-i", archive), "Loaded image: alpine:latest", "Loaded image: rrun-test/multiarch:latest")
	if got := e.inspectImage("alpine").ID; got != alpine {
		t.Errorf("alpine is %s after the OCI round trip, want %s", got, alpine)
	}
	if got := e.inspectImage("rrun-test/multiarch").ID; got != multi {
		t.Errorf("rrun-test/multiarch is %s after the OCI round trip, want %s", got, multi)
	}
}

func TestLoadDamagedArchiveFailsClearly(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "busybox")
	archive := filepath.Join(e.work, "busybox.tar")
	e.ok("save", "-o", archive, "busybox")
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	e.ok("rmi", "busybox")
	truncated := e.writeUserFile("truncated.tar", data[:len(data)/2])
	garbage := e.writeUserFile("garbage.tar", []byte("this is not a tarball at all\n"))
	for _, tc := range []struct {
		file string
		want []string
	}{
		{truncated, []string{"loading " + truncated + ": ", "truncated"}},
		{garbage, []string{"loading " + garbage + ": ", "not a tar archive"}},
	} {
		contains(t, e.fails(1, "load", "-i", tc.file), tc.want...)
	}
	contains(t, e.rrunInput(bytes.NewReader(data[:len(data)/3]), "load").stderr, "loading stdin: ", "truncated")
	if got := e.ok("images", "-qa"); got != "" {
		t.Fatalf("a failed load left images: %q", got)
	}
}

func TestImportWithChanges(t *testing.T) {
	e := newEnv(t)
	tarball := e.writeUserFile("rootfs.tar.gz", rootfsTarball(t))
	out := e.ok("import",
		"-c", `CMD ["/bin/hello", "a,b"]`,
		"--change", `ENV GREETING="hello world" PATH=/bin`,
		"-c", "WORKDIR /srv", "-c", "EXPOSE 8080/tcp", "-c", "LABEL org.example.team=e2e",
		tarball, "e2e/imported:v1")
	id := strings.TrimSpace(out)
	if !strings.HasPrefix(id, "sha256:") || len(id) != 71 {
		t.Fatalf("import printed %q, want the image id", out)
	}
	img := e.inspectImage("e2e/imported:v1")
	if img.ID != id || len(img.RootFS.Layers) != 1 || img.Os != "linux" {
		t.Errorf("imported image %+v", img)
	}
	if fmt.Sprint(img.Config.Cmd) != "[/bin/hello a,b]" {
		t.Errorf("Cmd %q", img.Config.Cmd)
	}
	if fmt.Sprint(img.Config.Env) != "[GREETING=hello world PATH=/bin]" {
		t.Errorf("Env %q", img.Config.Env)
	}
	if img.Config.Labels["org.example.team"] != "e2e" {
		t.Errorf("Labels %v", img.Config.Labels)
	}
	got := e.ok("image", "inspect", "--format", "{{.Config.WorkingDir}} {{json .Config.ExposedPorts}} {{.Comment}}", id)
	if strings.TrimSpace(got) != `/srv {"8080/tcp":{}} Imported from -` {
		t.Errorf("inspect gave %q", got)
	}
	dir := strings.TrimSpace(e.ok("image", "mount", "e2e/imported:v1"))
	contains(t, e.ok("unshare", "cat", filepath.Join(dir, "etc/motd")), "imported by rrun's e2e tests")
	e.ok("image", "unmount", "e2e/imported:v1")

	// From stdin, untagged and with a message; from a URL.
	r := e.rrunInput(bytes.NewReader(rootfsTarball(t)), "image", "import", "-m", "from a pipe", "-")
	if r.code != 0 {
		t.Fatal(r)
	}
	dangling := strings.TrimSpace(r.stdout)
	if got := e.ok("history", "--format", "{{.Comment}}", dangling); strings.TrimSpace(got) != "from a pipe" {
		t.Errorf("history comment %q", got)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/rootfs.tgz" {
			http.NotFound(w, r)
			return
		}
		w.Write(rootfsTarball(t))
	}))
	defer srv.Close()
	e.ok("import", srv.URL+"/rootfs.tgz", "e2e/fromurl")
	if got := e.ok("history", "--format", "{{.Comment}}", "e2e/fromurl"); strings.TrimSpace(got) != "Imported from "+srv.URL+"/rootfs.tgz" {
		t.Errorf("history comment of the URL import %q", got)
	}

	contains(t, e.fails(1, "import", srv.URL+"/missing.tgz"), "404")
	contains(t, e.fails(1, "import", "-c", "RUN rm -rf /", tarball), "run is not a valid change command")
	contains(t, e.fails(1, "import", e.writeUserFile("text", []byte("plain text\n"))), "not a tar archive")
	if n := len(lines(e.ok("images", "-q"))); n != 3 {
		t.Errorf("%d images after the imports, want 3", n)
	}
}

func TestHistoryMatchesLayers(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "rrun-test/big")
	img := e.inspectImage("rrun-test/big")
	rows := lines(e.ok("history", "--no-trunc", "--format", "{{.ID}}\t{{.Size}}", "-H=false", "rrun-test/big"))
	if len(rows) < len(img.RootFS.Layers) {
		t.Fatalf("%d history rows for %d layers", len(rows), len(img.RootFS.Layers))
	}
	var total int64
	for i, row := range rows {
		id, size, _ := strings.Cut(row, "\t")
		want := "<missing>" // intermediate steps have no local image, as with docker
		if i == 0 {
			want = img.ID
		}
		if id != want {
			t.Errorf("row %d: id %s, want %s", i, id, want)
		}
		n, err := strconv.ParseInt(size, 10, 64)
		if err != nil {
			t.Fatalf("row %q: %v", row, err)
		}
		total += n
	}
	// Every layer is counted once, on the step that made it.
	if total != img.Size {
		t.Errorf("history sizes add up to %d, the image is %d", total, img.Size)
	}
	table := lines(e.ok("image", "history", "rrun-test/big"))
	if len(table) != len(rows)+1 || strings.Join(strings.Fields(table[0]), " ") != "IMAGE CREATED CREATED BY SIZE COMMENT" {
		t.Errorf("history table:\n%s", strings.Join(table, "\n"))
	}
	if q := lines(e.ok("history", "-q", "rrun-test/big")); len(q) != len(rows) || q[0] != img.ID[7:19] {
		t.Errorf("history -q: %v", q)
	}
}

func TestPushPullRoundTrip(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "alpine")
	id := e.inspectImage("alpine").ID
	repo := "127.0.0.1:5000/e2e/push-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	e.ok("tag", "alpine", repo+":v1")

	out := e.ok("push", repo+":v1")
	contains(t, out, "The push refers to repository ["+repo+"]", "v1: digest: sha256:", " size: ")
	digest := strings.Fields(out[strings.Index(out, "v1: digest: "):])[2]
	t.Cleanup(func() { deleteManifest(t, repo, digest) })
	if got := strings.TrimSpace(e.ok("push", "-q", repo+":v1")); got != repo+":v1" {
		t.Errorf("push -q printed %q", got)
	}

	e.ok("rmi", repo+":v1", "alpine")
	e.ok("pull", repo+":v1")
	if got := e.inspectImage(repo + ":v1").ID; got != id {
		t.Fatalf("pulled back %s, pushed %s", got, id)
	}

	contains(t, e.fails(1, "push", repo+":nope"), "tag does not exist: "+repo+":nope")
	contains(t, e.fails(1, "push", "127.0.0.1:5000/e2e/never-tagged"), "An image does not exist locally with the tag: 127.0.0.1:5000/e2e/never-tagged")
	e.ok("tag", id, "127.0.0.1:1/e2e/down:v1")
	contains(t, e.fails(1, "push", "127.0.0.1:1/e2e/down:v1"), "pushing 127.0.0.1:1/e2e/down:v1", "connection refused")
}

// deleteManifest removes what a test pushed (the registry allows deletes).
func deleteManifest(t *testing.T, repo, digest string) {
	host, path, _ := strings.Cut(repo, "/")
	req, _ := http.NewRequest(http.MethodDelete, "http://"+host+"/v2/"+path+"/manifests/"+digest, nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

func TestImagePrune(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "alpine")
	alpine := e.inspectImage("alpine").ID
	r := e.rrunInput(bytes.NewReader(rootfsTarball(t)), "import", "-")
	dangling := strings.TrimSpace(r.stdout)

	// Without -f it asks, and "n" keeps everything.
	r = e.rrunInput(strings.NewReader("n\n"), "image", "prune")
	if r.code != 0 || r.stdout != "WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] " {
		t.Fatalf("prune answered no: %s", r)
	}
	if n := len(lines(e.ok("images", "-q"))); n != 2 {
		t.Fatalf("%d images after a refused prune, want 2", n)
	}
	r = e.rrunInput(strings.NewReader("y\n"), "image", "prune")
	contains(t, r.stdout, "Deleted Images:\ndeleted: "+dangling+"\n", "Total reclaimed space: ")
	if got := strings.TrimSpace(e.ok("images", "--format", "{{.Repository}}")); got != "alpine" {
		t.Fatalf("after pruning dangling images: %q", got)
	}
	if got := strings.TrimSpace(e.ok("image", "prune", "-f")); got != "Total reclaimed space: 0B" {
		t.Errorf("nothing to prune printed %q", got)
	}
	// -a removes unused tagged images too; filters narrow it.
	contains(t, e.ok("image", "prune", "-a", "-f", "--filter", "label=no.such.label"), "Total reclaimed space: 0B")
	out := e.ok("image", "prune", "-a", "-f", "--filter", "until=1h")
	contains(t, out, "untagged: alpine:latest", "deleted: "+alpine)
	if got := e.ok("images", "-q"); got != "" {
		t.Errorf("images left after prune -a: %q", got)
	}
	if n := e.layerCount(); n != 0 {
		t.Errorf("%d layers left after prune -a", n)
	}
	contains(t, e.fails(1, "image", "prune", "-f", "--filter", "color=red"), "invalid filter 'color'")
}

func TestSystemDf(t *testing.T) {
	e := newEnv(t)
	type row struct{ Type, TotalCount, Active, Size, Reclaimable string }
	df := func() map[string]row {
		rows := map[string]row{}
		for _, l := range lines(e.ok("system", "df", "--format", "json")) {
			var r row
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			rows[r.Type] = r
		}
		return rows
	}
	if got := df()["Images"]; got.TotalCount != "0" || got.Size != "0B" {
		t.Errorf("empty store: %+v", got)
	}
	e.ok("pull", "alpine")
	e.ok("pull", "busybox")
	rows := df()
	if got := rows["Images"]; got.TotalCount != "2" || got.Active != "0" || !strings.HasSuffix(got.Reclaimable, "(100%)") {
		t.Errorf("Images row %+v", got)
	}
	for _, kind := range []string{"Containers", "Local Volumes", "Build Cache"} {
		if got := rows[kind]; got.TotalCount != "0" {
			t.Errorf("%s row %+v", kind, got)
		}
	}
	table := lines(e.ok("system", "df"))
	if len(table) != 5 || strings.Join(strings.Fields(table[0]), " ") != "TYPE TOTAL ACTIVE SIZE RECLAIMABLE" {
		t.Errorf("df table:\n%s", strings.Join(table, "\n"))
	}
	// Verbose: each image with what it shares (busybox is alpine's base).
	verbose := e.ok("system", "df", "-v")
	contains(t, verbose, "Images space usage:", "SHARED SIZE", "Containers space usage:", "Build cache usage: 0B")
}

func TestLoginLogoutAuthFile(t *testing.T) {
	e := newEnv(t)
	authfile := filepath.Join(e.work, "auth.json")
	r := e.rrunInput(strings.NewReader("s3cret\n"), "login", "--authfile", authfile, "-u", "e2e", "--password-stdin", "127.0.0.1:5000")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "Login Succeeded" {
		t.Fatalf("login: %s", r)
	}
	if pid := e.pausePID(); pid != 0 {
		t.Errorf("login started the namespace holder (pid %d); it needs no namespace", pid)
	}
	auths := readAuths(t, authfile)
	if auths["127.0.0.1:5000"] != base64.StdEncoding.EncodeToString([]byte("e2e:s3cret")) {
		t.Fatalf("auth entries %v", auths)
	}
	// A registry that is down: login fails and stores nothing.
	r = e.rrun("login", "--authfile", authfile, "-u", "x", "-p", "y", "127.0.0.1:1")
	if r.code == 0 {
		t.Fatalf("login to a closed port succeeded: %s", r)
	}
	contains(t, r.stderr, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.", "127.0.0.1:1")
	if _, ok := readAuths(t, authfile)["127.0.0.1:1"]; ok {
		t.Error("a failed login stored credentials")
	}
	contains(t, e.fails(125, "login", "--authfile", authfile, "--password-stdin", "127.0.0.1:5000"), "Must provide --username with --password-stdin")
	// With no credentials given, the stored ones are checked again.
	contains(t, e.ok("login", "--authfile", authfile, "127.0.0.1:5000"), "Authenticating with existing credentials... [Username: e2e]", "Login Succeeded")

	if out := e.ok("logout", "--authfile", authfile, "127.0.0.1:5000"); out != "Removing login credentials for 127.0.0.1:5000\n" {
		t.Errorf("logout printed %q", out)
	}
	if auths := readAuths(t, authfile); len(auths) != 0 {
		t.Errorf("entries left after logout: %v", auths)
	}
	// None stored and no terminal to ask on.
	contains(t, e.fails(1, "login", "--authfile", authfile, "127.0.0.1:5000"), "Cannot perform an interactive login from a non TTY device")
}

// By default credentials go to docker's config.json, in docker's format,
// keeping what else the file holds.
func TestLoginWritesDockerConfig(t *testing.T) {
	e := newEnv(t)
	dockerDir := filepath.Join(e.work, "docker")
	e.mkdirAsUser(dockerDir)
	config := filepath.Join(dockerDir, "config.json")
	if err := os.WriteFile(config, []byte(`{"auths":{},"psFormat":"table {{.ID}}"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chown(config, tuser.uid, tuser.gid)
	extra := []string{"DOCKER_CONFIG=" + dockerDir}
	r := e.rrunWithEnv(extra, strings.NewReader("pw"), "login", "-u", "me", "--password-stdin", "http://127.0.0.1:5000/v2/")
	if r.code != 0 {
		t.Fatal(r)
	}
	contains(t, r.stderr, "stored unencrypted in '"+config+"'")
	data, _ := os.ReadFile(config)
	var file struct {
		Auths    map[string]struct{ Auth string }
		PsFormat string
	}
	if err := json.Unmarshal(data, &file); err != nil || file.PsFormat != "table {{.ID}}" || file.Auths["127.0.0.1:5000"].Auth != base64.StdEncoding.EncodeToString([]byte("me:pw")) {
		t.Fatalf("config.json after login: %s (%v)", data, err)
	}
	// Docker Hub is the default server, shown under docker's key.
	r = e.rrunWithEnv(extra, nil, "logout")
	if r.code != 0 || r.stdout != "Removing login credentials for https://index.docker.io/v1/\n" {
		t.Errorf("logout: %s", r)
	}
	r = e.rrunWithEnv(extra, nil, "logout", "--all")
	if r.code != 0 {
		t.Fatal(r)
	}
	data, _ = os.ReadFile(config)
	var after struct {
		Auths    map[string]struct{ Auth string }
		PsFormat string
	}
	if err := json.Unmarshal(data, &after); err != nil || len(after.Auths) != 0 || after.PsFormat == "" {
		t.Errorf("config.json after logout --all: %s", data)
	}
}

func readAuths(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Auths map[string]struct{ Auth string }
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	out := map[string]string{}
	for k, v := range file.Auths {
		out[k] = v.Auth
	}
	return out
}
