package engine

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/volume"

	"github.com/rrun/rrun/pkg/oci"
)

// volumeEngine is an engine with only its directories: enough for
// everything about volumes that does not look at containers.
func volumeEngine(t *testing.T) *Engine {
	t.Helper()
	dir := t.TempDir()
	e := &Engine{opts: Options{Root: filepath.Join(dir, "root"), RunRoot: filepath.Join(dir, "run")}}
	if err := os.MkdirAll(e.opts.RunRoot, 0o700); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *Engine) testEvents(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(e.opts.RunRoot, eventsFile))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		var m events.Message
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, string(m.Type)+" "+string(m.Action)+" "+m.Actor.ID)
	}
	return out
}

func TestParseLocalOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    map[string]string
		want    localMount
		wantErr string
	}{
		{name: "unknown option", opts: map[string]string{"colour": "red"}, wantErr: `invalid option: "colour"`},
		{name: "type without device", opts: map[string]string{"type": "tmpfs"}, wantErr: `missing required option: "device"`},
		{name: "o without type", opts: map[string]string{"o": "size=1m", "device": "tmpfs"}, wantErr: `missing required option: "type"`},
		{name: "nfs", opts: map[string]string{"type": "nfs", "device": ":/export", "o": "addr=10.0.0.1"}, wantErr: errLocalOptions},
		{name: "block device", opts: map[string]string{"type": "ext4", "device": "/dev/sdb1"}, wantErr: errLocalOptions},
		{name: "bind read-only", opts: map[string]string{"type": "none", "device": "/srv", "o": "bind,ro"}, wantErr: errLocalOptions},
		{name: "bind relative", opts: map[string]string{"type": "none", "device": "srv", "o": "bind"}, wantErr: "must be an absolute path"},
		{name: "size quota", opts: map[string]string{"size": "10G"}, wantErr: "XFS project quotas"},
		{name: "tmpfs bad option", opts: map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=1m,colour=red"}, wantErr: `invalid tmpfs option "colour=red"`},
		{name: "none", opts: nil, want: localMount{}},
		{name: "tmpfs", opts: map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=10m,mode=0750,noexec"},
			want: localMount{tmpfs: true, tmpfsO: "size=10m,mode=0750,noexec"}},
		{name: "tmpfs flags only", opts: map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "noexec"}, want: localMount{tmpfs: true, tmpfsO: "noexec"}},
		{name: "tmpfs defaults", opts: map[string]string{"type": "tmpfs", "device": "tmpfs"}, want: localMount{tmpfs: true}},
		{name: "bind", opts: map[string]string{"type": "none", "device": "/srv/data/", "o": "bind"}, want: localMount{bindDir: "/srv/data"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseLocalOptions(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestVolumeCreateInspectRemove(t *testing.T) {
	e := volumeEngine(t)
	for _, req := range []volume.CreateRequest{
		{Name: "a/b"},
		{Name: "x"}, // docker's rule wants two characters
		{Name: "data", Driver: "nfs-plugin"},
		{Name: "data", DriverOpts: map[string]string{"type": "nfs", "device": ":/x"}},
	} {
		if _, err := e.VolumeCreate(t.Context(), req); err == nil {
			t.Fatalf("create %+v: no error", req)
		}
	}
	if _, err := os.Stat(e.volumeDir("data")); !os.IsNotExist(err) {
		t.Fatalf("a refused create left %s behind", e.volumeDir("data"))
	}

	v, err := e.VolumeCreate(t.Context(), volume.CreateRequest{Name: "data", Labels: map[string]string{"app": "web"}})
	if err != nil {
		t.Fatal(err)
	}
	want := volume.Volume{
		CreatedAt: v.CreatedAt, Driver: "local", Labels: map[string]string{"app": "web"},
		Mountpoint: filepath.Join(e.opts.Root, "volumes", "data", "_data"), Name: "data",
		Options: map[string]string{}, Scope: "local",
	}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("created %+v\nwant %+v", v, want)
	}
	if st, err := os.Stat(v.Mountpoint); err != nil || !st.IsDir() {
		t.Fatalf("mount point: %v", err)
	}
	// docker's create is idempotent: the existing volume comes back.
	again, err := e.VolumeCreate(t.Context(), volume.CreateRequest{Name: "data"})
	if err != nil || !reflect.DeepEqual(again, v) {
		t.Fatalf("second create: %+v, %v", again, err)
	}
	if got, err := e.VolumeInspect(t.Context(), "data"); err != nil || !reflect.DeepEqual(got, v) {
		t.Fatalf("inspect: %+v, %v", got, err)
	}
	if _, err := e.VolumeInspect(t.Context(), "nope"); !errdefs.IsNotFound(err) || err.Error() != "get nope: no such volume" {
		t.Fatalf("inspect of a missing volume: %v", err)
	}

	anon, err := e.VolumeCreate(t.Context(), volume.CreateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(anon.Name) || !reflect.DeepEqual(anon.Labels, map[string]string{anonymousLabel: ""}) {
		t.Fatalf("a volume created without a name is anonymous: %+v", anon)
	}

	vs, err := e.loadVolumes()
	if err != nil || len(vs) != 2 {
		t.Fatalf("volumes: %v, %v", vs, err)
	}
	for _, v := range vs {
		if _, err := e.deleteVolume(v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.VolumeInspect(t.Context(), "data"); !errdefs.IsNotFound(err) {
		t.Fatalf("inspect after delete: %v", err)
	}
	wantEvents := []string{"volume create data", "volume create " + anon.Name}
	if anon.Name < "data" {
		wantEvents = append(wantEvents, "volume destroy "+anon.Name, "volume destroy data")
	} else {
		wantEvents = append(wantEvents, "volume destroy data", "volume destroy "+anon.Name)
	}
	if got := e.testEvents(t); !reflect.DeepEqual(got, wantEvents) {
		t.Fatalf("events %q, want %q", got, wantEvents)
	}
}

func TestVolumeWithoutRecord(t *testing.T) {
	e := volumeEngine(t)
	// An older rrun made volumes as bare directories.
	if err := os.MkdirAll(e.volumeDataPath("old"), 0o755); err != nil {
		t.Fatal(err)
	}
	v, err := e.VolumeInspect(t.Context(), "old")
	if err != nil || v.Driver != "local" || v.Name != "old" || v.CreatedAt == "" {
		t.Fatalf("inspect: %+v, %v", v, err)
	}
	// volumePath creates on first use, as docker run -v name:/dst.
	dir, err := e.volumePath("fresh")
	if err != nil || dir != e.volumeDataPath("fresh") {
		t.Fatalf("volumePath: %s, %v", dir, err)
	}
	if _, err := e.loadVolume("fresh"); err != nil {
		t.Fatalf("volumePath made no record: %v", err)
	}
}

func TestBindVolumePath(t *testing.T) {
	e := volumeEngine(t)
	host := t.TempDir()
	if _, err := e.VolumeCreate(t.Context(), volume.CreateRequest{Name: "src", DriverOpts: map[string]string{"type": "none", "o": "bind", "device": host}}); err != nil {
		t.Fatal(err)
	}
	if dir, err := e.volumePath("src"); err != nil || dir != host {
		t.Fatalf("bind volume: %s, %v; want %s", dir, err, host)
	}
	if _, err := e.VolumeCreate(t.Context(), volume.CreateRequest{Name: "gone", DriverOpts: map[string]string{"type": "none", "o": "bind", "device": filepath.Join(host, "nope")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.volumePath("gone"); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("missing bind device: %v", err)
	}
	// Removing the volume leaves the user's directory alone.
	if err := os.WriteFile(filepath.Join(host, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	v, _ := e.loadVolume("src")
	if _, err := e.deleteVolume(v); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(host, "keep")); err != nil {
		t.Fatalf("removing a bind volume touched its device: %v", err)
	}
}

func TestVolumeListFilter(t *testing.T) {
	vols := []volume.Volume{
		{Name: "web-data", Driver: "local", Labels: map[string]string{"app": "web", "tier": "front"}},
		{Name: "db-data", Driver: "local", Labels: map[string]string{"app": "db"}},
		{Name: "cache", Driver: "local", Labels: map[string]string{}},
	}
	used := map[string]bool{"db-data": true}
	tests := []struct {
		filters map[string][]string
		want    []string
		wantErr string
	}{
		{filters: map[string][]string{"colour": {"red"}}, wantErr: "invalid filter 'colour'"},
		{filters: map[string][]string{"dangling": {"maybe"}}, wantErr: "invalid filter 'dangling=maybe'"},
		{filters: map[string][]string{"name": {"("}}, wantErr: "invalid filter 'name=('"},
		{filters: nil, want: []string{"web-data", "db-data", "cache"}},
		{filters: map[string][]string{"name": {"data"}}, want: []string{"web-data", "db-data"}},
		{filters: map[string][]string{"name": {"^c", "^w"}}, want: []string{"web-data", "cache"}},
		{filters: map[string][]string{"label": {"app"}}, want: []string{"web-data", "db-data"}},
		{filters: map[string][]string{"label": {"app=web", "tier"}}, want: []string{"web-data"}},
		{filters: map[string][]string{"label!": {"app"}}, want: []string{"cache"}},
		{filters: map[string][]string{"dangling": {"true"}}, want: []string{"web-data", "cache"}},
		{filters: map[string][]string{"dangling": {"0"}}, want: []string{"db-data"}},
		{filters: map[string][]string{"driver": {"local"}, "dangling": {"false"}}, want: []string{"db-data"}},
		{filters: map[string][]string{"driver": {"other"}}, want: nil},
	}
	for _, tt := range tests {
		match, _, err := volumeListFilter(tt.filters)
		if tt.wantErr != "" {
			if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: error %v, want %q", tt.filters, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tt.filters, err)
		}
		var got []string
		for _, v := range vols {
			if match(v, used[v.Name]) {
				got = append(got, v.Name)
			}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%v: %q, want %q", tt.filters, got, tt.want)
		}
	}
}

func TestVolumePruneFilter(t *testing.T) {
	if _, _, err := volumePruneFilter(map[string][]string{"until": {"1h"}}); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("until: %v", err)
	}
	if _, _, err := volumePruneFilter(map[string][]string{"all": {"yes"}}); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("all=yes: %v", err)
	}
	all, match, err := volumePruneFilter(map[string][]string{"all": {"true"}, "label!": {"keep"}})
	if err != nil || !all {
		t.Fatalf("all=true: %v %v", all, err)
	}
	if match(map[string]string{"keep": ""}) || !match(map[string]string{"other": ""}) {
		t.Fatal("label! does not exclude")
	}
}

// containerVolumesInput mounts every kind of volume: named, anonymous by
// -v and by --mount, the image's (one covered by a bind, one by a tmpfs,
// one by nothing), and a bind.
func containerVolumesInput(host string) (*container.Config, *container.HostConfig) {
	cfg := &container.Config{Volumes: map[string]struct{}{"/var/lib/db": {}, "/covered": {}, "/tmp": {}, "/img/": {}}}
	hc := &container.HostConfig{
		Binds: []string{"data:/named:ro", "/anon1", host + ":/covered"},
		Mounts: []mount.Mount{
			{Type: mount.TypeVolume, Target: "/anon2/"},
			{Type: mount.TypeVolume, Source: "opts", Target: "/opts", VolumeOptions: &mount.VolumeOptions{
				Labels:       map[string]string{"from": "mount"},
				DriverConfig: &mount.Driver{Name: "local", Options: map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}},
			}},
		},
		Tmpfs: map[string]string{"/tmp": ""},
	}
	return cfg, hc
}

func TestCreateContainerVolumes(t *testing.T) {
	e := volumeEngine(t)
	host := t.TempDir()

	bad := &container.HostConfig{Binds: []string{"data:/x", "/y:ro"}}
	if _, _, err := e.createContainerVolumes(&container.Config{}, bad); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("read-only anonymous volume: %v", err)
	}
	if _, _, err := e.createContainerVolumes(&container.Config{}, &container.HostConfig{VolumeDriver: "convoy"}); !errdefs.IsNotImplemented(err) {
		t.Fatalf("volume driver: %v", err)
	}
	if vs, _ := e.loadVolumes(); len(vs) != 0 {
		t.Fatalf("a refused container made volumes: %v", vs)
	}

	cfg, hc := containerVolumesInput(host)
	anon, remove, err := e.createContainerVolumes(cfg, hc)
	if err != nil {
		t.Fatal(err)
	}
	targets := slices.Sorted(maps.Keys(anon))
	if want := []string{"/anon1", "/anon2", "/img", "/var/lib/db"}; !reflect.DeepEqual(targets, want) {
		t.Fatalf("anonymous volumes for %q, want %q", targets, want)
	}
	for _, name := range anon {
		v, err := e.loadVolume(name)
		if err != nil || !v.Anonymous {
			t.Fatalf("anonymous volume %s: %+v, %v", name, v, err)
		}
	}
	if v, err := e.loadVolume("data"); err != nil || v.Anonymous {
		t.Fatalf("named volume: %+v, %v", v, err)
	}
	v, err := e.VolumeInspect(t.Context(), "opts")
	if err != nil || v.Labels["from"] != "mount" || v.Options["type"] != "tmpfs" {
		t.Fatalf("--mount's volume options: %+v, %v", v, err)
	}

	// The view pkg/oci gets names every volume: the spec asks for no
	// volume rrun did not make.
	named, namedHC, err := namedVolumes(cfg, hc, func(target string) (string, error) { return anon[target], nil })
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(named.Volumes, map[string]struct{}{"/covered": {}, "/tmp": {}}) {
		t.Fatalf("image volumes left to pkg/oci: %v", named.Volumes)
	}
	if namedHC.Binds[1] != anon["/anon1"]+":/anon1" || namedHC.Mounts[0].Source != anon["/anon2"] {
		t.Fatalf("named binds %q mounts %+v", namedHC.Binds, namedHC.Mounts)
	}
	if hc.Binds[1] != "/anon1" || hc.Mounts[0].Source != "" || len(cfg.Volumes) != 4 {
		t.Fatal("namedVolumes changed the container's own configuration")
	}
	var asked []string
	_, err = oci.BuildSpecWith(oci.SpecInput{Config: named, HostConfig: namedHC, Volumes: func(name string) (string, error) {
		asked = append(asked, name)
		return host, nil
	}}, oci.WithMounts)
	if err != nil {
		t.Fatal(err)
	}
	known := []string{"data", "opts"}
	for _, n := range anon {
		known = append(known, n)
	}
	slices.Sort(asked)
	slices.Sort(known)
	if !reflect.DeepEqual(asked, known) {
		t.Fatalf("pkg/oci asked for volumes %q, want %q", asked, known)
	}

	remove()
	vs, _ := e.loadVolumes()
	var left []string
	for _, v := range vs {
		left = append(left, v.Name)
	}
	if !reflect.DeepEqual(left, []string{"data", "opts"}) {
		t.Fatalf("after remove: %q, want the named volumes only", left)
	}
}

func TestVolumeRefs(t *testing.T) {
	cs := []*Container{
		{ID: "c1", HostConfig: &container.HostConfig{Binds: []string{"data:/a", "/host:/b", "data:/c"}}},
		{ID: "c2", HostConfig: &container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: "data", Target: "/x"}, {Type: mount.TypeBind, Source: "/srv", Target: "/y"}}},
			AnonymousVolumes: map[string]string{"/z": "f00d"}},
	}
	want := map[string][]string{"data": {"c1", "c2"}, "f00d": {"c2"}}
	if got := volumeRefs(cs); !reflect.DeepEqual(got, want) {
		t.Fatalf("refs %v, want %v", got, want)
	}
}

func TestPrepareVolumesCopiesImageContent(t *testing.T) {
	e := volumeEngine(t)
	rootfs := t.TempDir()
	mkfile := func(p, content string, mode os.FileMode) {
		t.Helper()
		p = filepath.Join(rootfs, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	mkfile("etc/app/app.conf", "x=1\n", 0o640)
	mkfile("etc/app/conf.d/extra.conf", "y=2\n", 0o644)
	mkfile("srv/www/index.html", "hi", 0o644)
	if err := os.Symlink("app.conf", filepath.Join(rootfs, "etc/app/link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(rootfs, "etc/app"), 0o750); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if err := os.Lchown(filepath.Join(rootfs, "etc/app"), 1234, 5678); err != nil {
			t.Fatal(err)
		}
	}

	c := &Container{
		ID: "c1", Name: "c1",
		Config: &container.Config{Volumes: map[string]struct{}{"/etc/app": {}}},
		HostConfig: &container.HostConfig{
			Binds: []string{"www:/srv/www:nocopy", "missing:/not/in/image"},
		},
		AnonymousVolumes: map[string]string{"/etc/app": "a0b1"},
	}
	cfg, hc, err := e.prepareVolumes(c, rootfs)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Volumes) != 0 || len(hc.Mounts) != 1 || hc.Mounts[0].Source != "a0b1" || hc.Mounts[0].Target != "/etc/app" {
		t.Fatalf("spec view: volumes %v mounts %+v", cfg.Volumes, hc.Mounts)
	}
	data := e.volumeDataPath("a0b1")
	if got, err := os.ReadFile(filepath.Join(data, "conf.d/extra.conf")); err != nil || string(got) != "y=2\n" {
		t.Fatalf("copied content: %q, %v", got, err)
	}
	if st, err := os.Stat(filepath.Join(data, "app.conf")); err != nil || st.Mode().Perm() != 0o640 {
		t.Fatalf("copied file mode: %v, %v", st, err)
	}
	if l, err := os.Readlink(filepath.Join(data, "link")); err != nil || l != "app.conf" {
		t.Fatalf("copied symlink: %q, %v", l, err)
	}
	st, err := os.Stat(data)
	if err != nil || st.Mode().Perm() != 0o750 {
		t.Fatalf("the volume takes the directory's mode: %v, %v", st, err)
	}
	if uid, gid := ownerOf(st); os.Geteuid() == 0 && (uid != 1234 || gid != 5678) {
		t.Fatalf("the volume takes the directory's owner: %d:%d", uid, gid)
	}
	if entries, _ := os.ReadDir(e.volumeDataPath("www")); len(entries) != 0 {
		t.Fatal("nocopy volume was filled")
	}
	if entries, _ := os.ReadDir(e.volumeDataPath("missing")); len(entries) != 0 {
		t.Fatal("volume for a path the image lacks is not empty")
	}

	// A volume with anything in it is left as it is.
	if err := os.RemoveAll(filepath.Join(data, "conf.d")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.prepareVolumes(c, rootfs); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(data, "conf.d")); !os.IsNotExist(err) {
		t.Fatal("content was copied into a volume that was not empty")
	}
}
