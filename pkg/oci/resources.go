package oci

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/generate"
)

const (
	minMemory = 6 << 20 // docker's linuxMinMemory
	cpuPeriod = 100000  // docker's CFS period for --cpus, in µs
)

// ValidateResources checks the limits as docker's daemon does when a
// container is created (verifyPlatformContainerResources), with its
// messages, whether or not this host can apply them.
func ValidateResources(r container.Resources) error {
	bad := func(format string, args ...any) error {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(format, args...))
	}
	switch {
	case r.Memory != 0 && r.Memory < minMemory:
		return bad("Minimum memory limit allowed is 6MB")
	case r.MemorySwap > 0 && r.Memory == 0:
		return bad("You should always set the Memory limit when using Memoryswap limit, see usage")
	case r.MemorySwap > 0 && r.MemorySwap < r.Memory:
		return bad("Minimum memoryswap limit should be larger than memory limit, see usage")
	case r.MemoryReservation != 0 && r.MemoryReservation < minMemory:
		return bad("Minimum memory reservation allowed is 6MB")
	case r.Memory > 0 && r.MemoryReservation > r.Memory:
		return bad("Minimum memory limit can not be less than memory reservation limit, see usage")
	case r.NanoCPUs != 0 && (r.CPUPeriod != 0 || r.CPUQuota != 0):
		return bad("Conflicting options: Nano CPUs and CPU Period/Quota cannot both be set")
	case r.NanoCPUs < 0 || r.NanoCPUs > int64(runtime.NumCPU())*1e9:
		return bad("Range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", runtime.NumCPU(), runtime.NumCPU())
	case r.CPUPeriod != 0 && (r.CPUPeriod < 1000 || r.CPUPeriod > 1000000):
		return bad("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)")
	case r.CPUQuota > 0 && r.CPUQuota < 1000:
		return bad("CPU cfs quota can not be less than 1ms (i.e. 1000)")
	case r.CPUShares < 0:
		return bad("invalid CPU shares (%d): value must be a positive integer", r.CPUShares)
	case r.BlkioWeight > 0 && (r.BlkioWeight < 10 || r.BlkioWeight > 1000):
		return bad("Range of blkio weight is from 10 to 1000")
	}
	return nil
}

// WithResources puts the cgroup path and the container's limits in the
// spec. Without a cgroup (rootless on a cgroup v1 or hybrid host, or
// without systemd delegation) there is nothing to apply them to: the
// limits are validated and left out, and the engine warns.
func WithResources(g *generate.Generator, in *SpecInput) error {
	r := in.HostConfig.Resources
	if err := ValidateResources(r); err != nil {
		return err
	}
	if in.CgroupsPath == "" {
		g.Config.Linux.Resources = nil
		return nil
	}
	g.SetLinuxCgroupsPath(in.CgroupsPath)
	res := &specs.LinuxResources{}

	if r.Memory > 0 || r.MemoryReservation > 0 || r.MemorySwap != 0 {
		mem := &specs.LinuxMemory{}
		if r.Memory > 0 {
			mem.Limit = ptr(r.Memory)
		}
		if r.MemoryReservation > 0 {
			mem.Reservation = ptr(r.MemoryReservation)
		}
		swap := r.MemorySwap
		if swap == 0 && r.Memory > 0 {
			swap = 2 * r.Memory // docker's default: as much swap as memory
		}
		// Without swap accounting runc could not write the limit; docker
		// drops it then too (with a warning at create).
		if swap != 0 && swapLimitSupported(in.CgroupsPath) {
			mem.Swap = ptr(swap)
		}
		res.Memory = mem
	}

	cpu := &specs.LinuxCPU{}
	var hasCPU bool
	if r.NanoCPUs > 0 {
		cpu.Period, cpu.Quota = ptr(uint64(cpuPeriod)), ptr(r.NanoCPUs*cpuPeriod/1e9)
		hasCPU = true
	}
	if r.CPUPeriod > 0 {
		cpu.Period, hasCPU = ptr(uint64(r.CPUPeriod)), true
	}
	if r.CPUQuota != 0 {
		cpu.Quota, hasCPU = ptr(r.CPUQuota), true
	}
	if r.CPUShares > 0 {
		cpu.Shares, hasCPU = ptr(uint64(r.CPUShares)), true
	}
	if r.CpusetCpus != "" {
		cpu.Cpus, hasCPU = r.CpusetCpus, true
	}
	if r.CpusetMems != "" {
		cpu.Mems, hasCPU = r.CpusetMems, true
	}
	if hasCPU {
		res.CPU = cpu
	}

	if r.PidsLimit != nil {
		limit := *r.PidsLimit
		if limit <= 0 {
			limit = -1 // docker: 0 and negative mean unlimited
		}
		res.Pids = &specs.LinuxPids{Limit: ptr(limit)}
	}
	if r.BlkioWeight > 0 {
		res.BlockIO = &specs.LinuxBlockIO{Weight: ptr(r.BlkioWeight)}
	}
	g.Config.Linux.Resources = res
	return nil
}

// swapLimitSupported reports whether the cgroup's parent has a swap limit
// (cgroup v2 with swap accounting); a variable for tests.
var swapLimitSupported = func(cgroupsPath string) bool {
	_, err := os.Stat(filepath.Join("/sys/fs/cgroup", filepath.Dir(cgroupsPath), "memory.swap.max"))
	return err == nil
}

// readOOMScoreAdj is rrun's own oom_score_adj; a variable for tests.
var readOOMScoreAdj = func() (int, error) {
	data, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(data)))
}

// WithOOMScoreAdj sets --oom-score-adj. 0 (docker's default) is left out
// so the container inherits rrun's score: lowering a score needs
// CAP_SYS_RESOURCE in the host's user namespace, so docker's explicit 0
// would fail under a session manager that gives user processes a
// positive score. A value below rrun's own is refused for that reason.
func WithOOMScoreAdj(g *generate.Generator, in *SpecInput) error {
	adj := in.HostConfig.OomScoreAdj
	if adj == 0 {
		return nil
	}
	if adj < -1000 || adj > 1000 {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("Invalid value %d, range for oom score adj is [-1000, 1000]", adj))
	}
	if own, err := readOOMScoreAdj(); err == nil && adj < own {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("--oom-score-adj %d is below rrun's own score (%d), which a rootless container cannot lower", adj, own))
	}
	g.SetProcessOOMScoreAdj(adj)
	return nil
}

func ptr[T any](v T) *T { return &v }
