package cmd

import (
	"errors"
	"fmt"
	"os"

	"github.com/containerd/errdefs"
	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
)

func startCommand() *cli.Command {
	return &cli.Command{
		Name:      "start",
		Usage:     "Start one or more stopped containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "attach", Aliases: []string{"a"}, Usage: "attach STDOUT/STDERR and forward signals"},
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "attach container's STDIN"},
			&cli.StringFlag{Name: "detach-keys", Usage: "override the key sequence for detaching a container"},
		},
		Action: startAction,
	}
}

func startAction(c *cli.Context) error {
	if c.NArg() < 1 {
		return usageError("\"start\" requires at least 1 argument")
	}
	attach := c.Bool("attach") || c.Bool("interactive")
	if attach && c.NArg() > 1 {
		return usageError("you cannot start and attach multiple containers at once")
	}
	return withEngine(c, func(eng *engine.Engine) error {
		if attach {
			return startAttached(c, eng, c.Args().First())
		}
		failed := false
		for _, ref := range c.Args().Slice() {
			err := eng.Start(c.Context, ref)
			if err != nil && !errdefs.IsNotModified(err) {
				fmt.Fprintf(c.App.ErrWriter, "Error response from daemon: %v\n", err)
				failed = true
				continue
			}
			fmt.Fprintln(c.App.Writer, ref)
		}
		if failed {
			return &exitCodeError{code: exitError, err: errors.New("failed to start containers")}
		}
		return nil
	})
}

// startAttached is `start -a [-i]`: attach as the container was created
// (terminal or not) and exit with its status.
func startAttached(c *cli.Context, eng *engine.Engine, ref string) error {
	info, err := eng.Inspect(c.Context, ref)
	if err != nil {
		return err
	}
	streams := engine.AttachStreams{Stdout: c.App.Writer, Stderr: c.App.ErrWriter}
	if c.Bool("interactive") && info.Config.OpenStdin {
		streams.Stdin = os.Stdin
	}
	if info.Config.Tty {
		restore, err := useTerminal(&streams, c.String("detach-keys"))
		if err != nil {
			return err
		}
		defer restore()
	}
	code, err := eng.StartAttached(c.Context, ref, streams)
	if errors.Is(err, engine.ErrDetached) {
		return nil
	}
	if err != nil {
		return startFailure(err)
	}
	return &exitCodeError{code: code}
}
