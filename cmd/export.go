package cmd

import (
	"errors"

	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
)

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "Export a container's filesystem as a tar archive",
		ArgsUsage: "CONTAINER",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to a `FILE`, instead of STDOUT"},
		},
		Action: exportAction,
	}
}

func exportAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("\"export\" requires exactly 1 argument\nUsage: rrun export [OPTIONS] CONTAINER")
	}
	opts := engine.ExportOptions{Output: c.String("output")}
	if opts.Output == "" {
		if isTerminal(c.App.Writer) {
			return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
		}
		opts.Writer = c.App.Writer
	}
	return withEngine(c, func(eng *engine.Engine) error {
		return eng.Export(c.Context, c.Args().First(), opts)
	})
}
