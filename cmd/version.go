package cmd

import (
	"fmt"
	"runtime"

	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/version"
)

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "Show the rrun version information",
		Action: func(c *cli.Context) error {
			fmt.Fprintf(c.App.Writer, "Version:      %s\n", version.Version)
			if version.GitCommit != "" {
				fmt.Fprintf(c.App.Writer, "Git commit:   %s\n", version.GitCommit)
			}
			fmt.Fprintf(c.App.Writer, "Go version:   %s\n", runtime.Version())
			fmt.Fprintf(c.App.Writer, "OS/Arch:      %s/%s\n", runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
