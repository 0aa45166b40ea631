package cmd

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
)

func TestStatsRow(t *testing.T) {
	id := strings.Repeat("a", 64)
	if row := newStatsRow("web", nil, false, false); row.CPUPerc != "--" || row.MemUsage != "-- / --" || row.ID != "web" {
		t.Errorf("no sample: %+v", row)
	}
	stopped := &container.StatsResponse{ID: id, Name: "/web"}
	if row := newStatsRow("web", stopped, false, false); row != (statsRow{Container: "web", ID: id[:12], Name: "web",
		CPUPerc: "0.00%", MemUsage: "0B / 0B", MemPerc: "0.00%", NetIO: "0B / 0B", BlockIO: "0B / 0B", PIDs: "0"}) {
		t.Errorf("stopped: %+v", row)
	}
	s := &container.StatsResponse{
		ID: id, Name: "/web", Read: time.Now(),
		PreCPUStats: container.CPUStats{CPUUsage: container.CPUUsage{TotalUsage: 1e9}, SystemUsage: 100e9, OnlineCPUs: 2},
		CPUStats:    container.CPUStats{CPUUsage: container.CPUUsage{TotalUsage: 1.5e9}, SystemUsage: 102e9, OnlineCPUs: 2},
		MemoryStats: container.MemoryStats{Usage: 3 << 20, Limit: 1 << 30, Stats: map[string]uint64{"inactive_file": 1 << 20}},
		PidsStats:   container.PidsStats{Current: 3},
		BlkioStats: container.BlkioStats{IoServiceBytesRecursive: []container.BlkioStatEntry{
			{Op: "read", Value: 1000}, {Op: "Write", Value: 2000}, {Op: "read", Value: 1000},
		}},
	}
	want := statsRow{Container: "web", ID: id[:12], Name: "web", CPUPerc: "50.00%", MemUsage: "2MiB / 1GiB", MemPerc: "0.20%",
		NetIO: "--", BlockIO: "2kB / 2kB", PIDs: "3"}
	if row := newStatsRow("web", s, false, false); row != want {
		t.Errorf("host network:\n%+v\nwant\n%+v", row, want)
	}
	s.Networks = map[string]container.NetworkStats{"eth0": {RxBytes: 1500, TxBytes: 10}, "eth1": {RxBytes: 500}}
	if row := newStatsRow("web", s, false, true); row.NetIO != "2kB / 10B" || row.ID != id {
		t.Errorf("own network, no-trunc: %+v", row)
	}
	if row := newStatsRow("web", s, true, false); row.PIDs != "--" || row.Name != "web" {
		t.Errorf("invalid: %+v", row)
	}
	// The first streamed sample has no previous reading: 0%, not the
	// average since boot.
	s.PreCPUStats = container.CPUStats{}
	if row := newStatsRow("web", s, false, false); row.CPUPerc != "0.00%" {
		t.Errorf("first sample: %+v", row)
	}
}

func TestStatsScreen(t *testing.T) {
	var b bytes.Buffer
	s := &statsScreen{w: &b, terminal: true}
	_ = s.show([]byte("A\nB\n"))
	_ = s.show([]byte("C\n"))
	if want := "\033[2J\033[HA\033[K\nB\033[K\n\033[J\033[HC\033[K\n\033[J"; b.String() != want {
		t.Errorf("terminal: %q", b.String())
	}
	b.Reset()
	s = &statsScreen{w: &b}
	_ = s.show([]byte("A\n"))
	_ = s.show([]byte("B\n"))
	if b.String() != "A\nB\n" {
		t.Errorf("not a terminal: %q", b.String())
	}
}
