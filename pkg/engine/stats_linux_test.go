package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/moby/api/types/container"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStatsFromProc(t *testing.T) {
	proc := fakeProc(t, map[int][2]any{1: {0, "host"}, 100: {1, "c1"}, 101: {100, "c1"}})
	writeFiles(t, proc, map[string]string{
		"stat":             "cpu  100 0 100 700 50 25 25 10 0 0\ncpu0 50 0 50 350 25 12 13 5 0 0\ncpu1 50 0 50 350 25 13 12 5 0 0\nintr 1\n",
		"100/smaps_rollup": "55d0-7ff [rollup]\nRss:                1024 kB\nPss:                 600 kB\n",
		"101/statm":        "100 10 5 1 0 20 0\n",
		"100/io":           "rchar: 5\nread_bytes: 4096\nwrite_bytes: 512\n",
		"101/io":           "read_bytes: 4096\nwrite_bytes: 0\n",
		"100/net/dev":      "Inter-|   Receive |  Transmit\n face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop fifo colls carrier compressed\n    lo: 9 9 0 0 0 0 0 0 9 9 0 0 0 0 0 0\n  eth0: 1000 10 1 2 0 0 0 0 2000 20 3 4 0 0 0 0\n",
	})
	total, online, err := systemCPU(proc)
	if err != nil || total != 1000*1e9/userHZ || online != 2 {
		t.Fatalf("systemCPU: %d %d %v", total, online, err)
	}
	s := &statsSampler{proc: proc, init: 100, netns: true, hostMem: 8 << 30}
	var r container.StatsResponse
	if err := s.read(&r); err != nil {
		t.Fatal(err)
	}
	// fakeProc gives every process utime 250, stime 50, cutime 30,
	// cstime 20 and 3 threads.
	if u := r.CPUStats.CPUUsage; u.UsageInUsermode != 2*280*1e9/userHZ || u.UsageInKernelmode != 2*70*1e9/userHZ || u.TotalUsage != 2*350*1e9/userHZ {
		t.Errorf("cpu %+v", u)
	}
	if r.MemoryStats.Usage != 600*1024+10*uint64(os.Getpagesize()) || r.MemoryStats.Limit != 8<<30 {
		t.Errorf("memory %+v", r.MemoryStats)
	}
	if r.PidsStats.Current != 6 {
		t.Errorf("pids %+v", r.PidsStats)
	}
	if io := r.BlkioStats.IoServiceBytesRecursive; len(io) != 2 || io[0].Value != 8192 || io[1].Value != 512 {
		t.Errorf("block I/O %+v", io)
	}
	if n, ok := r.Networks["eth0"]; len(r.Networks) != 1 || !ok || n.RxBytes != 1000 || n.TxBytes != 2000 || n.RxDropped != 2 || n.TxErrors != 3 {
		t.Errorf("networks %+v", r.Networks)
	}
	// On the host's network, no figure.
	s.netns = false
	r = container.StatsResponse{}
	if err := s.read(&r); err != nil || r.Networks != nil {
		t.Errorf("host network: %+v %v", r.Networks, err)
	}
}

func TestCgroupStats(t *testing.T) {
	if got := unifiedCgroupPath("12:pids:/x\n0::/user.slice/rrun/abc\n"); got != "/user.slice/rrun/abc" {
		t.Errorf("unifiedCgroupPath %q", got)
	}
	dir := t.TempDir()
	var r container.StatsResponse
	if err := readCgroupStats(dir, &r, 1); err == nil {
		t.Fatal("a cgroup without cpu.stat is not an error")
	}
	writeFiles(t, dir, map[string]string{
		"cpu.stat":       "usage_usec 3000\nuser_usec 2000\nsystem_usec 1000\nnr_periods 5\nnr_throttled 1\nthrottled_usec 7\n",
		"memory.current": "4096\n",
		"memory.max":     "max\n",
		"memory.stat":    "anon 1024\ninactive_file 512\n",
		"pids.current":   "4\n",
		"pids.max":       "100\n",
		"io.stat":        "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n",
	})
	if err := readCgroupStats(dir, &r, 1<<30); err != nil {
		t.Fatal(err)
	}
	if u := r.CPUStats.CPUUsage; u.TotalUsage != 3000000 || u.UsageInUsermode != 2000000 || u.UsageInKernelmode != 1000000 {
		t.Errorf("cpu %+v", u)
	}
	if th := r.CPUStats.ThrottlingData; th.Periods != 5 || th.ThrottledPeriods != 1 || th.ThrottledTime != 7000 {
		t.Errorf("throttling %+v", th)
	}
	if m := r.MemoryStats; m.Usage != 4096 || m.Limit != 1<<30 || m.Stats["inactive_file"] != 512 {
		t.Errorf("memory %+v", m)
	}
	if r.PidsStats.Current != 4 || r.PidsStats.Limit != 100 {
		t.Errorf("pids %+v", r.PidsStats)
	}
	want := []container.BlkioStatEntry{{Major: 8, Op: "read", Value: 100}, {Major: 8, Op: "write", Value: 200}}
	if got := r.BlkioStats.IoServiceBytesRecursive; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("io %+v", got)
	}
}
