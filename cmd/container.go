package cmd

import "github.com/urfave/cli/v2"

// containerCommand groups the container commands under `rrun container`,
// as docker's management commands do; the short forms stay.
func containerCommand() *cli.Command {
	named := func(cmd *cli.Command, name string, aliases ...string) *cli.Command {
		cmd.Name, cmd.Aliases = name, aliases
		return cmd
	}
	return &cli.Command{
		Name:  "container",
		Usage: "Manage containers",
		Subcommands: []*cli.Command{
			named(psCommand(), "ls", "ps", "list"),
			runCommand(), createCommand(), startCommand(), stopCommand(), killCommand(),
			restartCommand(), named(rmCommand(), "rm", "remove"), waitCommand(), logsCommand(), attachCommand(), execCommand(),
			cpCommand(), exportCommand(), diffCommand(), commitCommand(),
			topCommand(), statsCommand(), renameCommand(), portCommand(), pauseCommand(), unpauseCommand(), updateCommand(), containerPruneCommand(),
			{Name: "inspect", Usage: "Display detailed information on one or more containers", ArgsUsage: "CONTAINER [CONTAINER...]", Flags: inspectFlags()[:1], Action: containerInspectAction},
		},
	}
}
