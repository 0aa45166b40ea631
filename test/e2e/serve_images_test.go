//go:build e2e

package e2e

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rootfsTar is a one-file root filesystem for import.
func rootfsTar(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := []byte("imported\n")
	if err := tw.WriteHeader(&tar.Header{Name: "hello.txt", Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write(body)
	tw.Close()
	return buf.Bytes()
}

// The docker CLI's image commands against rrun serve.
func TestServeImagesDockerCLI(t *testing.T) {
	e := newEnv(t)
	sock := e.serve()
	dockerOK := func(args ...string) result {
		t.Helper()
		r := e.docker(sock, args...)
		if r.code != 0 {
			t.Fatalf("docker %s: %s", strings.Join(args, " "), r)
		}
		return r
	}

	r := dockerOK("pull", "busybox")
	contains(t, r.stdout, "latest: Pulling from library/busybox", "Pull complete", "Digest: sha256:", "Status: Downloaded newer image for busybox:latest", "docker.io/library/busybox:latest")
	contains(t, dockerOK("pull", "busybox").stdout, "Status: Image is up to date for busybox:latest")
	contains(t, dockerOK("images", "--format", "{{.Repository}}:{{.Tag}}").stdout, "busybox:latest")
	id := strings.TrimSpace(dockerOK("image", "inspect", "--format", "{{.Id}}", "busybox").stdout)

	dockerOK("tag", "busybox", "mine:1")
	contains(t, dockerOK("images", "--format", "{{.Repository}}:{{.Tag}}").stdout, "mine:1")
	contains(t, dockerOK("rmi", "mine:1").stdout, "Untagged: mine:1")
	if r := e.docker(sock, "rmi", "mine:1"); r.code == 0 || !strings.Contains(r.stderr, "No such image: mine:1") {
		t.Errorf("rmi of a removed tag: %s", r)
	}

	hist := lines(dockerOK("history", "--no-trunc", "--format", "{{.ID}}|{{.Size}}", "busybox").stdout)
	if len(hist) == 0 || !strings.HasPrefix(hist[0], id+"|") {
		t.Errorf("history: %v (image %s)", hist, id)
	}

	// save, rmi, load: the same image back.
	dockerOK("save", "busybox", "-o", "f.tar")
	contains(t, dockerOK("rmi", "busybox").stdout, "Untagged: busybox:latest", "Deleted: "+id)
	contains(t, dockerOK("load", "-i", "f.tar").stdout, "Loaded image: busybox:latest")
	if got := strings.TrimSpace(dockerOK("image", "inspect", "--format", "{{.Id}}", "busybox").stdout); got != id {
		t.Errorf("loaded image %s, saved %s", got, id)
	}
	// A save to stdout is a tar.
	out := dockerOK("save", "busybox").stdout
	if len(out) < 1024 || !strings.Contains(out, "manifest.json") {
		t.Errorf("docker save to stdout: %d bytes", len(out))
	}

	// import (untagged: dangling), then prune removes it and only it.
	e.writeUserFile("rootfs.tar", rootfsTar(t))
	imported := strings.TrimSpace(dockerOK("import", "rootfs.tar").stdout)
	if !strings.HasPrefix(imported, "sha256:") {
		t.Fatalf("docker import printed %q", imported)
	}
	contains(t, dockerOK("image", "prune", "-f").stdout, "Deleted Images:", "deleted: "+imported, "Total reclaimed space:")
	contains(t, dockerOK("images", "--format", "{{.Repository}}").stdout, "busybox")

	// An image no registry has.
	r = e.docker(sock, "pull", "nosuch/image")
	if r.code == 0 || !strings.Contains(r.stderr, "Error response from daemon:") || !strings.Contains(r.stderr, "nosuch/image") {
		t.Errorf("pull nosuch/image: %s", r)
	}

	// login checks the credentials with the registry; push streams.
	contains(t, dockerOK("login", "-u", "e2e", "-p", "s3cret", "127.0.0.1:5000").stdout, "Login Succeeded")
	repo := "127.0.0.1:5000/e2e/x" + strconv.FormatInt(time.Now().UnixNano(), 36)
	dockerOK("tag", "busybox", repo+":1")
	r = dockerOK("push", repo+":1")
	contains(t, r.stdout, "The push refers to repository ["+repo+"]", "1: digest: sha256:", " size: ")
	if !strings.Contains(r.stdout, "Pushed") && !strings.Contains(r.stdout, "Layer already exists") {
		t.Errorf("push shows no layer: %s", r.stdout)
	}
	if r := e.docker(sock, "push", "127.0.0.1:5000/e2e/never-tagged"); r.code == 0 || !strings.Contains(r.stdout+r.stderr, "An image does not exist locally with the tag") {
		t.Errorf("push of a missing tag: %s", r)
	}
	// And it comes back from the registry, its layer already here.
	dockerOK("rmi", repo+":1")
	contains(t, dockerOK("pull", repo+":1").stdout, "1: Pulling from e2e/x", ": Already exists", "Status: Downloaded newer image for "+repo+":1")

	// commit through the API.
	e.ok("create", "--name", "c1", "busybox", "true")
	cid := strings.TrimSpace(dockerOK("commit", "-m", "via api", "c1", "committed:1").stdout)
	if !strings.HasPrefix(cid, "sha256:") {
		t.Errorf("docker commit printed %q", cid)
	}
	contains(t, dockerOK("image", "inspect", "--format", "{{.Comment}}", "committed:1").stdout, "via api")

	if r := e.docker(sock, "search", "alpine"); r.code == 0 || !strings.Contains(r.stderr, "not supported") {
		t.Errorf("search: %s", r)
	}
}

// The image endpoints over plain HTTP: the pull stream line by line,
// dockerd's statuses.
func TestServeImagesHTTP(t *testing.T) {
	e := newEnv(t)
	sock := e.serve()
	c := apiClient(sock)
	c.Timeout = 2 * time.Minute
	do := func(method, path string, body io.Reader, header map[string]string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://rrun"+path, body)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data), resp.Header
	}

	// The pull stream: every line JSON, docker's statuses in order.
	status, body, h := do("POST", "/v1.41/images/create?fromImage=alpine&tag=latest", nil, map[string]string{"X-Registry-Auth": "e30="})
	if status != 200 || h.Get("Content-Type") != "application/json" {
		t.Fatalf("pull: %d %s %s", status, h.Get("Content-Type"), body)
	}
	var statuses []string
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		var m struct {
			Status, ID, Error string
			ProgressDetail    *struct{ Current, Total int64 } `json:"progressDetail"`
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("pull stream line %q: %v", sc.Text(), err)
		}
		if m.Error != "" {
			t.Fatalf("pull stream error: %s", m.Error)
		}
		statuses = append(statuses, m.Status)
	}
	if len(statuses) < 4 || statuses[0] != "Pulling from library/alpine" || !strings.HasPrefix(statuses[len(statuses)-2], "Digest: sha256:") ||
		statuses[len(statuses)-1] != "Status: Downloaded newer image for alpine:latest" {
		t.Errorf("pull statuses: %q", statuses)
	}
	for _, want := range []string{"Pulling fs layer", "Download complete", "Pull complete"} {
		if !strings.Contains(body, `"status":"`+want+`"`) {
			t.Errorf("pull stream has no %q:\n%s", want, body)
		}
	}
	// Then the container can be made.
	status, body, _ = do("POST", "/v1.41/images/create?fromImage=nosuch&tag=latest", nil, map[string]string{"X-Registry-Auth": "e30="})
	if status != 404 || !strings.Contains(body, `"message":`) || !strings.Contains(body, "nosuch") {
		t.Errorf("pull nosuch: %d %s", status, body)
	}

	// Import from a URL (served here) and from the body.
	tarball := rootfsTar(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(tarball) }))
	defer srv.Close()
	status, body, _ = do("POST", "/images/create?fromSrc="+srv.URL+"/c.tar&repo=fromurl&tag=v1", nil, nil)
	if status != 200 || !strings.Contains(body, `"status":"sha256:`) {
		t.Errorf("import from URL: %d %s", status, body)
	}
	status, body, _ = do("POST", "/images/create?fromSrc=-&repo=frombody&tag=v1", bytes.NewReader(tarball), nil)
	if status != 200 || !strings.Contains(body, `"status":"sha256:`) {
		t.Errorf("import from body: %d %s", status, body)
	}
	status, body, _ = do("GET", "/images/frombody:v1/json", nil, nil)
	if status != 200 || !strings.Contains(body, `"RepoTags":["frombody:v1"]`) {
		t.Errorf("imported image: %d %s", status, body)
	}

	// Tag, history, 404s and 409s.
	if status, body, _ = do("POST", "/images/alpine/tag?repo=127.0.0.1:5000/e2e/tagged&tag=2", nil, nil); status != 201 {
		t.Errorf("tag: %d %s", status, body)
	}
	if status, body, _ = do("GET", "/images/127.0.0.1:5000/e2e/tagged:2/history", nil, nil); status != 200 || !strings.Contains(body, `"Tags":["127.0.0.1:5000/e2e/tagged:2","alpine:latest"]`) {
		t.Errorf("history by a name with slashes: %d %s", status, body)
	}
	if status, body, _ = do("DELETE", "/images/127.0.0.1:5000/e2e/tagged:2", nil, nil); status != 200 || body != `[{"Untagged":"127.0.0.1:5000/e2e/tagged:2"}]`+"\n" {
		t.Errorf("untag: %d %s", status, body)
	}
	for _, p := range []string{"GET /images/nosuch/json", "DELETE /images/nosuch", "GET /images/nosuch/history", "POST /images/nosuch/tag?repo=x", "GET /images/nosuch/get"} {
		method, path, _ := strings.Cut(p, " ")
		if status, body, _ := do(method, path, nil, nil); status != 404 || body != `{"message":"No such image: nosuch:latest"}`+"\n" {
			t.Errorf("%s: %d %s", p, status, body)
		}
	}
	e.ok("create", "--name", "user", "alpine", "true")
	status, body, _ = do("DELETE", "/images/alpine", nil, nil)
	if status != 409 || !strings.Contains(body, "conflict: unable to remove repository reference") || !strings.Contains(body, "is using its referenced image") {
		t.Errorf("delete of a used image: %d %s", status, body)
	}
	// Save two images in one archive, load it back.
	status, body, h = do("GET", "/images/get?names=alpine&names=frombody:v1", nil, nil)
	if status != 200 || h.Get("Content-Type") != "application/x-tar" || !strings.Contains(body, "manifest.json") {
		t.Fatalf("images/get: %d %s %d bytes", status, h.Get("Content-Type"), len(body))
	}
	do("DELETE", "/images/frombody:v1", nil, nil)
	status, loaded, h := do("POST", "/images/load?quiet=1", strings.NewReader(body), nil)
	if status != 200 || h.Get("Content-Type") != "application/json" || !strings.Contains(loaded, `{"stream":"Loaded image: frombody:v1\n"}`) {
		t.Errorf("load: %d %s", status, loaded)
	}
	if status, body, _ = do("POST", "/images/load", strings.NewReader("not a tar"), nil); status != 400 {
		t.Errorf("load of garbage: %d %s", status, body)
	}
	// Prune: a report even with nothing to do.
	if status, body, _ = do("POST", "/images/prune?filters="+`{"dangling":["true"]}`, nil, nil); status != 200 || !strings.Contains(body, `"SpaceReclaimed":`) {
		t.Errorf("prune: %d %s", status, body)
	}
	if status, body, _ = do("GET", "/images/search?term=alpine", nil, nil); status != 501 {
		t.Errorf("search: %d %s", status, body)
	}
	// Credentials: checked with the registry, bad headers refused.
	if status, body, _ = do("POST", "/auth", strings.NewReader(`{"username":"e2e","password":"x","serveraddress":"127.0.0.1:5000"}`), nil); status != 200 || body != `{"Status":"Login Succeeded"}`+"\n" {
		t.Errorf("auth: %d %s", status, body)
	}
	if status, body, _ = do("POST", "/auth", strings.NewReader(`{"username":"e2e","password":"x","serveraddress":"127.0.0.1:1"}`), nil); status < 400 {
		t.Errorf("auth against a closed port: %d %s", status, body)
	}
	if status, body, _ = do("POST", "/images/create?fromImage=alpine", nil, map[string]string{"X-Registry-Auth": "!!"}); status != 400 {
		t.Errorf("bad X-Registry-Auth: %d %s", status, body)
	}
}
