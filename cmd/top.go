package cmd

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
)

func topCommand() *cli.Command {
	return &cli.Command{
		Name:      "top",
		Usage:     "Display the running processes of a container",
		ArgsUsage: "CONTAINER [ps OPTIONS]",
		Description: "Runs the host's ps with the given options (default -ef) and keeps the container's processes:\n" +
			"its init, the init's descendants and the processes in its pid namespace.",
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return usageError("\"top\" requires at least 1 argument\nUsage: rrun top CONTAINER [ps OPTIONS]")
			}
			return withEngine(c, func(eng *engine.Engine) error {
				top, err := eng.Top(c.Context, c.Args().First(), strings.Join(c.Args().Tail(), " "))
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(c.App.Writer, 20, 1, 3, ' ', 0)
				fmt.Fprintln(w, strings.Join(top.Titles, "\t"))
				for _, p := range top.Processes {
					fmt.Fprintln(w, strings.Join(p, "\t"))
				}
				return w.Flush()
			})
		},
	}
}
