package cmd

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/image"
	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
	"github.com/rrun/rrun/pkg/storage"
)

// docker's confirmations, word for word.
const (
	pruneDanglingWarning = "WARNING! This will remove all dangling images.\nAre you sure you want to continue?"
	pruneAllWarning      = "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?"
)

func imagePruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "Remove unused images",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove all unused images, not just dangling ones"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
			&cli.StringSliceFlag{Name: "filter", Usage: "provide filter values (until=<timestamp>, label=<key>[=<value>], label!=<key>[=<value>])"},
		},
		Action: imagePruneAction,
	}
}

func imagePruneAction(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError("\"image prune\" accepts no arguments\nUsage: rrun image prune [OPTIONS]")
	}
	filters, err := storage.ParseFilters(c.StringSlice("filter"))
	if err != nil {
		return err
	}
	opts := storage.PruneOptions{All: c.Bool("all"), Filters: filters}
	return withEngine(c, func(eng *engine.Engine) error {
		// Asked here, inside the namespace: the command runs twice, and
		// only this second run may read the answer.
		if !c.Bool("force") {
			warning := pruneDanglingWarning
			if opts.All {
				warning = pruneAllWarning
			}
			if !confirm(c.App.Reader, c.App.Writer, warning) {
				return nil // docker: nothing more printed, status 0
			}
		}
		report, err := eng.Images.Prune(c.Context, opts)
		if report != nil {
			printPruneReport(c.App.Writer, report)
		}
		return err
	})
}

// confirm asks a yes/no question as docker's CLI does; only y or Y is yes.
func confirm(in io.Reader, out io.Writer, question string) bool {
	fmt.Fprint(out, question+" [y/N] ")
	sc := bufio.NewScanner(in)
	if !sc.Scan() {
		return false
	}
	return strings.EqualFold(strings.TrimSpace(sc.Text()), "y")
}

// printPruneReport prints docker's prune summary.
func printPruneReport(w io.Writer, report *image.PruneReport) {
	if len(report.ImagesDeleted) > 0 {
		var sb strings.Builder
		sb.WriteString("Deleted Images:\n")
		for _, d := range report.ImagesDeleted {
			if d.Untagged != "" {
				fmt.Fprintf(&sb, "untagged: %s\n", d.Untagged)
			} else {
				fmt.Fprintf(&sb, "deleted: %s\n", d.Deleted)
			}
		}
		fmt.Fprintln(w, sb.String())
	}
	fmt.Fprintln(w, "Total reclaimed space:", units.HumanSize(float64(report.SpaceReclaimed)))
}
