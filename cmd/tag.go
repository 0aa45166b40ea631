package cmd

import (
	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
)

func tagCommand() *cli.Command {
	return &cli.Command{
		Name:      "tag",
		Usage:     "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
		ArgsUsage: "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
		Action:    tagAction,
	}
}

func tagAction(c *cli.Context) error {
	if c.NArg() != 2 {
		return usageError("\"tag\" requires exactly 2 arguments\nUsage: rrun tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]")
	}
	return withEngine(c, func(eng *engine.Engine) error {
		return eng.Images.Tag(c.Context, c.Args().Get(0), c.Args().Get(1))
	})
}
