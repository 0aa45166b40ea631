//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// imageInspect is the part of docker's image inspect document tests read.
type imageInspect struct {
	ID           string `json:"Id"`
	RepoTags     []string
	RepoDigests  []string
	Architecture string
	Os           string
	Size         int64
	Config       struct {
		Cmd    []string
		Env    []string
		Labels map[string]string
	}
	RootFS struct {
		Type   string
		Layers []string
	}
}

func (e *env) inspectImage(name string) imageInspect {
	e.t.Helper()
	var out []imageInspect
	if err := json.Unmarshal([]byte(e.ok("image", "inspect", name)), &out); err != nil || len(out) != 1 {
		e.t.Fatalf("image inspect %s: %v (%d objects)", name, err, len(out))
	}
	return out[0]
}

func TestPullAndList(t *testing.T) {
	e := newEnv(t)
	r := e.rrun("pull", "alpine")
	if r.code != 0 {
		t.Fatal(r)
	}
	if strings.TrimSpace(r.stdout) != "docker.io/library/alpine:latest" {
		t.Fatalf("pull printed %q, want the full name", r.stdout)
	}
	contains(t, r.stderr, "Downloaded newer image for alpine:latest")
	contains(t, e.rrun("pull", "alpine").stderr, "Image is up to date for alpine:latest")

	img := e.inspectImage("alpine")
	if !strings.HasPrefix(img.ID, "sha256:") || len(img.ID) != 71 {
		t.Errorf("Id %q is not a sha256 digest", img.ID)
	}
	if fmt.Sprint(img.RepoTags) != "[alpine:latest]" {
		t.Errorf("RepoTags %v, want [alpine:latest]", img.RepoTags)
	}
	if len(img.RepoDigests) != 1 || !strings.HasPrefix(img.RepoDigests[0], "alpine@sha256:") {
		t.Errorf("RepoDigests %v", img.RepoDigests)
	}
	if img.Architecture != "amd64" || img.Os != "linux" || img.RootFS.Type != "layers" || len(img.RootFS.Layers) != 2 {
		t.Errorf("platform %s/%s, rootfs %s with %d layers; want linux/amd64 with 2 layers", img.Os, img.Architecture, img.RootFS.Type, len(img.RootFS.Layers))
	}
	if fmt.Sprint(img.Config.Cmd) != "[/bin/sh]" || img.Config.Labels["org.rrun.test.image"] != "alpine" {
		t.Errorf("config Cmd %v Labels %v", img.Config.Cmd, img.Config.Labels)
	}
	if img.Size < 1<<20 {
		t.Errorf("size %d is less than busybox itself", img.Size)
	}

	table := lines(e.ok("images"))
	if len(table) != 2 || !strings.HasPrefix(table[0], "REPOSITORY") {
		t.Fatalf("images table:\n%s", strings.Join(table, "\n"))
	}
	fields := strings.Fields(table[1])
	if fields[0] != "alpine" || fields[1] != "latest" || fields[2] != strings.TrimPrefix(img.ID, "sha256:")[:12] {
		t.Errorf("images row %q", table[1])
	}
	if got := strings.TrimSpace(e.ok("images", "-q")); got != fields[2] {
		t.Errorf("images -q = %q, want %q", got, fields[2])
	}
	if got := strings.TrimSpace(e.ok("images", "-q", "--no-trunc")); got != img.ID {
		t.Errorf("images -q --no-trunc = %q, want %q", got, img.ID)
	}
	if got := strings.TrimSpace(e.ok("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")); got != "alpine:latest "+fields[2] {
		t.Errorf("--format template gave %q", got)
	}
	var row map[string]string
	if err := json.Unmarshal([]byte(e.ok("images", "--format", "json")), &row); err != nil || row["Repository"] != "alpine" || row["Tag"] != "latest" {
		t.Errorf("--format json gave %v (%v)", row, err)
	}
	contains(t, e.ok("images", "--digests"), "DIGEST", strings.TrimPrefix(img.RepoDigests[0], "alpine@"))
	if got := strings.TrimSpace(e.ok("image", "inspect", "--format", "{{.Id}} {{index .RepoTags 0}}", "alpine")); got != img.ID+" alpine:latest" {
		t.Errorf("inspect --format gave %q", got)
	}
	// The same image by id, id prefix and full name.
	for _, ref := range []string{img.ID, img.ID[7:19], "docker.io/library/alpine:latest"} {
		if got := e.inspectImage(ref).ID; got != img.ID {
			t.Errorf("inspect %s gave %s", ref, got)
		}
	}
}

func TestPullByTagAndDigest(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "alpine:3.20")
	img := e.inspectImage("alpine:3.20")
	digest := strings.TrimPrefix(img.RepoDigests[0], "alpine@")
	// A digest of another repository is not found there.
	contains(t, e.fails(1, "pull", "busybox@"+digest), "not found")
	// Pulling by digest stores the image under its digest, untagged.
	e.ok("pull", "alpine@"+digest)
	if got := e.inspectImage("alpine@" + digest).ID; got != img.ID {
		t.Fatalf("by digest: %s, want %s", got, img.ID)
	}
}

func TestSharedLayersAreStoredOnce(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "busybox")
	e.ok("pull", "alpine")
	busybox, alpine := e.inspectImage("busybox"), e.inspectImage("alpine")
	if busybox.RootFS.Layers[0] != alpine.RootFS.Layers[0] {
		t.Fatalf("test images should share their base layer: %v vs %v", busybox.RootFS.Layers, alpine.RootFS.Layers)
	}
	if n := e.layerCount(); n != 2 {
		t.Fatalf("store holds %d layers for busybox (1) + alpine (1 shared + 1), want 2", n)
	}
}

// layerCount counts the layers containers/storage records.
func (e *env) layerCount() int {
	e.t.Helper()
	matches, _ := filepath.Glob(filepath.Join(e.root, "*-layers", "layers.json"))
	if len(matches) != 1 {
		e.t.Fatalf("want one layers.json in %s, found %v", e.root, matches)
	}
	data, err := os.ReadFile(matches[0])
	if err != nil {
		e.t.Fatal(err)
	}
	var layers []json.RawMessage
	if err := json.Unmarshal(data, &layers); err != nil {
		e.t.Fatal(err)
	}
	return len(layers)
}

// Files keep their owners, modes, links, xattrs and whiteouts: inside the
// namespace as in the image, and on the host as the user's subordinate ids.
func TestImageFilesKeepOwnershipAndMetadata(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "rrun-test/owners")
	dir := strings.TrimSpace(e.ok("image", "mount", "rrun-test/owners"))
	defer e.ok("image", "unmount", "rrun-test/owners")
	stat := func(path string) string {
		return strings.TrimSpace(e.ok("unshare", "stat", "-c", "%u:%g %a %F", filepath.Join(dir, path)))
	}
	for path, want := range map[string]string{
		"data/root-file":       "0:0 644 regular file",
		"data/user-file":       "1000:1000 640 regular file",
		"data/nobody-file":     "65534:65534 600 regular file",
		"data/dir-1000":        "1000:1000 750 directory",
		"usr/bin/suid-busybox": "0:0 4755 regular file",
		"usr/bin/sgid-file":    "0:1000 2755 regular file",
		"data/link":            "0:0 777 symbolic link",
	} {
		if got := stat(path); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
	if got := e.ok("unshare", "readlink", filepath.Join(dir, "data/abs-link")); strings.TrimSpace(got) != "/etc/passwd" {
		t.Errorf("abs-link -> %q", got)
	}
	inodes := lines(e.ok("unshare", "stat", "-c", "%i %h", filepath.Join(dir, "data/root-file"), filepath.Join(dir, "data/hardlink")))
	if len(inodes) != 2 || inodes[0] != inodes[1] || !strings.HasSuffix(inodes[0], " 2") {
		t.Errorf("hard link not kept: %v", inodes)
	}
	contains(t, e.ok("unshare", "getfattr", "-n", "user.rrun", filepath.Join(dir, "data/xattr-file")), `user.rrun="test"`)
	// The later layer's whiteout and opaque directory took effect.
	if r := e.rrun("unshare", "test", "-e", filepath.Join(dir, "data/to-delete")); r.code == 0 {
		t.Error("data/to-delete survived its whiteout")
	}
	if got := strings.Fields(e.ok("unshare", "ls", "-A", filepath.Join(dir, "data/opaque-dir"))); fmt.Sprint(got) != "[c]" {
		t.Errorf("opaque dir holds %v, want [c]", got)
	}
	// Seen from the host, container uid 1000 is subordinate uid start+999.
	uidStart, _ := subIDStart(t, "/etc/subuid")
	gidStart, _ := subIDStart(t, "/etc/subgid")
	hostPath := e.findInLayers(t, "data/user-file")
	var st syscall.Stat_t
	if err := syscall.Stat(hostPath, &st); err != nil {
		t.Fatal(err)
	}
	if int(st.Uid) != uidStart+999 || int(st.Gid) != gidStart+999 {
		t.Errorf("on the host %s is owned by %d:%d, want %d:%d", hostPath, st.Uid, st.Gid, uidStart+999, gidStart+999)
	}
	rootFile := e.findInLayers(t, "data/root-file")
	if err := syscall.Stat(rootFile, &st); err != nil {
		t.Fatal(err)
	}
	if int(st.Uid) != tuser.uid {
		t.Errorf("container root's file is owned by %d on the host, want the user %d", st.Uid, tuser.uid)
	}
}

// findInLayers finds a file of the image in the store's layer directories
// (overlay/<id>/diff or vfs/dir/<id>) as the host sees it.
func (e *env) findInLayers(t *testing.T, rel string) string {
	t.Helper()
	for _, pattern := range []string{"overlay/*/diff/", "vfs/dir/*/"} {
		matches, _ := filepath.Glob(filepath.Join(e.root, pattern+rel))
		if len(matches) > 0 {
			return matches[0]
		}
	}
	t.Fatalf("%s not found in the layers under %s", rel, e.root)
	return ""
}

func TestMultiPlatformPull(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "rrun-test/multiarch")
	if got := e.inspectImage("rrun-test/multiarch").Architecture; got != "amd64" {
		t.Fatalf("default platform pulled %s, want amd64 (this host)", got)
	}
	e.ok("pull", "--platform", "linux/arm64", "rrun-test/multiarch")
	if got := e.inspectImage("rrun-test/multiarch").Architecture; got != "arm64" {
		t.Fatalf("--platform linux/arm64 pulled %s", got)
	}
	contains(t, e.fails(1, "pull", "--platform", "linux/s390x", "rrun-test/multiarch"), "s390x")
	contains(t, e.fails(1, "pull", "--platform", "/", "alpine"), "invalid platform")
}

func TestTagAndRemove(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "alpine")
	id := e.inspectImage("alpine").ID
	e.ok("tag", "alpine", "myalpine:v1")
	e.ok("image", "tag", "alpine", "registry.example:5000/team/app")
	if got := e.inspectImage("myalpine:v1").ID; got != id {
		t.Fatalf("tag points at %s, want %s", got, id)
	}
	tags := e.inspectImage(id).RepoTags
	if fmt.Sprint(tags) != "[alpine:latest myalpine:v1 registry.example:5000/team/app:latest]" {
		t.Errorf("RepoTags %v", tags)
	}
	contains(t, e.ok("images", "--format", "{{.Repository}}:{{.Tag}}"), "myalpine:v1", "registry.example:5000/team/app:latest")

	// Removing one of several names only untags.
	if out := e.ok("rmi", "myalpine:v1"); strings.TrimSpace(out) != "Untagged: myalpine:v1" {
		t.Errorf("rmi of a second name printed %q", out)
	}
	// By id, an image with several names needs -f.
	contains(t, e.fails(1, "rmi", id), "must be forced", "referenced in multiple repositories")
	contains(t, e.fails(1, "tag", "alpine", "Bad_Name"), "invalid reference format")
	contains(t, e.fails(1, "tag", "nosuchimage", "x"), "No such image: nosuchimage:latest")

	out := e.ok("rmi", "-f", id)
	contains(t, out, "Untagged: alpine:latest", "Untagged: registry.example:5000/team/app:latest", "Deleted: "+id)
	if got := e.ok("images", "-q"); got != "" {
		t.Errorf("images left after rmi -f: %q", got)
	}
	if n := e.layerCount(); n != 0 {
		t.Errorf("%d layers left after the last image was removed", n)
	}
	// rmi reports each failure and goes on with the rest.
	e.ok("pull", "busybox")
	r := e.rrun("rmi", "nosuch", "busybox")
	if r.code != 1 {
		t.Fatalf("rmi with one unknown name: %s", r)
	}
	contains(t, r.stderr, "No such image: nosuch:latest")
	contains(t, r.stdout, "Untagged: busybox:latest")
}

func TestImageFilters(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "alpine")
	e.ok("pull", "busybox")
	e.ok("pull", "rrun-test/owners")
	repos := func(args ...string) string {
		return strings.Join(lines(e.ok(append([]string{"images", "--format", "{{.Repository}}"}, args...)...)), ",")
	}
	if got := repos("--filter", "label=org.rrun.test.image=alpine"); got != "alpine" {
		t.Errorf("label filter: %q", got)
	}
	if got := repos("--filter", "reference=alp*"); got != "alpine" {
		t.Errorf("reference filter: %q", got)
	}
	if got := repos("rrun-test/*"); got != "rrun-test/owners" {
		t.Errorf("repository argument: %q", got)
	}
	if got := repos("--filter", "dangling=true"); got != "" {
		t.Errorf("dangling=true: %q", got)
	}
	if n := len(lines(e.ok("images", "-q", "--filter", "dangling=false"))); n != 3 {
		t.Errorf("dangling=false listed %d images, want 3", n)
	}
	contains(t, e.fails(1, "images", "--filter", "color=red"), "invalid filter 'color'")
	contains(t, e.fails(1, "images", "--filter", "nonsense"), "bad format of filter")
}

func TestPullErrorsAreClearAndChangeNothing(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "busybox")
	before := e.ok("images", "-q")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown tag", []string{"pull", "alpine:no-such-tag"}, []string{"manifest for alpine:no-such-tag not found"}},
		{"unknown repository", []string{"pull", "no-such-image"}, []string{"no-such-image"}},
		{"malformed reference", []string{"pull", "UPPER/case"}, []string{"invalid reference format"}},
		{"scheme in name", []string{"pull", "docker://alpine"}, []string{"invalid reference format"}},
		{"registry down", []string{"pull", "127.0.0.1:1/nothing"}, []string{"127.0.0.1:1", "connection refused"}},
		{"unknown local image", []string{"image", "inspect", "no-such-image"}, []string{"No such image: no-such-image:latest"}},
		{"rmi unknown", []string{"rmi", "no-such-image:v2"}, []string{"No such image: no-such-image:v2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.rrun(tt.args...)
			if r.code == 0 {
				t.Fatalf("succeeded: %s", r)
			}
			contains(t, r.stderr, tt.want...)
		})
	}
	if after := e.ok("images", "-q"); after != before {
		t.Fatalf("failed commands changed the image list: %q -> %q", before, after)
	}
}

// A malicious layer cannot write outside the image's root filesystem.
func TestMaliciousLayerStaysInside(t *testing.T) {
	e := newEnv(t)
	outside := []string{
		"/tmp/escaped-file", "/abs-escape", "/escape-dotdot",
		filepath.Join(filepath.Dir(e.root), "escape-dotdot"),
		filepath.Join(e.root, "escape-dotdot"),
		filepath.Join(tuser.home, "escape-dotdot"),
	}
	for _, p := range outside {
		os.Remove(p)
	}
	r := e.rrun("pull", "rrun-test/evil")
	for _, p := range outside {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("the evil layer wrote %s outside its root filesystem", p)
		}
	}
	if r.code != 0 {
		contains(t, r.stderr, "evil") // refused, and said which image
		return
	}
	// Accepted: then every entry landed inside the image.
	dir := strings.TrimSpace(e.ok("image", "mount", "rrun-test/evil"))
	defer e.ok("image", "unmount", "rrun-test/evil")
	e.ok("unshare", "test", "-e", filepath.Join(dir, "escape-dotdot"))
	e.ok("unshare", "test", "-e", filepath.Join(dir, "tmp/escaped-file"))
}

func TestConcurrentPullsOfOneImage(t *testing.T) {
	e := newEnv(t)
	const n = 3
	results := make(chan result, n)
	for i := 0; i < n; i++ {
		go func() { results <- e.rrun("pull", "-q", "rrun-test/big") }()
	}
	for i := 0; i < n; i++ {
		if r := <-results; r.code != 0 {
			t.Errorf("concurrent pull failed: %s", r)
		}
	}
	if ids := lines(e.ok("images", "-q")); len(ids) != 1 {
		t.Fatalf("concurrent pulls stored %d images, want 1", len(ids))
	}
	if got := e.layerCount(); got != 6 {
		t.Fatalf("concurrent pulls stored %d layers, want the image's 6", got)
	}
}

// A pull killed midway leaves no half image, and the next pull succeeds.
func TestKilledPullRecovers(t *testing.T) {
	e := newEnv(t)
	e.ok("unshare", "true") // the namespace exists, so the kill lands in the pull
	killedMidway := false
	for _, delay := range []time.Duration{150 * time.Millisecond, 80 * time.Millisecond, 30 * time.Millisecond} {
		cmd := e.command(t.Context(), "pull", "-q", "rrun-test/big")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if err != nil { // killed before it finished
			killedMidway = true
			break
		}
		e.ok("rmi", "rrun-test/big") // finished too soon: try again, quicker
	}
	if !killedMidway {
		t.Fatal("every pull finished before the kill; cannot test an interrupted pull")
	}
	if got := e.ok("images", "-q"); got != "" {
		t.Fatalf("a half-pulled image is listed: %q", got)
	}
	e.ok("pull", "-q", "rrun-test/big")
	img := e.inspectImage("rrun-test/big")
	if len(img.RootFS.Layers) != 6 {
		t.Fatalf("after recovery the image has %d layers", len(img.RootFS.Layers))
	}
	// The content is whole: the last layer's file has its full size.
	dir := strings.TrimSpace(e.ok("image", "mount", "rrun-test/big"))
	defer e.ok("image", "unmount", "rrun-test/big")
	sizes := e.ok("unshare", "sh", "-c", "wc -c < "+filepath.Join(dir, "big/layer5.bin"))
	if strings.TrimSpace(sizes) == "0" {
		t.Fatal("big/layer5.bin is empty after the recovered pull")
	}
}

func TestInfo(t *testing.T) {
	e := newEnv(t)
	var info struct {
		Host struct {
			Rootless bool
			HostUID  int `json:"hostUID"`
			UIDMap   []struct {
				ContainerID, HostID, Size int
			} `json:"uidMap"`
			Cgroups struct{ Version string }
		}
		Store struct {
			Driver    string
			GraphRoot string `json:"graphRoot"`
		}
	}
	if err := json.Unmarshal([]byte(e.ok("info", "--format", "json")), &info); err != nil {
		t.Fatal(err)
	}
	if !info.Host.Rootless || info.Host.HostUID != tuser.uid || len(info.Host.UIDMap) != 2 || info.Host.UIDMap[1].ContainerID != 1 {
		t.Errorf("host: %+v", info.Host)
	}
	if info.Store.GraphRoot != e.root {
		t.Errorf("graph root %q, want %q", info.Store.GraphRoot, e.root)
	}
	if driver != "" && info.Store.Driver != driver {
		t.Errorf("driver %q, want %q", info.Store.Driver, driver)
	}
	if got := strings.TrimSpace(e.ok("info", "--format", "{{.store.driver}}")); got != info.Store.Driver {
		t.Errorf("info --format template gave %q", got)
	}
	text := e.ok("info")
	contains(t, text, "Rootless: true", "Driver: "+info.Store.Driver, "Cgroup Version: "+info.Host.Cgroups.Version)
	// hack/setup.sh opened /dev/net/tun and ping sockets on this host.
	contains(t, text, "TAP (/dev/net/tun): ok\n", "Ping from containers: ok\n")
}

// The driver a store was made with is kept; another one is refused.
func TestStorageDriverIsRemembered(t *testing.T) {
	e := newEnv(t)
	e.ok("pull", "busybox")
	var used string
	if err := json.Unmarshal([]byte(e.ok("info", "--format", "{{json .store.driver}}")), &used); err != nil {
		t.Fatal(err)
	}
	other := "vfs"
	if used == "vfs" {
		other = "overlay"
	}
	global := []string{"--root", e.root, "--runroot", e.runroot, "--storage-driver", other}
	cmd := e.command(t.Context())
	cmd.Args = append([]string{binary}, append(global, "images")...)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("opening a %s store with %s succeeded:\n%s", used, other, out)
	}
	contains(t, string(out), "created with the "+used+" driver")
	if got := lines(e.ok("images", "-q")); len(got) != 1 {
		t.Fatalf("the store lost its image after the refused open: %v", got)
	}
}
