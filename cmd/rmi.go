package cmd

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
	"github.com/rrun/rrun/pkg/storage"
)

func rmiFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "force removal of the image"},
		&cli.BoolFlag{Name: "no-prune", Usage: "do not delete untagged parents (rrun keeps none; accepted for docker compatibility)"},
	}
}

func rmiCommand() *cli.Command {
	return &cli.Command{
		Name:      "rmi",
		Usage:     "Remove one or more images",
		ArgsUsage: "IMAGE [IMAGE...]",
		Flags:     rmiFlags(),
		Action:    rmiAction,
	}
}

// rmiAction removes each image in turn, reports every failure, and fails
// if any did, as docker rmi does.
func rmiAction(c *cli.Context) error {
	if c.NArg() < 1 {
		return usageError("\"rmi\" requires at least 1 argument\nUsage: rrun rmi IMAGE [IMAGE...]")
	}
	return withEngine(c, func(eng *engine.Engine) error {
		failed := false
		for _, name := range c.Args().Slice() {
			resp, err := eng.Images.Remove(c.Context, name, storage.RemoveOptions{Force: c.Bool("force")})
			if err != nil {
				fmt.Fprintf(c.App.ErrWriter, "Error: %v\n", err)
				failed = true
				continue
			}
			for _, r := range resp {
				if r.Untagged != "" {
					fmt.Fprintf(c.App.Writer, "Untagged: %s\n", r.Untagged)
				}
				if r.Deleted != "" {
					fmt.Fprintf(c.App.Writer, "Deleted: %s\n", r.Deleted)
				}
			}
		}
		if failed {
			return &exitCodeError{code: exitError}
		}
		return nil
	})
}
