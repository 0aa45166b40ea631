package oci

import (
	"math"
	"reflect"
	"testing"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestRlimits(t *testing.T) {
	own := getrlimit
	t.Cleanup(func() { getrlimit = own })
	getrlimit = func(res int, r *unix.Rlimit) error {
		r.Cur, r.Max = 1024, 1<<20
		if res == unix.RLIMIT_CORE {
			r.Max = math.MaxUint64
		}
		return nil
	}
	tests := []struct {
		name    string
		ulimits []*units.Ulimit
		want    []specs.POSIXRlimit
		wantErr string
	}{
		{name: "unknown", ulimits: []*units.Ulimit{{Name: "files", Soft: 1, Hard: 1}}, wantErr: "invalid ulimit type: files"},
		{name: "soft above hard", ulimits: []*units.Ulimit{{Name: "nofile", Soft: 2048, Hard: 1024}}, wantErr: "soft limit must be less than or equal to hard limit: 2048 > 1024"},
		{name: "above rrun's", ulimits: []*units.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2 << 20}}, wantErr: "hard limit 2097152 is above the user's own (1048576)"},
		{name: "unlimited above rrun's", ulimits: []*units.Ulimit{{Name: "nproc", Soft: -1, Hard: -1}}, wantErr: "hard limit unlimited is above"},
		{name: "none", want: nil},
		{
			name:    "nofile and unlimited core",
			ulimits: []*units.Ulimit{{Name: "nofile", Soft: 1024, Hard: 4096}, nil, {Name: "core", Soft: -1, Hard: -1}},
			want: []specs.POSIXRlimit{
				{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 4096},
				{Type: "RLIMIT_CORE", Soft: math.MaxUint64, Hard: math.MaxUint64},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := testInput(t)
			in.HostConfig.Ulimits = tt.ulimits
			s, err := apply(in, WithRlimits)
			checkErr(t, err, tt.wantErr)
			if err == nil && !reflect.DeepEqual(s.Process.Rlimits, tt.want) {
				t.Fatalf("rlimits = %+v, want %+v", s.Process.Rlimits, tt.want)
			}
		})
	}
}

func TestValidateSysctl(t *testing.T) {
	tests := []struct {
		key      string
		ownNetNS bool
		wantErr  string
	}{
		{key: "kernel.hostname", ownNetNS: true, wantErr: "sysctl 'kernel.hostname=v' is not allowed"},
		{key: "vm.swappiness", ownNetNS: true, wantErr: "is not allowed"},
		{key: "kernel.shmmax2", ownNetNS: true, wantErr: "is not allowed"},
		{key: "net.ipv4.ip_forward", wantErr: "not allowed with the host's network namespace"},
		{key: "net.ipv4.ip_forward", ownNetNS: true},
		{key: "kernel.shmmax"},
		{key: "kernel.shm_rmid_forced"},
		{key: "fs.mqueue.msg_max"},
	}
	for _, tt := range tests {
		checkErr(t, ValidateSysctl(tt.key, "v", tt.ownNetNS), tt.wantErr)
	}
}

func TestWithSysctls(t *testing.T) {
	in := testInput(t)
	in.HostConfig.Sysctls = map[string]string{"net.core.somaxconn": "1024"}
	_, err := apply(in, WithSysctls)
	checkErr(t, err, "not allowed with the host's network namespace")

	in.NetNSPath = NetNSNew
	s, err := apply(in, WithSysctls)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"net.core.somaxconn": "1024"}
	if sysctlExists("net.ipv4.ip_unprivileged_port_start") {
		want["net.ipv4.ip_unprivileged_port_start"] = "0"
	}
	if !reflect.DeepEqual(s.Linux.Sysctl, want) {
		t.Fatalf("sysctls %v, want %v", s.Linux.Sysctl, want)
	}

	// The user's value wins over the default.
	in.HostConfig.Sysctls = map[string]string{"net.ipv4.ip_unprivileged_port_start": "80"}
	s, _ = apply(in, WithSysctls)
	if got := s.Linux.Sysctl["net.ipv4.ip_unprivileged_port_start"]; got != "80" {
		t.Fatalf("ip_unprivileged_port_start = %q", got)
	}

	// No default on the host's network.
	in = testInput(t)
	s, _ = apply(in, WithSysctls)
	if len(s.Linux.Sysctl) != 0 {
		t.Fatalf("host network sysctls %v", s.Linux.Sysctl)
	}
}

func TestResources(t *testing.T) {
	orig := swapLimitSupported
	t.Cleanup(func() { swapLimitSupported = orig })
	swapLimitSupported = func(string) bool { return true }

	pids := int64(100)
	full := container.Resources{
		Memory: 512 << 20, CPUShares: 512, NanoCPUs: 1500000000, PidsLimit: &pids,
		CpusetCpus: "0", BlkioWeight: 300, MemoryReservation: 256 << 20,
	}

	// Without a cgroup the limits are checked, then left out.
	in := testInput(t)
	in.HostConfig.Resources = full
	s, err := apply(in, WithResources)
	if err != nil {
		t.Fatal(err)
	}
	if s.Linux.Resources != nil || s.Linux.CgroupsPath != "" {
		t.Fatalf("resources without a cgroup: %+v, %q", s.Linux.Resources, s.Linux.CgroupsPath)
	}
	in.HostConfig.Memory = 1 << 20
	_, err = apply(in, WithResources)
	checkErr(t, err, "Minimum memory limit allowed is 6MB")

	in = testInput(t)
	in.CgroupsPath = "/user.slice/rrun/" + testID
	in.HostConfig.Resources = full
	s, err = apply(in, WithResources)
	if err != nil {
		t.Fatal(err)
	}
	r := s.Linux.Resources
	if s.Linux.CgroupsPath != in.CgroupsPath {
		t.Fatalf("cgroups path %q", s.Linux.CgroupsPath)
	}
	if *r.Memory.Limit != 512<<20 || *r.Memory.Swap != 1<<30 || *r.Memory.Reservation != 256<<20 {
		t.Fatalf("memory %+v", r.Memory)
	}
	if *r.CPU.Quota != 150000 || *r.CPU.Period != 100000 || *r.CPU.Shares != 512 || r.CPU.Cpus != "0" {
		t.Fatalf("cpu %+v", r.CPU)
	}
	if *r.Pids.Limit != 100 || *r.BlockIO.Weight != 300 {
		t.Fatalf("pids %+v, blkio %+v", r.Pids, r.BlockIO)
	}

	// Unlimited swap and pids; nothing for what is not set.
	zero := int64(0)
	in.HostConfig.Resources = container.Resources{Memory: 64 << 20, MemorySwap: -1, PidsLimit: &zero}
	s, _ = apply(in, WithResources)
	r = s.Linux.Resources
	if *r.Memory.Swap != -1 || *r.Pids.Limit != -1 || r.CPU != nil || r.BlockIO != nil {
		t.Fatalf("resources %+v", r)
	}

	// No swap accounting: no swap limit.
	swapLimitSupported = func(string) bool { return false }
	in.HostConfig.Resources = container.Resources{Memory: 64 << 20}
	s, _ = apply(in, WithResources)
	if s.Linux.Resources.Memory.Swap != nil {
		t.Fatalf("swap %d without swap accounting", *s.Linux.Resources.Memory.Swap)
	}
}

func TestValidateResources(t *testing.T) {
	tests := []struct {
		name    string
		r       container.Resources
		wantErr string
	}{
		{name: "swap without memory", r: container.Resources{MemorySwap: 1 << 30}, wantErr: "You should always set the Memory limit when using Memoryswap limit"},
		{name: "swap below memory", r: container.Resources{Memory: 1 << 30, MemorySwap: 512 << 20}, wantErr: "Minimum memoryswap limit should be larger than memory limit"},
		{name: "nano cpus and quota", r: container.Resources{NanoCPUs: 1e9, CPUQuota: 50000}, wantErr: "Conflicting options"},
		{name: "too many cpus", r: container.Resources{NanoCPUs: 1e6 * 1e9}, wantErr: "Range of CPUs is from 0.01"},
		{name: "blkio weight", r: container.Resources{BlkioWeight: 5}, wantErr: "Range of blkio weight is from 10 to 1000"},
		{name: "none", r: container.Resources{}},
		{name: "memory and unlimited swap", r: container.Resources{Memory: 1 << 30, MemorySwap: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkErr(t, ValidateResources(tt.r), tt.wantErr) })
	}
}

func TestOOMScoreAdj(t *testing.T) {
	orig := readOOMScoreAdj
	t.Cleanup(func() { readOOMScoreAdj = orig })
	readOOMScoreAdj = func() (int, error) { return 100, nil }
	tests := []struct {
		adj     int
		want    *int
		wantErr string
	}{
		{adj: 2000, wantErr: "range for oom score adj is [-1000, 1000]"},
		{adj: 50, wantErr: "below rrun's own score (100)"},
		{adj: 0, want: nil},
		{adj: 500, want: ptr(500)},
	}
	for _, tt := range tests {
		in := testInput(t)
		in.HostConfig.OomScoreAdj = tt.adj
		s, err := apply(in, WithOOMScoreAdj)
		checkErr(t, err, tt.wantErr)
		if err == nil && !reflect.DeepEqual(s.Process.OOMScoreAdj, tt.want) {
			t.Errorf("adj %d: %v", tt.adj, s.Process.OOMScoreAdj)
		}
	}
}
