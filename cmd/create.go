package cmd

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
)

func createCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "Create a new container",
		ArgsUsage: "IMAGE [COMMAND] [ARG...]",
		Flags:     containerFlags(false),
		// -h is --hostname, as in docker; the flags bring their own --help.
		HideHelp: true,
		Action: func(c *cli.Context) error {
			opts, err := parseCreateOptions(c, false)
			if err != nil {
				return err
			}
			return withEngine(c, func(eng *engine.Engine) error {
				id, err := createContainer(c, eng, opts)
				if err != nil {
					return &exitCodeError{code: exitUsage, err: err} // docker create's status
				}
				fmt.Fprintln(c.App.Writer, id)
				return nil
			})
		},
	}
}
