package cmd

import (
	"fmt"
	"io"
	"strings"

	"github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
)

func infoCommand() *cli.Command {
	return &cli.Command{
		Name:  "info",
		Usage: "Display system-wide information",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "format the output using a Go template, or 'json'"},
		},
		Action: func(c *cli.Context) error {
			return withEngine(c, func(eng *engine.Engine) error {
				info, err := eng.Info()
				if err != nil {
					return err
				}
				if c.String("format") != "" {
					return printInspectOne(c, info)
				}
				printInfo(c.App.Writer, info)
				return nil
			})
		},
	}
}

// printInspectOne formats a single object: JSON for "json", else the template.
func printInspectOne(c *cli.Context, obj any) error {
	if c.String("format") == "json" {
		return printJSON(c.App.Writer, obj)
	}
	return printInspect(c, []any{obj})
}

func printInfo(w io.Writer, info *engine.Info) {
	p := func(indent int, k string, v any) {
		fmt.Fprintf(w, "%s%s: %v\n", strings.Repeat(" ", indent), k, v)
	}
	p(0, "Version", info.Version)
	fmt.Fprintln(w, "Host:")
	p(1, "Operating System", info.Host.OS)
	p(1, "Kernel Version", info.Host.Kernel)
	p(1, "Architecture", info.Host.Arch)
	p(1, "CPUs", info.Host.CPUs)
	p(1, "Total Memory", units.BytesSize(float64(info.Host.MemTotalBytes)))
	p(1, "Rootless", info.Host.Rootless)
	p(1, "Host UID", info.Host.HostUID)
	fmt.Fprintln(w, " UID Map:")
	for _, m := range info.Host.UIDMap {
		fmt.Fprintf(w, "  container %d -> host %d (%d ids)\n", m.ContainerID, m.HostID, m.Size)
	}
	fmt.Fprintln(w, " GID Map:")
	for _, m := range info.Host.GIDMap {
		fmt.Fprintf(w, "  container %d -> host %d (%d ids)\n", m.ContainerID, m.HostID, m.Size)
	}
	p(1, "Cgroup Version", info.Host.Cgroups.Version)
	p(1, "Cgroup Limits", info.Host.Cgroups.Limits)
	if info.Host.Cgroups.Note != "" {
		p(1, "Cgroup Note", info.Host.Cgroups.Note)
	}
	fmt.Fprintln(w, "Network:")
	p(1, "Stack", info.Network.Stack)
	p(1, "TAP (/dev/net/tun)", info.Network.TAP)
	p(1, "Ping from containers", info.Network.Ping)
	fmt.Fprintln(w, "Storage:")
	p(1, "Driver", info.Store.Driver)
	for _, kv := range info.Store.DriverStatus {
		p(2, kv[0], kv[1])
	}
	if info.Store.Warning != "" {
		p(1, "Warning", info.Store.Warning)
	}
	p(1, "Graph Root", info.Store.GraphRoot)
	p(1, "Run Root", info.Store.RunRoot)
	p(1, "Images", info.Store.Images)
	fmt.Fprintln(w, "Registries:")
	p(1, "Search", strings.Join(info.Registries.Search, ", "))
	for _, r := range info.Registries.Registry {
		fmt.Fprintf(w, "  %s -> %s", r.Prefix, r.Location)
		if r.Insecure {
			fmt.Fprint(w, " (insecure)")
		}
		fmt.Fprintln(w)
	}
}
