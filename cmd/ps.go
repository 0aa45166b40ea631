package cmd

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
	"github.com/rrun/rrun/pkg/storage"
)

func psFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show all containers (default shows just running)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only display container IDs"},
		&cli.IntFlag{Name: "last", Aliases: []string{"n"}, Value: -1, Usage: "show n last created containers (includes all states)"},
		&cli.BoolFlag{Name: "latest", Aliases: []string{"l"}, Usage: "show the latest created container (includes all states)"},
		&cli.BoolFlag{Name: "size", Aliases: []string{"s"}, Usage: "display total file sizes"},
		&cli.BoolFlag{Name: "no-trunc", Usage: "don't truncate output"},
		&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter output based on conditions provided: id, name, label, status, exited, ancestor, before, since"},
		&cli.StringFlag{Name: "format", Usage: "format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template"},
	}
}

func psCommand() *cli.Command {
	return &cli.Command{Name: "ps", Usage: "List containers", Flags: psFlags(), Action: psAction}
}

// psRow is one line of `rrun ps`, with docker's field names.
type psRow struct {
	ID, Image, Command, CreatedAt, RunningFor, Ports, State, Status, Size, Names, Labels, Mounts, Networks string
}

func psAction(c *cli.Context) error {
	filters, err := storage.ParseFilters(c.StringSlice("filter"))
	if err != nil {
		return err
	}
	opts := engine.ListOptions{All: c.Bool("all"), Filters: filters, Size: c.Bool("size")}
	if n := c.Int("last"); n > 0 {
		opts.All, opts.Limit = true, n
	}
	if c.Bool("latest") {
		opts.All, opts.Limit = true, 1
	}
	noTrunc := c.Bool("no-trunc")
	return withEngine(c, func(eng *engine.Engine) error {
		list, err := eng.List(c.Context, opts)
		if err != nil {
			return err
		}
		if c.Bool("quiet") {
			for _, s := range list {
				fmt.Fprintln(c.App.Writer, displayID(s.ID, noTrunc))
			}
			return nil
		}
		table := "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
		if c.Bool("size") {
			table += "\t{{.Size}}"
		}
		f, err := newFormatter(c.App.Writer, c.String("format"), table)
		if err != nil {
			return err
		}
		if err := f.writeHeader(psRow{ID: "CONTAINER ID", Image: "IMAGE", Command: "COMMAND", CreatedAt: "CREATED AT",
			RunningFor: "CREATED", Ports: "PORTS", State: "STATE", Status: "STATUS", Size: "SIZE", Names: "NAMES",
			Labels: "LABELS", Mounts: "MOUNTS", Networks: "NETWORKS"}); err != nil {
			return err
		}
		for _, s := range list {
			if err := f.row(newPSRow(s, noTrunc)); err != nil {
				return err
			}
		}
		return f.flush()
	})
}

func newPSRow(s container.Summary, noTrunc bool) psRow {
	created := time.Unix(s.Created, 0)
	cmd := s.Command
	if !noTrunc && len(cmd) > 20 {
		cmd = cmd[:19] + "…"
	}
	var labels []string
	for k, v := range s.Labels {
		labels = append(labels, k+"="+v)
	}
	names := make([]string, len(s.Names))
	for i, n := range s.Names {
		names[i] = strings.TrimPrefix(n, "/")
	}
	return psRow{
		ID:         displayID(s.ID, noTrunc),
		Image:      s.Image,
		Command:    strconv.Quote(cmd),
		CreatedAt:  created.Format("2006-01-02 15:04:05 -0700 MST"),
		RunningFor: units.HumanDuration(time.Since(created)) + " ago",
		State:      string(s.State),
		Status:     s.Status,
		Size:       units.HumanSizeWithPrecision(float64(s.SizeRw), 3) + " (virtual " + units.HumanSizeWithPrecision(float64(s.SizeRootFs), 3) + ")",
		Names:      strings.Join(names, ","),
		Labels:     strings.Join(labels, ","),
		Networks:   networkNames(s),
		Ports:      displayPorts(s.Ports),
	}
}

// networkNames is ps's NETWORKS column: the running container's networks,
// else its network mode.
func networkNames(s container.Summary) string {
	if s.NetworkSettings == nil || len(s.NetworkSettings.Networks) == 0 {
		return s.HostConfig.NetworkMode
	}
	names := make([]string, 0, len(s.NetworkSettings.Networks))
	for name := range s.NetworkSettings.Networks {
		names = append(names, name)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// displayPorts is ps's PORTS column as docker's CLI writes it:
// "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp, 443/tcp".
func displayPorts(ports []container.PortSummary) string {
	parts := make([]string, 0, len(ports))
	for _, p := range ports {
		if p.PublicPort == 0 {
			parts = append(parts, fmt.Sprintf("%d/%s", p.PrivatePort, p.Type))
			continue
		}
		host := p.IP.String()
		if p.IP.Is6() {
			host = "[" + host + "]"
		}
		parts = append(parts, fmt.Sprintf("%s:%d->%d/%s", host, p.PublicPort, p.PrivatePort, p.Type))
	}
	return strings.Join(parts, ", ")
}
