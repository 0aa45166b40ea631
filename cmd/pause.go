package cmd

import (
	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
)

const freezerNote = "Pausing freezes the container's processes with the cgroup freezer, which needs the container to\n" +
	"have a cgroup v2 of its own: rootless, that takes systemd delegation (see `rrun info`)."

func pauseCommand() *cli.Command {
	return &cli.Command{
		Name:        "pause",
		Usage:       "Pause all processes within one or more containers",
		ArgsUsage:   "CONTAINER [CONTAINER...]",
		Description: freezerNote,
		Action: func(c *cli.Context) error {
			return eachContainer(c, "pause", func(eng *engine.Engine, ref string) error {
				return eng.Pause(c.Context, ref)
			})
		},
	}
}

func unpauseCommand() *cli.Command {
	return &cli.Command{
		Name:        "unpause",
		Usage:       "Unpause all processes within one or more containers",
		ArgsUsage:   "CONTAINER [CONTAINER...]",
		Description: freezerNote,
		Action: func(c *cli.Context) error {
			return eachContainer(c, "unpause", func(eng *engine.Engine, ref string) error {
				return eng.Unpause(c.Context, ref)
			})
		},
	}
}
