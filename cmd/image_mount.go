package cmd

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
)

func imageMountCommand() *cli.Command {
	return &cli.Command{
		Name:        "mount",
		Usage:       "Mount an image's root filesystem read-only and print its path",
		ArgsUsage:   "IMAGE",
		Description: "The mount lives in rrun's rootless mount namespace: look at it with `rrun unshare`, as with podman image mount.",
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("\"image mount\" requires exactly 1 argument")
			}
			return withEngine(c, func(eng *engine.Engine) error {
				dir, err := eng.Images.Mount(c.Context, c.Args().First())
				if err != nil {
					return err
				}
				fmt.Fprintln(c.App.Writer, dir)
				return nil
			})
		},
	}
}

func imageUnmountCommand() *cli.Command {
	return &cli.Command{
		Name:      "unmount",
		Aliases:   []string{"umount"},
		Usage:     "Unmount an image mounted with `rrun image mount`",
		ArgsUsage: "IMAGE",
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("\"image unmount\" requires exactly 1 argument")
			}
			return withEngine(c, func(eng *engine.Engine) error {
				return eng.Images.Unmount(c.Context, c.Args().First())
			})
		},
	}
}
