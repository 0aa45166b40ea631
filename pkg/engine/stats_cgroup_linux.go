package engine

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"
)

// cgroupRoot is where the unified (v2) hierarchy is mounted.
const cgroupRoot = "/sys/fs/cgroup"

// ownCgroup is the directory of the container's own cgroup v2: the
// cgroup of its init, when the host runs cgroup v2 and that cgroup is
// the container's (named after its id, as the runtime creates it). It is
// "" when the container runs in rrun's cgroup, as rootless containers do
// on cgroup v1 and hybrid hosts and without systemd delegation.
func ownCgroup(proc string, pid int, id string) string {
	var fs unix.Statfs_t
	if unix.Statfs(cgroupRoot, &fs) != nil || fs.Type != unix.CGROUP2_SUPER_MAGIC {
		return ""
	}
	data, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "cgroup"))
	if err != nil {
		return ""
	}
	path := unifiedCgroupPath(string(data))
	if path == "" || !strings.Contains(filepath.Base(path), id) {
		return ""
	}
	return filepath.Join(cgroupRoot, path)
}

// unifiedCgroupPath is the v2 path in /proc/PID/cgroup ("0::/path").
func unifiedCgroupPath(procCgroup string) string {
	for _, line := range strings.Split(procCgroup, "\n") {
		if path, ok := strings.CutPrefix(line, "0::"); ok {
			return path
		}
	}
	return ""
}

// readCgroupStats reads a cgroup v2 as dockerd does: CPU from cpu.stat,
// memory from memory.current, memory.max (the host's memory for "max")
// and memory.stat, PIDs from pids.current and pids.max, block I/O from
// io.stat. Missing controllers leave their figures at zero.
func readCgroupStats(dir string, r *container.StatsResponse, hostMem uint64) error {
	cpu, err := readKV(filepath.Join(dir, "cpu.stat"), " ")
	if err != nil {
		return err // the cgroup is gone: the container stopped
	}
	u := &r.CPUStats.CPUUsage
	u.TotalUsage, u.UsageInUsermode, u.UsageInKernelmode = cpu["usage_usec"]*1000, cpu["user_usec"]*1000, cpu["system_usec"]*1000
	r.CPUStats.ThrottlingData = container.ThrottlingData{
		Periods: cpu["nr_periods"], ThrottledPeriods: cpu["nr_throttled"], ThrottledTime: cpu["throttled_usec"] * 1000,
	}
	r.MemoryStats.Usage, _ = readCgroupValue(dir, "memory.current", 0)
	r.MemoryStats.Limit, _ = readCgroupValue(dir, "memory.max", hostMem)
	if stat, err := readKV(filepath.Join(dir, "memory.stat"), " "); err == nil {
		r.MemoryStats.Stats = stat
	}
	r.PidsStats.Current, _ = readCgroupValue(dir, "pids.current", 0)
	r.PidsStats.Limit, _ = readCgroupValue(dir, "pids.max", 0)
	if data, err := os.ReadFile(filepath.Join(dir, "io.stat")); err == nil {
		r.BlkioStats.IoServiceBytesRecursive, r.BlkioStats.IoServicedRecursive = parseIOStat(string(data))
	}
	return nil
}

// readCgroupValue reads a one-number cgroup file; "max" reads as
// unlimited.
func readCgroupValue(dir, name string, unlimited uint64) (uint64, error) {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return 0, err
	}
	s := strings.TrimSpace(string(data))
	if s == "max" {
		return unlimited, nil
	}
	return strconv.ParseUint(s, 10, 64)
}

// parseIOStat turns io.stat's "MAJ:MIN rbytes=… wbytes=… rios=… wios=…"
// lines into docker's read and write entries per device: bytes, and
// operations.
func parseIOStat(data string) (bytes, ops []container.BlkioStatEntry) {
	for _, line := range strings.Split(data, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		majText, minText, _ := strings.Cut(f[0], ":")
		major, err1 := strconv.ParseUint(majText, 10, 64)
		minor, err2 := strconv.ParseUint(minText, 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		v := map[string]uint64{}
		for _, kv := range f[1:] {
			k, n, _ := strings.Cut(kv, "=")
			v[k], _ = strconv.ParseUint(n, 10, 64)
		}
		entry := func(op string, value uint64) container.BlkioStatEntry {
			return container.BlkioStatEntry{Major: major, Minor: minor, Op: op, Value: value}
		}
		bytes = append(bytes, entry("read", v["rbytes"]), entry("write", v["wbytes"]))
		ops = append(ops, entry("read", v["rios"]), entry("write", v["wios"]))
	}
	return bytes, ops
}
