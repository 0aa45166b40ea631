package cmd

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/urfave/cli/v2"
)

func unshareCommand() *cli.Command {
	return &cli.Command{
		Name:            "unshare",
		Usage:           "Run a command in rrun's rootless user and mount namespace",
		ArgsUsage:       "[COMMAND [ARG...]]",
		Description:     "Runs COMMAND (default: $SHELL) as root of the namespace where rrun keeps its storage, as podman unshare does: there the user's own uid is 0 and the subordinate ids follow. Useful to inspect or remove files that containers created.",
		SkipFlagParsing: true,
		Action:          unshareAction,
	}
}

func unshareAction(c *cli.Context) error {
	opts, err := enterNamespace(c)
	if err != nil {
		return err
	}
	args := c.Args().Slice()
	if len(args) == 0 {
		shell := os.Getenv("SHELL")
		if shell == "" {
			shell = "/bin/sh"
		}
		args = []string{shell}
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		return &exitCodeError{code: 127, err: fmt.Errorf("%s: command not found", args[0])}
	}
	env := append(os.Environ(), "RRUN_GRAPHROOT="+opts.Root, "RRUN_RUNROOT="+opts.RunRoot)
	if err := syscall.Exec(path, args, env); err != nil {
		return &exitCodeError{code: 126, err: fmt.Errorf("%s: %w", args[0], err)}
	}
	return nil
}
