package cmd

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/volume"
	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
	"github.com/rrun/rrun/pkg/storage"
)

// docker's volume prune confirmations, word for word.
const (
	volumePruneWarning    = "WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?"
	volumePruneAllWarning = "WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?"
)

// volumeCommand is docker's `volume` management command.
func volumeCommand() *cli.Command {
	return &cli.Command{
		Name:  "volume",
		Usage: "Manage volumes",
		Subcommands: []*cli.Command{
			volumeCreateCommand(), volumeInspectCommand(), volumeLsCommand(), volumePruneCommand(), volumeRmCommand(),
		},
	}
}

func volumeCreateCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "Create a volume",
		ArgsUsage: "[VOLUME]",
		// docker's flag parsing: values kept whole, -o and --opt mixed.
		Flags: []cli.Flag{
			stringOpt("driver", "d", "specify volume driver `NAME` (rrun has only local)").withDefault("local"),
			listOpt("label", "", "set metadata for a volume: `KEY[=VALUE]`"),
			listOpt("opt", "o", "set driver specific `OPTION`s: type=tmpfs,device=tmpfs,o=size=…,mode=… or type=none,o=bind,device=DIR"),
		},
		Action: volumeCreateAction,
	}
}

// volumeCreateRequest maps volume create's flags to docker's request.
func volumeCreateRequest(c *cli.Context) (volume.CreateRequest, error) {
	if c.NArg() > 1 {
		return volume.CreateRequest{}, usageError("\"volume create\" requires at most 1 argument\nUsage: rrun volume create [OPTIONS] [VOLUME]")
	}
	r := flagReader{c}
	req := volume.CreateRequest{Name: c.Args().First(), Driver: r.value("driver").get(), Labels: map[string]string{}, DriverOpts: map[string]string{}}
	for _, kv := range r.list("label") {
		req.Labels = setKV(req.Labels, kv)
	}
	for _, kv := range r.list("opt") {
		req.DriverOpts = setKV(req.DriverOpts, kv)
	}
	return req, nil
}

func volumeCreateAction(c *cli.Context) error {
	req, err := volumeCreateRequest(c)
	if err != nil {
		return err
	}
	return withEngine(c, func(eng *engine.Engine) error {
		v, err := eng.VolumeCreate(c.Context, req)
		if err != nil {
			return err
		}
		fmt.Fprintln(c.App.Writer, v.Name)
		return nil
	})
}

func volumeInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "Display detailed information on one or more volumes",
		ArgsUsage: "VOLUME [VOLUME...]",
		Flags:     inspectFlags()[:1],
		Action: func(c *cli.Context) error {
			return inspectObjects(c, func(eng *engine.Engine, name string) (any, error) {
				v, err := eng.VolumeInspect(c.Context, name)
				if errdefs.IsNotFound(err) {
					return nil, errdefs.ErrNotFound.WithMessage("No such volume: " + name)
				}
				return v, err
			})
		},
	}
}

func volumeLsCommand() *cli.Command {
	return &cli.Command{
		Name:    "ls",
		Aliases: []string{"list"},
		Usage:   "List volumes",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only display volume names"},
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "provide filter values: dangling=true|false, driver=NAME, label=KEY[=VALUE], name=REGEXP"},
			&cli.StringFlag{Name: "format", Usage: "format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template"},
		},
		Action: volumeLsAction,
	}
}

// volumeRow is one line of `rrun volume ls`, with docker's field names
// (in the order docker's JSON lists them) so --format templates carry over.
type volumeRow struct {
	Availability, Driver, Group, Labels, Links, Mountpoint, Name, Scope, Size, Status string

	labels map[string]string
}

// Label is docker's {{.Label "key"}}.
func (r volumeRow) Label(name string) string { return r.labels[name] }

func newVolumeRow(v volume.Volume) volumeRow {
	var labels []string
	for _, k := range slices.Sorted(maps.Keys(v.Labels)) {
		labels = append(labels, k+"="+v.Labels[k])
	}
	return volumeRow{
		Availability: "N/A", Driver: v.Driver, Group: "N/A", Labels: strings.Join(labels, ","), Links: "N/A",
		Mountpoint: v.Mountpoint, Name: v.Name, Scope: v.Scope, Size: "N/A", Status: "N/A",
		labels: v.Labels,
	}
}

func volumeLsAction(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError("\"volume ls\" accepts no arguments\nUsage: rrun volume ls [OPTIONS]")
	}
	filters, err := storage.ParseFilters(c.StringSlice("filter"))
	if err != nil {
		return err
	}
	return withEngine(c, func(eng *engine.Engine) error {
		vs, err := eng.VolumeList(c.Context, filters)
		if err != nil {
			return err
		}
		format := c.String("format")
		if c.Bool("quiet") {
			format = "{{.Name}}"
		}
		f, err := newFormatter(c.App.Writer, format, "table {{.Driver}}\t{{.Name}}")
		if err != nil {
			return err
		}
		if err := f.writeHeader(volumeRow{Availability: "AVAILABILITY", Driver: "DRIVER", Group: "GROUP", Labels: "LABELS",
			Links: "LINKS", Mountpoint: "MOUNTPOINT", Name: "VOLUME NAME", Scope: "SCOPE", Size: "SIZE", Status: "STATUS"}); err != nil {
			return err
		}
		for _, v := range vs {
			if err := f.row(newVolumeRow(v)); err != nil {
				return err
			}
		}
		return f.flush()
	})
}

func volumeRmCommand() *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Aliases:   []string{"remove"},
		Usage:     "Remove one or more volumes",
		ArgsUsage: "VOLUME [VOLUME...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not fail when a volume does not exist"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return usageError("\"volume rm\" requires at least 1 argument\nUsage: rrun volume rm [OPTIONS] VOLUME [VOLUME...]")
			}
			return withEngine(c, func(eng *engine.Engine) error {
				failed := false
				for _, name := range c.Args().Slice() {
					if err := eng.VolumeRemove(c.Context, name, c.Bool("force")); err != nil {
						fmt.Fprintf(c.App.ErrWriter, "Error response from daemon: %v\n", err)
						failed = true
						continue
					}
					fmt.Fprintln(c.App.Writer, name)
				}
				if failed {
					return &exitCodeError{code: exitError}
				}
				return nil
			})
		},
	}
}

func volumePruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "Remove unused local volumes",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove all unused volumes, not just anonymous ones"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
			&cli.StringSliceFlag{Name: "filter", Usage: "provide filter values (label=<key>[=<value>], label!=<key>[=<value>])"},
		},
		Action: volumePruneAction,
	}
}

func volumePruneAction(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError("\"volume prune\" accepts no arguments\nUsage: rrun volume prune [OPTIONS]")
	}
	filters, err := storage.ParseFilters(c.StringSlice("filter"))
	if err != nil {
		return err
	}
	all := c.Bool("all")
	if all {
		filters["all"] = []string{"true"}
	}
	return withEngine(c, func(eng *engine.Engine) error {
		// Asked inside the namespace, as image prune does.
		if !c.Bool("force") {
			warning := volumePruneWarning
			if all {
				warning = volumePruneAllWarning
			}
			if !confirm(c.App.Reader, c.App.Writer, warning) {
				return nil
			}
		}
		report, err := eng.VolumePrune(c.Context, filters)
		if report != nil {
			printVolumePruneReport(c.App.Writer, report)
		}
		return err
	})
}

// printVolumePruneReport prints docker's volume prune summary.
func printVolumePruneReport(w io.Writer, report *volume.PruneReport) {
	if len(report.VolumesDeleted) > 0 {
		fmt.Fprintln(w, "Deleted Volumes:\n"+strings.Join(report.VolumesDeleted, "\n")+"\n")
	}
	fmt.Fprintln(w, "Total reclaimed space:", units.HumanSize(float64(report.SpaceReclaimed)))
}
