//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// volumeInspect is docker's volume inspect document.
type volumeInspect struct {
	CreatedAt  string
	Driver     string
	Labels     map[string]string
	Mountpoint string
	Name       string
	Options    map[string]string
	Scope      string
}

const anonymousLabel = "com.docker.volume.anonymous"

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (e *env) inspectVolume(name string) volumeInspect {
	e.t.Helper()
	var out []volumeInspect
	if err := json.Unmarshal([]byte(e.ok("volume", "inspect", name)), &out); err != nil || len(out) != 1 {
		e.t.Fatalf("volume inspect %s: %v", name, err)
	}
	return out[0]
}

// volumes lists the volume names, filtered.
func (e *env) volumes(filters ...string) []string {
	e.t.Helper()
	args := []string{"volume", "ls", "-q"}
	for _, f := range filters {
		args = append(args, "--filter", f)
	}
	return lines(e.ok(args...))
}

func TestVolumeCreateListInspectRemove(t *testing.T) {
	e := newEnv(t)
	contains(t, e.fails(1, "volume", "create", "a/b"), `"a/b" includes invalid characters for a local volume name`)
	contains(t, e.fails(1, "volume", "create", "--opt", "type=nfs", "--opt", "device=:/export", "nfs"),
		"rrun's local driver supports type=tmpfs and bind (o=bind,device=…)")
	contains(t, e.fails(1, "volume", "create", "--opt", "type=tmpfs", "bad"), `missing required option: "device"`)
	contains(t, e.fails(1, "volume", "create", "--driver", "convoy", "bad"), `volume driver "convoy" is not supported`)
	if got := e.volumes(); len(got) != 0 {
		t.Fatalf("refused creates left volumes: %q", got)
	}

	if out := e.ok("volume", "create", "--label", "app=web", "--label", "tier", "web-data"); out != "web-data\n" {
		t.Fatalf("create printed %q", out)
	}
	e.ok("volume", "create", "--label", "app=db", "db-data")
	anon := strings.TrimSpace(e.ok("volume", "create"))
	if !hex64.MatchString(anon) {
		t.Fatalf("create without a name printed %q, want a 64-hex name", anon)
	}
	created := e.inspectVolume("web-data").CreatedAt
	e.ok("volume", "create", "web-data") // docker's create is idempotent

	info := e.inspectVolume("web-data")
	want := volumeInspect{
		CreatedAt: created, Driver: "local", Labels: map[string]string{"app": "web", "tier": ""},
		Mountpoint: filepath.Join(e.root, "volumes", "web-data", "_data"), Name: "web-data",
		Options: map[string]string{}, Scope: "local",
	}
	if !reflect.DeepEqual(info, want) {
		t.Fatalf("inspect:\n%+v\nwant\n%+v", info, want)
	}
	if got := e.inspectVolume(anon).Labels; !reflect.DeepEqual(got, map[string]string{anonymousLabel: ""}) {
		t.Errorf("unnamed volume's labels %v: docker marks it anonymous", got)
	}
	if got := e.ok("volume", "inspect", "--format", "{{.Name}} {{.Driver}} {{.Scope}}", "web-data", "db-data"); got != "web-data local local\ndb-data local local\n" {
		t.Errorf("inspect --format: %q", got)
	}
	contains(t, e.fails(1, "volume", "inspect", "web-data", "nope"), "No such volume: nope")

	ls := lines(e.ok("volume", "ls"))
	wantRows := []string{"local " + anon, "local db-data", "local web-data"}
	sort.Strings(wantRows) // listed by name; the anonymous one's is random
	if len(ls) != 4 || strings.Join(strings.Fields(ls[0]), " ") != "DRIVER VOLUME NAME" {
		t.Fatalf("volume ls:\n%s", strings.Join(ls, "\n"))
	}
	for i, want := range wantRows {
		if got := strings.Join(strings.Fields(ls[i+1]), " "); got != want {
			t.Fatalf("volume ls row %d is %q, want %q:\n%s", i+1, got, want, strings.Join(ls, "\n"))
		}
	}
	for _, tc := range []struct {
		filters []string
		want    []string
	}{
		{[]string{"label=app=web"}, []string{"web-data"}},
		{[]string{"label=app"}, []string{"db-data", "web-data"}},
		{[]string{"label=" + anonymousLabel}, []string{anon}},
		{[]string{"name=data"}, []string{"db-data", "web-data"}},
		{[]string{"name=^web", "driver=local"}, []string{"web-data"}},
		{[]string{"dangling=true"}, []string{anon, "db-data", "web-data"}},
		{[]string{"dangling=false"}, nil},
	} {
		sort.Strings(tc.want) // ls sorts by name, and the anonymous name is random
		if got := e.volumes(tc.filters...); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("volume ls %v: %q, want %q", tc.filters, got, tc.want)
		}
	}
	contains(t, e.fails(1, "volume", "ls", "--filter", "colour=red"), "invalid filter 'colour'")
	if got := e.ok("volume", "ls", "--filter", "label=app", "--format", `{{.Name}}={{.Label "app"}} {{.Labels}}`); got != "db-data=db app=db\nweb-data=web app=web,tier=\n" {
		t.Errorf("ls --format: %q", got)
	}
	var row map[string]string
	if err := json.Unmarshal([]byte(lines(e.ok("volume", "ls", "--format", "json", "--filter", "name=db-"))[0]), &row); err != nil ||
		row["Name"] != "db-data" || row["Driver"] != "local" || row["Mountpoint"] != filepath.Join(e.root, "volumes", "db-data", "_data") {
		t.Errorf("ls --format json: %v %v", row, err)
	}

	if out := e.ok("volume", "rm", "web-data", "db-data"); out != "web-data\ndb-data\n" {
		t.Errorf("rm printed %q", out)
	}
	contains(t, e.fails(1, "volume", "rm", "nope"), "Error response from daemon: get nope: no such volume")
	e.ok("volume", "rm", "-f", "nope")
	if got := e.volumes(); !reflect.DeepEqual(got, []string{anon}) {
		t.Fatalf("after rm: %q", got)
	}
}

func TestVolumeDataPersistsAcrossContainers(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "--rm", "-v", "shared:/data", "alpine", "sh", "-c", "echo hello > /data/greeting; chown 1000:1000 /data/greeting")
	// Created on first use, as a named (not anonymous) volume that --rm keeps.
	if info := e.inspectVolume("shared"); len(info.Labels) != 0 {
		t.Fatalf("implicitly created volume: %+v", info)
	}
	if out := e.ok("run", "--rm", "-v", "shared:/data:ro", "alpine", "sh", "-c", "cat /data/greeting; stat -c %u:%g /data/greeting; touch /data/x 2>/dev/null || echo read-only"); out != "hello\n1000:1000\nread-only\n" {
		t.Fatalf("second container saw %q", out)
	}
	if out := e.ok("run", "--rm", "--mount", "type=volume,src=shared,dst=/mnt", "alpine", "cat", "/mnt/greeting"); out != "hello\n" {
		t.Fatalf("--mount saw %q", out)
	}
	// --mount's volume options apply to a volume it creates.
	e.ok("run", "--rm", "--mount", "type=volume,src=labelled,dst=/x,volume-label=made=by-mount", "alpine", "true")
	if info := e.inspectVolume("labelled"); info.Labels["made"] != "by-mount" {
		t.Fatalf("--mount volume-label: %+v", info)
	}
}

func TestVolumeInUse(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(e.ok("create", "--name", "user", "-v", "busy:/data", "alpine", "true"))
	// docker creates a container's volumes when it creates the container.
	e.inspectVolume("busy")
	contains(t, e.fails(1, "volume", "rm", "busy"), "Error response from daemon: remove busy: volume is in use - ["+id+"]")
	contains(t, e.fails(1, "volume", "rm", "-f", "busy"), "volume is in use")
	if got := e.volumes("dangling=false"); !reflect.DeepEqual(got, []string{"busy"}) {
		t.Fatalf("dangling=false: %q", got)
	}
	e.ok("volume", "prune", "-a", "-f")
	e.inspectVolume("busy") // prune keeps what a container uses
	e.ok("rm", "user")
	if got := e.volumes("dangling=true"); !reflect.DeepEqual(got, []string{"busy"}) {
		t.Fatalf("dangling=true after rm: %q", got)
	}
	if out := e.ok("volume", "rm", "busy"); out != "busy\n" {
		t.Fatalf("rm printed %q", out)
	}
}

func TestAnonymousVolumes(t *testing.T) {
	e := newEnv(t)
	// Each run appends to the volume: a restart must find the first run's line.
	script := "echo run >> /anon/log; cat /anon/log"
	if out := e.ok("run", "--name", "keeper", "-v", "/anon", "alpine", "sh", "-c", script); out != "run\n" {
		t.Fatalf("first run: %q", out)
	}
	vols := e.volumes()
	if len(vols) != 1 || !hex64.MatchString(vols[0]) {
		t.Fatalf("volumes after run -v /anon: %q", vols)
	}
	keeperVol := vols[0]
	if info := e.inspectVolume(keeperVol); !reflect.DeepEqual(info.Labels, map[string]string{anonymousLabel: ""}) {
		t.Fatalf("anonymous volume labels: %v", info.Labels)
	}
	if out := e.ok("start", "-a", "keeper"); out != "run\nrun\n" {
		t.Fatalf("restart saw %q: the anonymous volume must be the same one", out)
	}
	if got := e.volumes(); !reflect.DeepEqual(got, vols) {
		t.Fatalf("restart made volumes: %q", got)
	}

	e.ok("volume", "create", "named-keep")
	e.ok("create", "--name", "other", "-v", "/x", "alpine", "true")
	otherVol := ""
	for _, v := range e.volumes() {
		if v != keeperVol && v != "named-keep" {
			otherVol = v
		}
	}
	if otherVol == "" {
		t.Fatal("create -v /x made no anonymous volume")
	}
	// rm -v removes the container's anonymous volumes, nothing else.
	e.ok("rm", "-v", "keeper")
	if got := e.volumes(); slices.Contains(got, keeperVol) || len(got) != 2 {
		t.Fatalf("after rm -v: %q", got)
	}
	// Without -v the anonymous volume stays, unused.
	e.ok("rm", "other")
	if got := e.volumes("dangling=true"); !slices.Contains(got, otherVol) {
		t.Fatalf("rm without -v removed the volume: %q", got)
	}

	// prune asks first; "n" keeps everything.
	r := e.rrunInput(strings.NewReader("n\n"), "volume", "prune")
	if r.code != 0 || !strings.Contains(r.stdout, "WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N]") {
		t.Fatalf("prune answered no: %s", r)
	}
	if len(e.volumes()) != 2 {
		t.Fatal("prune answered no removed volumes")
	}
	// By default only anonymous volumes go, as with docker ≥ 23.
	r = e.rrunInput(strings.NewReader("y\n"), "volume", "prune")
	if r.code != 0 {
		t.Fatalf("prune: %s", r)
	}
	contains(t, r.stdout, "Deleted Volumes:\n"+otherVol+"\n\nTotal reclaimed space:")
	if got := e.volumes(); !reflect.DeepEqual(got, []string{"named-keep"}) {
		t.Fatalf("after prune: %q, want the named volume only", got)
	}
	out := e.ok("volume", "prune", "-a", "-f")
	contains(t, out, "Deleted Volumes:\nnamed-keep\n")
	if got := e.volumes(); len(got) != 0 {
		t.Fatalf("after prune -a: %q", got)
	}

	// --rm takes the container's anonymous volumes with it.
	e.ok("run", "--rm", "-v", "/gone", "alpine", "true")
	waitFor(t, "--rm to remove the anonymous volume", func() bool { return len(e.volumes()) == 0 })
}

func TestVolumeCopiesImageContent(t *testing.T) {
	e := newEnv(t)
	// The test image has /home/app owned by 1000:1000 and /tmp with mode 1777.
	const probe = "stat -c '%n %u:%g %a' /etc /etc/passwd /home/app /tmp /root; cat /etc/alpine-release"
	image := e.ok("run", "--rm", "alpine", "sh", "-c", probe)
	contains(t, image, "/home/app 1000:1000 755", "/tmp 0:0 1777", "/root 0:0 700")
	// New named volumes get the image's content at their mount point, and
	// the directory's owner and mode.
	mounts := []string{"-v", "etc:/etc", "-v", "home:/home/app", "-v", "tmp:/tmp", "-v", "root:/root"}
	if got := e.ok(append(append([]string{"run", "--rm"}, mounts...), "alpine", "sh", "-c", probe)...); got != image {
		t.Fatalf("fresh volumes:\n%s\nimage:\n%s", got, image)
	}
	contains(t, e.ok("run", "--rm", "-v", "etc:/mnt", "alpine", "ls", "/mnt"), "passwd", "alpine-release")
	// Once the volume has content, it is not copied over again.
	e.ok("run", "--rm", "-v", "etc:/etc", "alpine", "rm", "/etc/alpine-release")
	e.ok("run", "--rm", "-v", "etc:/etc", "alpine", "sh", "-c", "test ! -e /etc/alpine-release")
	// Anonymous volumes are filled the same way; nocopy leaves a volume empty.
	if got := e.ok("run", "--rm", "-v", "/etc", "-v", "/home/app", "-v", "/tmp", "-v", "/root", "alpine", "sh", "-c", probe); got != image {
		t.Fatalf("anonymous volumes:\n%s\nimage:\n%s", got, image)
	}
	e.ok("run", "--rm", "-v", "empty:/etc:nocopy", "alpine", "sh", "-c", "test ! -e /etc/passwd")
}

func TestVolumeLocalDriverOptions(t *testing.T) {
	e := newEnv(t)
	e.ok("volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "--opt", "o=size=2m,mode=0770", "scratch")
	if got := e.inspectVolume("scratch").Options; !reflect.DeepEqual(got, map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=2m,mode=0770"}) {
		t.Fatalf("tmpfs volume options: %v", got)
	}
	out := e.ok("run", "--rm", "-v", "scratch:/s", "alpine", "sh", "-c", "grep ' /s ' /proc/mounts; stat -c %a /s")
	contains(t, out, "tmpfs /s tmpfs", "size=2048k", "mode=770", "\n770\n")
	e.ok("volume", "rm", "scratch")

	host := filepath.Join(e.work, "hostdir")
	e.mkdirAsUser(host)
	if err := os.WriteFile(filepath.Join(host, "hello"), []byte("from host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.ok("volume", "create", "--opt", "type=none", "--opt", "o=bind", "--opt", "device="+host, "hostvol")
	if out := e.ok("run", "--rm", "-v", "hostvol:/h", "alpine", "sh", "-c", "cat /h/hello; echo back > /h/back"); out != "from host\n" {
		t.Fatalf("bind volume: %q", out)
	}
	if data, err := os.ReadFile(filepath.Join(host, "back")); err != nil || string(data) != "back\n" {
		t.Fatalf("written through the bind volume: %q, %v", data, err)
	}
	e.ok("volume", "rm", "hostvol")
	if _, err := os.Stat(filepath.Join(host, "hello")); err != nil {
		t.Fatalf("removing a bind volume touched the host directory: %v", err)
	}

	e.ok("volume", "create", "--opt", "type=none", "--opt", "o=bind", "--opt", "device="+filepath.Join(host, "missing"), "gone")
	contains(t, e.fails(125, "run", "--rm", "-v", "gone:/g", "alpine", "true"), "volume gone: bind device")
}
