package cmd

import (
	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
)

func renameCommand() *cli.Command {
	return &cli.Command{
		Name:      "rename",
		Usage:     "Rename a container",
		ArgsUsage: "CONTAINER NEW_NAME",
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return usageError("\"rename\" requires exactly 2 arguments\nUsage: rrun rename CONTAINER NEW_NAME")
			}
			return withEngine(c, func(eng *engine.Engine) error {
				return eng.Rename(c.Context, c.Args().Get(0), c.Args().Get(1))
			})
		},
	}
}
