package cmd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
	"github.com/rrun/rrun/pkg/rootless"
)

const statsTable = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"

func statsCommand() *cli.Command {
	return &cli.Command{
		Name:      "stats",
		Usage:     "Display a live stream of container(s) resource usage statistics",
		ArgsUsage: "[CONTAINER...]",
		Description: "With a cgroup v2 of its own (rootless: systemd delegation), a container's figures are its cgroup's.\n" +
			"Without one, as on cgroup v1 and hybrid hosts, they are summed from /proc over the container's\n" +
			"processes, and some cannot be given:\n" +
			"  MEM USAGE is their proportional set size: no page cache or kernel memory, which a cgroup counts;\n" +
			"  LIMIT is the host's memory, as docker shows for a container without a limit;\n" +
			"  BLOCK I/O counts only the processes still running;\n" +
			"  NET I/O is \"--\" for a container on the host's network, whose traffic cannot be told apart.\n" +
			"rrun says so once, on stderr, when this host is one of those.\n\n" + statsHostLine(),
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show all containers (default shows just running)"},
			&cli.BoolFlag{Name: "no-stream", Usage: "disable streaming stats and only pull the first result"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "do not truncate output"},
			&cli.StringFlag{Name: "format", Usage: "format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template"},
		},
		Action: statsAction,
	}
}

// statsHostLine says which of the two this host is.
func statsHostLine() string {
	if engine.StatsNote() != "" {
		return "This host (cgroup " + engine.DetectCgroups(rootless.HostUID()).Version + ") gives rootless containers no cgroup: figures come from /proc."
	}
	return "This host gives containers cgroups: figures come from them."
}

// statsRow is one line of `rrun stats`, with docker's field names.
type statsRow struct {
	Container, ID, Name, CPUPerc, MemUsage, MemPerc, NetIO, BlockIO, PIDs string
}

var statsHeader = statsRow{Container: "CONTAINER", ID: "CONTAINER ID", Name: "NAME", CPUPerc: "CPU %",
	MemUsage: "MEM USAGE / LIMIT", MemPerc: "MEM %", NetIO: "NET I/O", BlockIO: "BLOCK I/O", PIDs: "PIDS"}

// statsEntry is one container on the screen and its latest sample.
type statsEntry struct {
	ref     string // as the user named it, or the id
	mu      sync.Mutex
	sample  *container.StatsResponse
	invalid bool // it went away: docker shows "--"
	running bool // a sampler runs for it
}

func statsAction(c *cli.Context) error {
	if _, err := newFormatter(io.Discard, c.String("format"), statsTable); err != nil {
		return err
	}
	named := c.Args().Slice()
	noStream, all := c.Bool("no-stream"), c.Bool("all")
	return withEngine(c, func(eng *engine.Engine) error {
		ctx, cancel := context.WithCancel(c.Context)
		var wg sync.WaitGroup
		defer func() { cancel(); wg.Wait() }() // before the engine closes
		var entries []*statsEntry              // shown, in order
		// start runs a sampler for e; e.mu is held.
		start := func(e *statsEntry) {
			e.running = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := eng.Stats(ctx, e.ref, engine.StatsOptions{Stream: !noStream}, func(r *container.StatsResponse) error {
					e.mu.Lock()
					e.sample = r
					e.mu.Unlock()
					return nil
				})
				e.mu.Lock()
				e.running, e.invalid = false, err != nil && ctx.Err() == nil
				e.mu.Unlock()
			}()
		}
		// refresh starts a sampler for each container shown. Named ones
		// must all exist; without names, the list follows ps (-a).
		refresh := func() error {
			if len(named) > 0 {
				if entries == nil {
					for _, ref := range named {
						if _, err := eng.Inspect(ctx, ref); err != nil {
							return err
						}
						entries = append(entries, &statsEntry{ref: ref})
					}
					for _, e := range entries {
						e.mu.Lock()
						start(e)
						e.mu.Unlock()
					}
				}
				return nil
			}
			list, err := eng.List(ctx, engine.ListOptions{All: all})
			if err != nil {
				return err
			}
			var next []*statsEntry
			for _, s := range list {
				var e *statsEntry
				for _, old := range entries {
					if old.ref == s.ID {
						e = old
					}
				}
				if e == nil {
					e = &statsEntry{ref: s.ID}
				}
				// A sampler ends when its container stops: one that runs
				// (again) gets a new one.
				e.mu.Lock()
				if !e.running && (e.sample == nil || !noStream && s.State == container.StateRunning) {
					start(e)
				}
				e.mu.Unlock()
				next = append(next, e)
			}
			entries = next
			return nil
		}
		if err := refresh(); err != nil {
			return err
		}
		screen := &statsScreen{w: c.App.Writer, terminal: !noStream && isTerminal(c.App.Writer)}
		// Said once, on stderr: before the output, or on a terminal that
		// each frame clears, when the command ends.
		if note := engine.StatsNote(); note != "" {
			warn := func() { fmt.Fprintf(c.App.ErrWriter, "WARNING: %s\n", note) }
			if screen.terminal {
				defer warn()
			} else {
				warn()
			}
		}
		if noStream {
			wg.Wait()
			return writeStats(c.App.Writer, c.String("format"), c.Bool("no-trunc"), entries)
		}
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		// The first frame waits for the first samples, briefly.
		waitFirst(ctx, entries, 500*time.Millisecond)
		for {
			var buf bytes.Buffer
			if err := writeStats(&buf, c.String("format"), c.Bool("no-trunc"), entries); err != nil {
				return err
			}
			if err := screen.show(buf.Bytes()); err != nil {
				return err
			}
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
			if err := refresh(); err != nil && !errdefs.IsNotFound(err) {
				return err
			}
		}
	})
}

// waitFirst waits until every entry has a sample, or for limit.
func waitFirst(ctx context.Context, entries []*statsEntry, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		ready := true
		for _, e := range entries {
			e.mu.Lock()
			ready = ready && e.sample != nil
			e.mu.Unlock()
		}
		if ready {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// writeStats prints one table (or one JSON or template line per
// container).
func writeStats(w io.Writer, format string, noTrunc bool, entries []*statsEntry) error {
	f, err := newFormatter(w, format, statsTable)
	if err != nil {
		return err
	}
	if err := f.writeHeader(statsHeader); err != nil {
		return err
	}
	for _, e := range entries {
		e.mu.Lock()
		row := newStatsRow(e.ref, e.sample, e.invalid, noTrunc)
		e.mu.Unlock()
		if err := f.row(row); err != nil {
			return err
		}
	}
	return f.flush()
}

// newStatsRow computes docker's columns from a sample as docker's CLI
// does.
func newStatsRow(ref string, s *container.StatsResponse, invalid, noTrunc bool) statsRow {
	row := statsRow{Container: ref, ID: displayID(ref, noTrunc), Name: "--"}
	if s != nil {
		row.ID, row.Name = displayID(s.ID, noTrunc), strings.TrimPrefix(s.Name, "/")
		if row.Container == "" {
			row.Container = row.ID
		}
	}
	if s == nil || invalid {
		row.CPUPerc, row.MemUsage, row.MemPerc, row.NetIO, row.BlockIO, row.PIDs = "--", "-- / --", "--", "--", "--", "--"
		return row
	}
	mem, limit := memoryUsage(s.MemoryStats), float64(s.MemoryStats.Limit)
	memPerc := 0.0
	if limit != 0 {
		memPerc = mem / limit * 100
	}
	row.CPUPerc = fmt.Sprintf("%.2f%%", cpuPercent(s.PreCPUStats, s.CPUStats))
	row.MemUsage = units.BytesSize(mem) + " / " + units.BytesSize(limit)
	row.MemPerc = fmt.Sprintf("%.2f%%", memPerc)
	row.NetIO = "--" // the host's network: not the container's alone
	if s.Networks != nil || s.Read.IsZero() {
		var rx, tx float64
		for _, n := range s.Networks {
			rx, tx = rx+float64(n.RxBytes), tx+float64(n.TxBytes)
		}
		row.NetIO = units.HumanSizeWithPrecision(rx, 3) + " / " + units.HumanSizeWithPrecision(tx, 3)
	}
	var read, write float64
	for _, b := range s.BlkioStats.IoServiceBytesRecursive {
		switch strings.ToLower(b.Op) {
		case "read":
			read += float64(b.Value)
		case "write":
			write += float64(b.Value)
		}
	}
	row.BlockIO = units.HumanSizeWithPrecision(read, 3) + " / " + units.HumanSizeWithPrecision(write, 3)
	row.PIDs = fmt.Sprint(s.PidsStats.Current)
	return row
}

// cpuPercent is docker's: the container's share of the host's CPU time
// between two readings, times the number of CPUs.
func cpuPercent(prev, cur container.CPUStats) float64 {
	cpuDelta := float64(cur.CPUUsage.TotalUsage) - float64(prev.CPUUsage.TotalUsage)
	systemDelta := float64(cur.SystemUsage) - float64(prev.SystemUsage)
	cpus := float64(cur.OnlineCPUs)
	if cpus == 0 {
		cpus = float64(len(cur.CPUUsage.PercpuUsage))
	}
	if prev.SystemUsage == 0 || systemDelta <= 0 || cpuDelta <= 0 {
		return 0
	}
	return cpuDelta / systemDelta * cpus * 100
}

// memoryUsage is docker's: the usage without the inactive page cache a
// cgroup counts (v1 total_inactive_file, v2 inactive_file).
func memoryUsage(m container.MemoryStats) float64 {
	for _, key := range []string{"total_inactive_file", "inactive_file"} {
		if v, ok := m.Stats[key]; ok && v < m.Usage {
			return float64(m.Usage - v)
		}
	}
	return float64(m.Usage)
}

// statsScreen shows successive tables: redrawn in place on a terminal,
// as docker does, one after another elsewhere.
type statsScreen struct {
	w        io.Writer
	terminal bool
	drawn    bool
}

func (s *statsScreen) show(table []byte) error {
	if !s.terminal {
		_, err := s.w.Write(table)
		return err
	}
	var b bytes.Buffer
	if !s.drawn {
		b.WriteString("\033[2J") // clear the screen once
		s.drawn = true
	}
	b.WriteString("\033[H") // home, then each line erased to its end
	for _, line := range strings.SplitAfter(string(table), "\n") {
		if line == "" {
			continue
		}
		b.WriteString(strings.TrimSuffix(line, "\n") + "\033[K\n")
	}
	b.WriteString("\033[J") // and whatever the last frame left below
	_, err := s.w.Write(b.Bytes())
	return err
}
