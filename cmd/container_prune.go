package cmd

import (
	"fmt"
	"strings"

	"github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
	"github.com/rrun/rrun/pkg/storage"
)

// docker's confirmation, word for word.
const pruneContainersWarning = "WARNING! This will remove all stopped containers.\nAre you sure you want to continue?"

func containerPruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "Remove all stopped containers",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
			&cli.StringSliceFlag{Name: "filter", Usage: "provide filter values (until=<timestamp>, label=<key>[=<value>], label!=<key>[=<value>])"},
		},
		Action: containerPruneAction,
	}
}

func containerPruneAction(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError("\"container prune\" accepts no arguments\nUsage: rrun container prune [OPTIONS]")
	}
	filters, err := storage.ParseFilters(c.StringSlice("filter"))
	if err != nil {
		return err
	}
	return withEngine(c, func(eng *engine.Engine) error {
		// Asked inside the namespace, as image prune does: only this run
		// of the command may read the answer.
		if !c.Bool("force") && !confirm(c.App.Reader, c.App.Writer, pruneContainersWarning) {
			return nil
		}
		report, err := eng.PruneContainers(c.Context, filters)
		if err != nil {
			return err
		}
		if len(report.ContainersDeleted) > 0 {
			fmt.Fprintln(c.App.Writer, "Deleted Containers:\n"+strings.Join(report.ContainersDeleted, "\n")+"\n")
		}
		fmt.Fprintln(c.App.Writer, "Total reclaimed space:", units.HumanSize(float64(report.SpaceReclaimed)))
		return nil
	})
}
