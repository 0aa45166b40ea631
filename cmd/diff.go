package cmd

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
)

func diffCommand() *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "Inspect changes to files or directories on a container's filesystem",
		ArgsUsage: "CONTAINER",
		Description: `Lists the files and directories the container added (A), changed (C)
or deleted (D), by path. Volumes and other mounts are not part of it.`,
		Action: diffAction,
	}
}

func diffAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("\"diff\" requires exactly 1 argument\nUsage: rrun diff CONTAINER")
	}
	return withEngine(c, func(eng *engine.Engine) error {
		changes, err := eng.Changes(c.Context, c.Args().First())
		if err != nil {
			return err
		}
		for _, ch := range changes {
			fmt.Fprintf(c.App.Writer, "%s %s\n", ch.Kind, ch.Path)
		}
		return nil
	})
}
