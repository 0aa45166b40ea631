package oci

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestDefaultMounts(t *testing.T) {
	in := testInput(t)
	s := build(t, in)
	for _, dst := range []string{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"} {
		mustMount(t, s, dst)
	}
	if _, ok := findMount(s, "/sys/fs/cgroup"); ok {
		t.Fatal("cgroup mounted without a cgroup")
	}
	if m := mustMount(t, s, "/dev/shm"); !slices.Contains(m.Options, "size=67108864") || !hasAll(m.Options, "nosuid", "noexec", "nodev", "mode=1777") {
		t.Fatalf("/dev/shm options %v", m.Options)
	}
	if m := mustMount(t, s, "/dev"); !reflect.DeepEqual(m.Options, []string{"nosuid", "strictatime", "mode=755", "size=65536k"}) {
		t.Fatalf("/dev options %v", m.Options)
	}
	if m := mustMount(t, s, "/dev/pts"); !hasAll(m.Options, "newinstance", "ptmxmode=0666", "mode=0620") {
		t.Fatalf("/dev/pts options %v", m.Options)
	}
}

func TestSysMount(t *testing.T) {
	tests := []struct {
		name       string
		netns      string
		privileged bool
		readonly   bool
		want       specs.Mount
	}{
		{name: "host network: read-only bind", want: specs.Mount{Destination: "/sys", Type: "bind", Source: "/sys",
			Options: []string{"rbind", "nosuid", "noexec", "nodev", "rro"}}},
		{name: "host network, privileged: writable bind", privileged: true, want: specs.Mount{Destination: "/sys", Type: "bind", Source: "/sys",
			Options: []string{"rbind", "nosuid", "noexec", "nodev"}}},
		{name: "own network: sysfs", netns: NetNSNew, want: specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs",
			Options: []string{"nosuid", "noexec", "nodev", "ro"}}},
		{name: "joined network: sysfs", netns: "/proc/42/ns/net", want: specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs",
			Options: []string{"nosuid", "noexec", "nodev", "ro"}}},
		{name: "own network, privileged, read-only rootfs", netns: NetNSNew, privileged: true, readonly: true,
			want: specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := testInput(t)
			in.NetNSPath = tt.netns
			in.HostConfig.Privileged = tt.privileged
			in.HostConfig.ReadonlyRootfs = tt.readonly
			s, err := apply(in, WithMounts)
			if err != nil {
				t.Fatal(err)
			}
			if got := mustMount(t, s, "/sys"); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("/sys = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCgroupMount(t *testing.T) {
	in := testInput(t)
	in.CgroupsPath = "/user.slice/rrun/" + testID
	s, _ := apply(in, WithMounts)
	if m := mustMount(t, s, "/sys/fs/cgroup"); m.Type != "cgroup" || !slices.Contains(m.Options, "ro") {
		t.Fatalf("cgroup mount %+v", m)
	}
	in.HostConfig.Privileged = true
	s, _ = apply(in, WithMounts)
	if m := mustMount(t, s, "/sys/fs/cgroup"); slices.Contains(m.Options, "ro") {
		t.Fatalf("privileged cgroup mount %+v", m)
	}
}

func TestShm(t *testing.T) {
	in := testInput(t)
	in.HostConfig.ShmSize = -1
	_, err := apply(in, WithMounts)
	checkErr(t, err, "SHM size can not be less than 0")

	in.HostConfig.ShmSize = 1 << 30
	s, _ := apply(in, WithMounts)
	if m := mustMount(t, s, "/dev/shm"); !slices.Contains(m.Options, "size=1073741824") {
		t.Fatalf("/dev/shm options %v", m.Options)
	}

	in.HostConfig.IpcMode = container.IPCModeNone
	s, _ = apply(in, WithMounts)
	if _, ok := findMount(s, "/dev/shm"); ok {
		t.Fatal("--ipc none still has /dev/shm")
	}
}

func TestBindMounts(t *testing.T) {
	host := t.TempDir()
	existing := filepath.Join(host, "existing")
	if err := os.Mkdir(existing, 0o755); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(host, "missing/deep")

	tests := []struct {
		name    string
		binds   []string
		mounts  []mount.Mount
		dst     string
		want    specs.Mount
		wantErr string
	}{
		{name: "--mount missing source", mounts: []mount.Mount{{Type: mount.TypeBind, Source: missing, Target: "/x"}},
			wantErr: `invalid mount config for type "bind": bind source path does not exist: ` + missing},
		{name: "-v", binds: []string{existing + ":/data"}, dst: "/data",
			want: specs.Mount{Destination: "/data", Type: "bind", Source: existing, Options: []string{"rbind", "rprivate"}}},
		{name: "-v read-only, slave", binds: []string{existing + ":/data:ro,slave"}, dst: "/data",
			want: specs.Mount{Destination: "/data", Type: "bind", Source: existing, Options: []string{"rbind", "rro", "slave"}}},
		{name: "-v creates a missing source", binds: []string{missing + ":/data"}, dst: "/data",
			want: specs.Mount{Destination: "/data", Type: "bind", Source: missing, Options: []string{"rbind", "rprivate"}}},
		{name: "--mount bind", mounts: []mount.Mount{{Type: mount.TypeBind, Source: existing, Target: "/x/", ReadOnly: true}}, dst: "/x",
			want: specs.Mount{Destination: "/x", Type: "bind", Source: existing, Options: []string{"rbind", "rro", "rprivate"}}},
		{name: "--mount bind non-recursive", dst: "/x", mounts: []mount.Mount{{Type: mount.TypeBind, Source: existing, Target: "/x", ReadOnly: true,
			BindOptions: &mount.BindOptions{NonRecursive: true, Propagation: mount.PropagationShared}}},
			want: specs.Mount{Destination: "/x", Type: "bind", Source: existing, Options: []string{"bind", "ro", "shared"}}},
		{name: "--mount bind read-only non-recursive", dst: "/x", mounts: []mount.Mount{{Type: mount.TypeBind, Source: existing, Target: "/x", ReadOnly: true,
			BindOptions: &mount.BindOptions{ReadOnlyNonRecursive: true}}},
			want: specs.Mount{Destination: "/x", Type: "bind", Source: existing, Options: []string{"rbind", "ro", "rprivate"}}},
		{name: "--mount bind create-mountpoint", dst: "/x", mounts: []mount.Mount{{Type: mount.TypeBind, Source: missing, Target: "/x",
			BindOptions: &mount.BindOptions{CreateMountpoint: true}}},
			want: specs.Mount{Destination: "/x", Type: "bind", Source: missing, Options: []string{"rbind", "rprivate"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_ = os.RemoveAll(filepath.Join(host, "missing"))
			in := testInput(t)
			in.HostConfig.Binds = tt.binds
			in.HostConfig.Mounts = tt.mounts
			s, err := apply(in, WithMounts)
			checkErr(t, err, tt.wantErr)
			if err != nil {
				return
			}
			if got := mustMount(t, s, tt.dst); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("mount = %+v, want %+v", got, tt.want)
			}
			if _, err := os.Stat(tt.want.Source); err != nil {
				t.Fatalf("source: %v", err)
			}
		})
	}
}

func TestVolumeMounts(t *testing.T) {
	in := testInput(t)
	var asked []string
	resolve := in.Volumes
	in.Volumes = func(name string) (string, error) {
		asked = append(asked, name)
		return resolve(name)
	}
	named, err := in.Volumes("data")
	if err != nil {
		t.Fatal(err)
	}
	asked = nil
	writeFile(t, filepath.Join(named, "sub/file"), "x")
	in.HostConfig.Binds = []string{"data:/named:ro"}
	in.HostConfig.Mounts = []mount.Mount{
		{Type: mount.TypeVolume, Target: "/anon"},
		{Type: mount.TypeVolume, Source: "data", Target: "/sub", VolumeOptions: &mount.VolumeOptions{Subpath: "sub"}},
	}
	s, err := apply(in, WithMounts)
	if err != nil {
		t.Fatal(err)
	}
	if m := mustMount(t, s, "/named"); m.Source != named || m.Type != "bind" || !reflect.DeepEqual(m.Options, []string{"rbind", "rro"}) {
		t.Fatalf("named volume %+v", m)
	}
	if m := mustMount(t, s, "/sub"); m.Source != filepath.Join(named, "sub") {
		t.Fatalf("subpath volume %+v", m)
	}
	if len(asked) != 3 || asked[0] != "data" || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(asked[1]) {
		t.Fatalf("volumes asked for: %q (want data, a random 64-hex id, data)", asked)
	}

	in.HostConfig.Mounts = []mount.Mount{{Type: mount.TypeVolume, Source: "data", Target: "/sub", VolumeOptions: &mount.VolumeOptions{Subpath: "nope"}}}
	_, err = apply(in, WithMounts)
	checkErr(t, err, "cannot access path")

	in.HostConfig.Mounts = nil
	in.Volumes = nil
	if _, err := apply(in, WithMounts); err == nil {
		t.Fatal("named volume without a resolver")
	}
}

func TestImageVolumes(t *testing.T) {
	host := t.TempDir()
	in := testInput(t)
	in.Config.Volumes = map[string]struct{}{"/var/lib/db": {}, "/cache/": {}, "/logs": {}}
	in.HostConfig.Binds = []string{host + ":/var/lib/db"}
	in.HostConfig.Tmpfs = map[string]string{"/cache": ""}
	s, err := apply(in, WithMounts)
	if err != nil {
		t.Fatal(err)
	}
	if m := mustMount(t, s, "/var/lib/db"); m.Source != host {
		t.Fatalf("a bind must cover the image's volume: %+v", m)
	}
	if m := mustMount(t, s, "/cache"); m.Type != "tmpfs" {
		t.Fatalf("a tmpfs must cover the image's volume: %+v", m)
	}
	if m := mustMount(t, s, "/logs"); m.Type != "bind" || !regexp.MustCompile(`/[0-9a-f]{64}/_data$`).MatchString(m.Source) {
		t.Fatalf("anonymous volume %+v", m)
	}
}

func TestTmpfsMounts(t *testing.T) {
	tests := []struct {
		name    string
		tmpfs   map[string]string
		mounts  []mount.Mount
		dst     string
		want    []string
		wantErr string
	}{
		{name: "--tmpfs bad option", tmpfs: map[string]string{"/run": "size=1m,bogus"}, wantErr: `--tmpfs /run: invalid tmpfs option "bogus"`},
		{name: "--tmpfs relative", tmpfs: map[string]string{"run": ""}, wantErr: "mount path must be absolute"},
		{name: "--tmpfs defaults", tmpfs: map[string]string{"/run": ""}, dst: "/run", want: []string{"noexec", "nosuid", "nodev", "rprivate"}},
		{name: "--tmpfs options", tmpfs: map[string]string{"/run": "size=64m,mode=1777,exec"}, dst: "/run",
			want: []string{"nosuid", "nodev", "rprivate", "size=64m", "mode=1777", "exec"}},
		{name: "--mount tmpfs", dst: "/t", mounts: []mount.Mount{{Type: mount.TypeTmpfs, Target: "/t", ReadOnly: true,
			TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1 << 20, Mode: 0o1777, Options: [][]string{{"exec"}, {"nr_inodes", "100"}}}}},
			want: []string{"nosuid", "nodev", "rprivate", "ro", "mode=1777", "size=1048576", "exec", "nr_inodes=100"}},
		{name: "--mount tmpfs Go mode bits", dst: "/t", mounts: []mount.Mount{{Type: mount.TypeTmpfs, Target: "/t",
			TmpfsOptions: &mount.TmpfsOptions{Mode: os.ModeSticky | 0o777}}},
			want: []string{"noexec", "nosuid", "nodev", "rprivate", "mode=1777"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := testInput(t)
			in.HostConfig.Tmpfs = tt.tmpfs
			in.HostConfig.Mounts = tt.mounts
			s, err := apply(in, WithMounts)
			checkErr(t, err, tt.wantErr)
			if err != nil {
				return
			}
			m := mustMount(t, s, tt.dst)
			if m.Type != "tmpfs" || !reflect.DeepEqual(m.Options, tt.want) {
				t.Fatalf("mount = %+v, want options %q", m, tt.want)
			}
		})
	}
}

func TestTmpfsOptions(t *testing.T) {
	tests := []struct {
		data    string
		want    []string
		wantErr string
	}{
		{data: "size", wantErr: `invalid tmpfs option "size"`},
		{data: "color=red", wantErr: `invalid tmpfs option "color=red"`},
		{data: "", want: []string{"noexec", "nosuid", "nodev", "rprivate"}},
		{data: "defaults,size=1g,size=2g", want: []string{"noexec", "nosuid", "nodev", "rprivate", "size=2g"}},
		{data: "exec,suid,dev,shared,ro", want: []string{"exec", "suid", "dev", "shared", "ro"}},
		{data: "uid=1000,gid=1000,noatime", want: []string{"noexec", "nosuid", "nodev", "rprivate", "uid=1000", "gid=1000", "noatime"}},
	}
	for _, tt := range tests {
		t.Run(tt.data, func(t *testing.T) {
			got, err := TmpfsOptions(tt.data)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("options = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestDuplicateMountPoint(t *testing.T) {
	host := t.TempDir()
	tests := []struct {
		name   string
		binds  []string
		mounts []mount.Mount
		tmpfs  map[string]string
	}{
		{name: "two binds", binds: []string{host + ":/x", host + ":/x/"}},
		{name: "bind and --mount", binds: []string{host + ":/x"}, mounts: []mount.Mount{{Type: mount.TypeTmpfs, Target: "/x"}}},
		{name: "volume and --tmpfs", binds: []string{"v:/x"}, tmpfs: map[string]string{"/x": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := testInput(t)
			in.HostConfig.Binds, in.HostConfig.Mounts, in.HostConfig.Tmpfs = tt.binds, tt.mounts, tt.tmpfs
			_, err := BuildSpec(in)
			checkErr(t, err, "Duplicate mount point: /x")
		})
	}

	// The init's mount point is taken too.
	in := testInput(t)
	in.InitPath = "/usr/bin/init"
	in.HostConfig.Binds = []string{host + ":/sbin/rrun-init"}
	_, err := BuildSpec(in)
	checkErr(t, err, "Duplicate mount point: /sbin/rrun-init")
}

func TestNetworkFiles(t *testing.T) {
	host := t.TempDir()
	in := testInput(t)
	in.HostsPath, in.HostnamePath, in.ResolvConfPath = "/run/c/hosts", "/run/c/hostname", "/run/c/resolv.conf"
	in.HostConfig.Binds = []string{host + ":/etc/hosts"}
	s, err := apply(in, WithMounts)
	if err != nil {
		t.Fatal(err)
	}
	if m := mustMount(t, s, "/etc/hosts"); m.Source != host {
		t.Fatalf("the user's /etc/hosts must win: %+v", m)
	}
	want := specs.Mount{Destination: "/etc/resolv.conf", Type: "bind", Source: "/run/c/resolv.conf", Options: []string{"rbind", "rprivate"}}
	if m := mustMount(t, s, "/etc/resolv.conf"); !reflect.DeepEqual(m, want) {
		t.Fatalf("resolv.conf %+v, want %+v", m, want)
	}
	mustMount(t, s, "/etc/hostname")

	in = testInput(t)
	s, _ = apply(in, WithMounts)
	if _, ok := findMount(s, "/etc/hosts"); ok {
		t.Fatal("/etc/hosts mounted without a file")
	}
}

func TestReadonlyRootfs(t *testing.T) {
	host := t.TempDir()
	in := testInput(t)
	in.HostConfig.ReadonlyRootfs = true
	in.HostConfig.Binds = []string{host + ":/data"}
	in.HostConfig.Tmpfs = map[string]string{"/tmp": ""}
	in.HostsPath = "/run/c/hosts"
	in.NetNSPath = NetNSNew
	s := build(t, in)
	if !s.Root.Readonly {
		t.Fatal("root is writable")
	}
	for _, dst := range []string{"/sys", "/etc/hosts"} {
		if m := mustMount(t, s, dst); !slices.Contains(m.Options, "ro") {
			t.Errorf("%s is writable: %v", dst, m.Options)
		}
	}
	for _, dst := range []string{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/data", "/tmp"} {
		if m := mustMount(t, s, dst); slices.Contains(m.Options, "ro") || slices.Contains(m.Options, "rro") {
			t.Errorf("%s is read-only: %v", dst, m.Options)
		}
	}
}

func TestUserMountReplacesDefault(t *testing.T) {
	in := testInput(t)
	in.HostConfig.Tmpfs = map[string]string{"/dev/shm": "size=1g"}
	s := build(t, in)
	if m := mustMount(t, s, "/dev/shm"); m.Source != "tmpfs" || !slices.Contains(m.Options, "size=1g") {
		t.Fatalf("/dev/shm = %+v", m)
	}

	in = testInput(t)
	in.HostConfig.Binds = []string{"/dev:/dev"}
	s = build(t, in)
	for _, dst := range []string{"/dev/pts", "/dev/shm", "/dev/mqueue"} {
		if _, ok := findMount(s, dst); ok {
			t.Errorf("%s is still mounted under the user's /dev", dst)
		}
	}
}

func TestMountOrder(t *testing.T) {
	host := t.TempDir()
	in := testInput(t)
	in.HostConfig.Binds = []string{host + ":/a/b/c", host + ":/a", host + ":/a/b"}
	s := build(t, in)
	pos := map[string]int{}
	for i, m := range s.Mounts {
		pos[m.Destination] = i
	}
	for _, pair := range [][2]string{{"/a", "/a/b"}, {"/a/b", "/a/b/c"}, {"/dev", "/dev/pts"}, {"/dev", "/dev/shm"}} {
		if pos[pair[0]] > pos[pair[1]] {
			t.Errorf("%s is mounted after %s: %v", pair[0], pair[1], destinations(s))
		}
	}
}

func TestRootfsPropagation(t *testing.T) {
	host := t.TempDir()
	for _, tt := range []struct{ mode, want string }{{"", ""}, {":rslave", "rslave"}, {":shared", "shared"}} {
		in := testInput(t)
		in.HostConfig.Binds = []string{host + ":/x" + tt.mode}
		s, err := apply(in, WithMounts)
		if err != nil {
			t.Fatal(err)
		}
		if s.Linux.RootfsPropagation != tt.want {
			t.Errorf("bind %q: rootfs propagation %q, want %q", tt.mode, s.Linux.RootfsPropagation, tt.want)
		}
	}
}
