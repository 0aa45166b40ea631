package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/rrun/rrun/pkg/rootless"
)

// StatsOptions are docker's GET /containers/{id}/stats query.
type StatsOptions struct {
	// Stream sends a sample every second until ctx ends or the container
	// stops; the first has no previous reading (CPU % reads 0).
	Stream bool
	// OneShot, without Stream, sends one reading at once, without the
	// earlier one CPU % needs; otherwise a single sample comes after two
	// readings half a second apart.
	OneShot bool
}

const (
	statsInterval = time.Second            // between streamed samples
	statsPreRead  = 500 * time.Millisecond // between a single sample's two readings
)

// Stats samples a running container's resource use as docker's stats
// endpoint does, and passes each sample to fn. A container that does not
// run gets one empty sample, as from docker.
//
// With a cgroup v2 of its own, the figures are the cgroup's (cpu.stat,
// memory.current, pids.current, io.stat). Without one (cgroup v1 or
// hybrid hosts, v2 without delegation: see StatsNote) they are summed
// over the container's processes from /proc: CPU time from stat, memory
// as proportional set size from smaps_rollup, bytes read and written
// from io, threads as PIDs; the memory limit is the host's memory, as
// docker shows for a container without a limit.
func (e *Engine) Stats(ctx context.Context, ref string, opts StatsOptions, fn func(*container.StatsResponse) error) error {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return err
	}
	st, err := e.currentState(c.ID)
	if err != nil {
		return err
	}
	empty := &container.StatsResponse{ID: c.ID, Name: "/" + c.Name, OSType: "linux"}
	if !isRunning(st) || !processAlive(st.Pid, st.PidStart, st.BootID) {
		return fn(empty)
	}
	s := newStatsSampler(procRoot, c.ID, st)
	sample := func() (*container.StatsResponse, bool) {
		r := &container.StatsResponse{ID: c.ID, Name: "/" + c.Name, OSType: "linux"}
		if !processAlive(st.Pid, st.PidStart, st.BootID) || s.read(r) != nil {
			stopped := *empty
			return &stopped, false
		}
		return r, true
	}
	wait := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
			return true
		}
	}
	prev, ok := sample()
	if !opts.Stream && (opts.OneShot || !ok) {
		return fn(prev)
	}
	if !opts.Stream {
		if !wait(statsPreRead) {
			return ctx.Err()
		}
		cur, _ := sample()
		cur.PreRead, cur.PreCPUStats = prev.Read, prev.CPUStats
		return fn(cur)
	}
	for {
		if err := fn(prev); err != nil || !ok {
			return err
		}
		if !wait(statsInterval) {
			return nil
		}
		var cur *container.StatsResponse
		if cur, ok = sample(); ok {
			cur.PreRead, cur.PreCPUStats = prev.Read, prev.CPUStats
		}
		prev = cur
	}
}

// StatsNote says, for the user, what this host's stats cannot show;
// empty when containers get cgroups of their own.
func StatsNote() string {
	cg := DetectCgroups(rootless.HostUID())
	if cg.Limits {
		return ""
	}
	return fmt.Sprintf("rootless containers get no cgroup on this host (cgroup %s), so stats are summed from /proc over each container's processes: "+
		"MEM USAGE is their proportional set size (no page cache or kernel memory) and LIMIT the host's memory; "+
		"BLOCK I/O counts only the processes still running; "+
		"NET I/O shows \"--\" for containers on the host's network, whose traffic cannot be told apart", cg.Version)
}
