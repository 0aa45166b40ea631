package oci

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The smoke test below starts containers: libcontainer re-executes this
// test binary as "init" inside them. An init function runs before
// TestMain, so this needs none.
func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" && os.Getenv("_LIBCONTAINER_INITPIPE") != "" {
		libcontainer.Init() // does not return
	}
}

// TestSmokeRun runs real containers from BuildSpec's specs with runc's
// libcontainer, as rrun will: as uid 0 of a user namespace that maps the
// user's subordinate ids, with no user namespace of the container's own.
// It needs that namespace and busybox, so it runs only when asked:
//
//	go test -c -o /tmp/oci.test ./pkg/oci
//	su rrun-test -c 'cd /tmp && RRUN_OCI_SMOKE=1 podman unshare /tmp/oci.test -test.run Smoke -test.v'
func TestSmokeRun(t *testing.T) {
	if os.Getenv("RRUN_OCI_SMOKE") == "" {
		t.Skip("set RRUN_OCI_SMOKE=1 and run as uid 0 of a rootless user namespace (podman unshare) to start real containers")
	}
	if os.Getuid() != 0 || !inUserNamespace() {
		t.Skip("not uid 0 in a user namespace: run the test binary under `podman unshare` as an unprivileged user")
	}
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox is needed for the container's rootfs")
	}
	rootfs := busyboxRootfs(t, busybox)
	bindSrc := t.TempDir()

	tests := []struct {
		name   string
		script string
		edit   func(in *SpecInput)
		want   []string // in the output
	}{
		{
			name:   "defaults, host network",
			script: `id; hostname; grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/self/status; cat /proc/kcore | wc -c; touch /sys/x 2>&1; touch /sys/fs/cgroup/x 2>&1; grep ' /dev/shm ' /proc/mounts; ls -l /dev/pts/ptmx; wc -c </proc/keys; grep -E ' /proc/sys |devpts' /proc/mounts`,
			want: []string{"uid=0(root) gid=0(root) groups=0(root)", "0123456789ab", "CapEff:\t00000000a80425fb", "Seccomp:\t2", "NoNewPrivs:\t0",
				"\n0\n", "touch: /sys/x: Read-only file system", "touch: /sys/fs/cgroup/x: Read-only file system", "size=65536k",
				"proc /proc/sys proc ro,", "mode=620,ptmxmode=666"},
		},
		{
			name:   "own network namespace",
			script: `grep ' /sys ' /proc/mounts; cat /sys/class/net/lo/operstate; cat /proc/sys/net/ipv4/ip_unprivileged_port_start; ls /sys/class/net`,
			edit:   func(in *SpecInput) { in.NetNSPath = NetNSNew },
			want:   []string{"sysfs /sys sysfs ro", "unknown", "\n0\n", "lo"},
		},
		{
			name: "user, read-only rootfs, binds, tmpfs",
			script: `id; touch /x 2>&1; touch /run/x && echo tmpfs-ok; touch /ro/x 2>&1; touch /rw/x && echo bind-ok;
				cat /etc/hostname; grep -c . /proc/self/status >/dev/null; ulimit -n; echo $HOSTNAME $FOO`,
			edit: func(in *SpecInput) {
				in.Config.User = "alice"
				in.Config.Env = []string{"FOO=bar"}
				in.Config.Hostname = "smoky"
				in.HostnamePath = filepath.Join(bindSrc, "hostname")
				writeFile(t, in.HostnamePath, "smoky\n")
				in.HostConfig.ReadonlyRootfs = true
				in.HostConfig.Tmpfs = map[string]string{"/run": "mode=1777"}
				in.HostConfig.Binds = []string{bindSrc + ":/ro:ro", bindSrc + ":/rw"}
				if err := os.Chmod(bindSrc, 0o777); err != nil {
					t.Fatal(err)
				}
				in.HostConfig.Ulimits = []*container.Ulimit{{Name: "nofile", Soft: 512, Hard: 512}}
			},
			want: []string{"uid=1000(alice) gid=1000(alice) groups=29(audio),50(staff),1000(alice)", "touch: /x: Read-only file system",
				"tmpfs-ok", "touch: /ro/x: Read-only file system", "bind-ok", "smoky\n", "\n512\n", "smoky bar"},
		},
		{
			name:   "privileged",
			script: `grep -E '^(CapEff|Seccomp):' /proc/self/status; touch /sys/fs 2>&1; ls /dev; grep -c ' /proc/' /proc/self/mountinfo; true`,
			edit:   func(in *SpecInput) { in.HostConfig.Privileged = true },
			want:   []string{"Seccomp:\t0", "\n0\n"}, // and no masked paths
		},
		{
			name:   "init",
			script: `grep -c rrun-init /proc/mounts; echo "$0 $1"`,
			edit: func(in *SpecInput) {
				// A shell script stands in for a real init here: it drops
				// the "--" and runs the command.
				in.InitPath = filepath.Join(bindSrc, "init")
				writeFile(t, in.InitPath, "#!/bin/sh\nshift\nexec \"$@\"\n")
				if err := os.Chmod(in.InitPath, 0o755); err != nil {
					t.Fatal(err)
				}
				in.Config.Cmd = append(in.Config.Cmd, "zero", "one")
			},
			want: []string{"1\nzero one"},
		},
		{
			name:   "no-new-privileges, caps dropped",
			script: `grep -E '^(CapEff|NoNewPrivs):' /proc/self/status`,
			edit: func(in *SpecInput) {
				in.HostConfig.SecurityOpt = []string{"no-new-privileges"}
				in.HostConfig.CapDrop = []string{"ALL"}
				in.HostConfig.CapAdd = []string{"CHOWN"}
			},
			want: []string{"CapEff:\t0000000000000001", "NoNewPrivs:\t1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := SpecInput{
				ID:         testID,
				Rootfs:     rootfs,
				Config:     &container.Config{Cmd: []string{"/bin/sh", "-c", tt.script}},
				HostConfig: &container.HostConfig{},
			}
			if tt.edit != nil {
				tt.edit(&in)
			}
			s := build(t, in)
			out, code := runSpec(t, in.ID, s)
			t.Logf("exit %d, output:\n%s", code, out)
			if code != 0 {
				t.Fatalf("exit status %d", code)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q", w)
				}
			}
		})
	}
}

// runSpec runs the spec's process to its end with libcontainer.
func runSpec(t *testing.T, id string, s *specs.Spec) (string, int) {
	t.Helper()
	cfg, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{CgroupName: id, Spec: s, RootlessCgroups: true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := libcontainer.Create(t.TempDir(), id, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	var out bytes.Buffer
	nnp := s.Process.NoNewPrivileges
	p := &libcontainer.Process{
		Args: s.Process.Args, Env: s.Process.Env, Cwd: s.Process.Cwd,
		UID: int(s.Process.User.UID), GID: int(s.Process.User.GID),
		Stdout: &out, Stderr: &out, Init: true, NoNewPrivileges: &nnp,
	}
	for _, g := range s.Process.User.AdditionalGids {
		p.AdditionalGroups = append(p.AdditionalGroups, int(g))
	}
	if c := s.Process.Capabilities; c != nil {
		p.Capabilities = &configs.Capabilities{Bounding: c.Bounding, Effective: c.Effective, Permitted: c.Permitted}
	}
	for _, rl := range s.Process.Rlimits {
		res := ulimitResources[strings.ToLower(strings.TrimPrefix(rl.Type, "RLIMIT_"))]
		p.Rlimits = append(p.Rlimits, configs.Rlimit{Type: res, Hard: rl.Hard, Soft: rl.Soft})
	}
	if err := c.Run(p); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	state, err := p.Wait()
	if err != nil && state == nil {
		t.Fatalf("wait: %v", err)
	}
	return out.String(), state.ExitCode()
}

// busyboxRootfs is a rootfs with a static busybox and its applets.
func busyboxRootfs(t *testing.T, busybox string) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"bin", "etc", "proc", "sys", "dev", "tmp", "run", "ro", "rw"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin/busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	list, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet != "busybox" {
			_ = os.Symlink("busybox", filepath.Join(root, "bin", applet))
		}
	}
	writeFile(t, filepath.Join(root, "etc/passwd"), testPasswd)
	writeFile(t, filepath.Join(root, "etc/group"), testGroup)
	return root
}

// inUserNamespace: the uid map is not the initial namespace's identity map.
func inUserNamespace() bool {
	data, err := os.ReadFile("/proc/self/uid_map")
	return err == nil && !strings.Contains(string(data), "4294967295")
}
