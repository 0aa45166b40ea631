package oci

import (
	"path/filepath"
	"testing"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/opencontainers/runc/libcontainer/configs/validate"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"golang.org/x/sys/unix"
)

// Specs must convert to libcontainer's config, and pass the checks
// libcontainer.Create runs on it, catching invalid specs before a start.
func TestLibcontainerAcceptsSpecs(t *testing.T) {
	orig := getrlimit
	t.Cleanup(func() { getrlimit = orig })
	getrlimit = func(_ int, r *unix.Rlimit) error { r.Cur, r.Max = 1024, 1<<20; return nil }

	host := t.TempDir()
	pids := int64(50)
	umask := uint32(0o022)
	tests := []struct {
		name string
		// validate: also run libcontainer's validator, which looks at the
		// host (a joined network namespace must exist and not be ours).
		validate bool
		edit     func(in *SpecInput)
	}{
		{name: "defaults", validate: true, edit: func(in *SpecInput) {}},
		{name: "everything", validate: true, edit: func(in *SpecInput) {
			in.NetNSPath = NetNSNew
			in.CgroupsPath = "/user.slice/rrun/" + testID
			in.InitPath = "/usr/bin/true"
			in.HostsPath, in.HostnamePath, in.ResolvConfPath = host, host, host
			in.Config.User = "alice:staff"
			in.Config.Tty = true
			in.Config.Hostname, in.Config.Domainname = "web", "example.org"
			in.Config.Entrypoint = []string{"/entry"}
			in.Config.Env = []string{"A=1"}
			in.Config.WorkingDir = "/srv"
			in.Config.Volumes = map[string]struct{}{"/var/lib/data": {}}
			in.HostConfig = &container.HostConfig{
				Binds:  []string{host + ":/host:ro,rslave", "named:/named:nocopy", filepath.Join(host, "new") + ":/created"},
				Tmpfs:  map[string]string{"/run": "size=64m,exec", "/dev/shm": "size=1g"},
				CapAdd: []string{"NET_ADMIN", "sys_ptrace"}, CapDrop: []string{"MKNOD"},
				GroupAdd:       []string{"audio"},
				SecurityOpt:    []string{"no-new-privileges", "label=disable"},
				Sysctls:        map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmax": "1000000"},
				ReadonlyRootfs: true,
				ShmSize:        128 << 20,
				OomScoreAdj:    0,
				ConsoleSize:    [2]uint{40, 120},
				Umask:          &umask,
				Annotations:    map[string]string{"org.example": "x"},
				Mounts: []mount.Mount{
					{Type: mount.TypeVolume, Target: "/anon"},
					{Type: mount.TypeTmpfs, Target: "/scratch", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1 << 20, Mode: 0o700}},
					{Type: mount.TypeBind, Source: host, Target: "/nr", BindOptions: &mount.BindOptions{NonRecursive: true}},
				},
				Resources: container.Resources{
					Memory: 256 << 20, NanoCPUs: 5e8, CPUShares: 256, PidsLimit: &pids, CpusetCpus: "0", BlkioWeight: 500,
					Ulimits: []*units.Ulimit{{Name: "nofile", Soft: 1024, Hard: 4096}},
					Devices: []container.DeviceMapping{{PathOnHost: "/dev/null", PathInContainer: "/dev/mynull", CgroupPermissions: "rwm"}},
				},
			}
		}},
		{name: "privileged", validate: true, edit: func(in *SpecInput) {
			in.HostConfig.Privileged = true
			in.HostConfig.CapAdd = []string{"ALL"}
		}},
		{name: "unconfined, no network", validate: true, edit: func(in *SpecInput) {
			in.NetNSPath = NetNSNew
			in.HostConfig.SecurityOpt = []string{"seccomp=unconfined", "systempaths=unconfined"}
			in.HostConfig.CapDrop = []string{"ALL"}
			in.HostConfig.IpcMode = "none"
			in.HostConfig.UTSMode = "host"
		}},
		{name: "joined network", edit: func(in *SpecInput) {
			in.NetNSPath = "/proc/1/ns/net"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := testInput(t)
			tt.edit(&in)
			s := build(t, in)
			cfg, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{CgroupName: in.ID, Spec: s, RootlessCgroups: true})
			if err != nil {
				t.Fatalf("CreateLibcontainerConfig: %v\nspec: %+v", err, s)
			}
			if tt.validate {
				if err := validate.Validate(cfg); err != nil {
					t.Fatalf("libcontainer's validation: %v", err)
				}
			}
		})
	}
}
