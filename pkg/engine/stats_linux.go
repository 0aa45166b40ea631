package engine

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/rrun/rrun/pkg/procfs"
)

// userHZ is the unit of the CPU times /proc shows: fixed at 100 by the
// kernel's ABI on every architecture Go supports.
const userHZ = 100

// statsSampler reads one running container's use, from its cgroup when
// it has one, else from /proc.
type statsSampler struct {
	proc    string
	init    int    // the container's init, as the host sees it
	cgroup  string // its own cgroup v2 directory; "" without one
	netns   bool   // it has a network namespace of its own
	hostMem uint64 // the limit shown without a cgroup limit
}

func newStatsSampler(proc, id string, st *State) *statsSampler {
	s := &statsSampler{proc: proc, init: st.Pid, hostMem: uint64(memTotal())}
	s.cgroup = ownCgroup(proc, st.Pid, id)
	own, _ := os.Readlink(filepath.Join(proc, "self", "ns", "net"))
	theirs, _ := os.Readlink(filepath.Join(proc, strconv.Itoa(st.Pid), "ns", "net"))
	s.netns = theirs != "" && theirs != own
	return s
}

// read fills r with one reading.
func (s *statsSampler) read(r *container.StatsResponse) error {
	r.Read = time.Now().UTC()
	var err error
	if r.CPUStats.SystemUsage, r.CPUStats.OnlineCPUs, err = systemCPU(s.proc); err != nil {
		return err
	}
	if s.cgroup != "" {
		err = readCgroupStats(s.cgroup, r, s.hostMem)
	} else {
		err = s.readProcesses(r)
	}
	if err != nil {
		return err
	}
	if s.netns {
		// nil Networks (the host's network) is shown as "--"; a network
		// namespace with only a loopback shows 0B / 0B, as docker's none.
		if r.Networks, err = netDev(s.proc, s.init); err != nil {
			return err
		}
	}
	return nil
}

// readProcesses sums the container's processes: CPU times including
// children they reaped, proportional set size, bytes read and written,
// threads.
func (s *statsSampler) readProcesses(r *container.StatsResponse) error {
	pids, err := containerPIDs(s.proc, s.init)
	if err != nil {
		return err
	}
	var user, system, mem, read, written, threads uint64
	for _, pid := range pids {
		st, err := procfs.ReadStat(s.proc, pid)
		if err != nil {
			continue // ended meanwhile
		}
		user += st.UTime + st.CUTime
		system += st.STime + st.CSTime
		threads += st.Threads
		mem += processMemory(s.proc, pid)
		rd, wr := processIO(s.proc, pid)
		read, written = read+rd, written+wr
	}
	cpu := &r.CPUStats.CPUUsage
	cpu.UsageInUsermode = user * 1e9 / userHZ
	cpu.UsageInKernelmode = system * 1e9 / userHZ
	cpu.TotalUsage = cpu.UsageInUsermode + cpu.UsageInKernelmode
	r.MemoryStats.Usage, r.MemoryStats.Limit = mem, s.hostMem
	r.PidsStats.Current = threads
	r.BlkioStats.IoServiceBytesRecursive = []container.BlkioStatEntry{{Op: "read", Value: read}, {Op: "write", Value: written}}
	return nil
}

// processMemory is the process's proportional set size (its private
// pages and its share of shared ones), or its resident set size when
// smaps_rollup cannot be read.
func processMemory(proc string, pid int) uint64 {
	dir := filepath.Join(proc, strconv.Itoa(pid))
	if kv, err := readKV(filepath.Join(dir, "smaps_rollup"), ":"); err == nil {
		if pss, ok := kv["Pss"]; ok {
			return pss * 1024 // kB
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "statm"))
	if f := strings.Fields(string(data)); err == nil && len(f) > 1 {
		pages, _ := strconv.ParseUint(f[1], 10, 64)
		return pages * uint64(os.Getpagesize())
	}
	return 0
}

// processIO is what the process read from and wrote to storage.
func processIO(proc string, pid int) (read, written uint64) {
	kv, err := readKV(filepath.Join(proc, strconv.Itoa(pid), "io"), ":")
	if err != nil {
		return 0, 0
	}
	return kv["read_bytes"], kv["write_bytes"]
}

// systemCPU is the host's CPU time in nanoseconds (the first seven
// fields of /proc/stat's cpu line, as dockerd sums them) and the number
// of online CPUs.
func systemCPU(proc string) (uint64, uint32, error) {
	data, err := os.ReadFile(filepath.Join(proc, "stat"))
	if err != nil {
		return 0, 0, err
	}
	var total uint64
	var online uint32
	found := false
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 8 && f[0] == "cpu":
			for _, v := range f[1:8] {
				n, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					return 0, 0, fmt.Errorf("%s/stat: %w", proc, err)
				}
				total += n
			}
			found = true
		case len(f) > 0 && strings.HasPrefix(f[0], "cpu"):
			online++
		}
	}
	if !found {
		return 0, 0, fmt.Errorf("%s/stat has no cpu line", proc)
	}
	return total * 1e9 / userHZ, online, nil
}

// netDev reads the interfaces of the process's network namespace, but
// its loopback, as docker reports a container's networks.
func netDev(proc string, pid int) (map[string]container.NetworkStats, error) {
	data, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "net", "dev"))
	if err != nil {
		return nil, err
	}
	out := map[string]container.NetworkStats{}
	for _, line := range strings.Split(string(data), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		f := strings.Fields(rest)
		if !ok || name == "lo" || len(f) < 16 {
			continue
		}
		n := make([]uint64, 16)
		for i := range n {
			n[i], _ = strconv.ParseUint(f[i], 10, 64)
		}
		out[name] = container.NetworkStats{
			RxBytes: n[0], RxPackets: n[1], RxErrors: n[2], RxDropped: n[3],
			TxBytes: n[8], TxPackets: n[9], TxErrors: n[10], TxDropped: n[11],
		}
	}
	return out, nil
}

// readKV reads "key<sep> value [unit]" lines into numbers; lines whose
// value is not a number are skipped.
func readKV(path, sep string) (map[string]uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	kv := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), sep)
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		if n, err := strconv.ParseUint(f[0], 10, 64); err == nil {
			kv[strings.TrimSpace(k)] = n
		}
	}
	return kv, sc.Err()
}
