package cmd

import (
	"fmt"

	"github.com/containerd/errdefs"
	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
)

func stopCommand() *cli.Command {
	return &cli.Command{
		Name:      "stop",
		Usage:     "Stop one or more running containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags:     stopFlags(),
		Action: func(c *cli.Context) error {
			timeout := stopTimeout(c)
			return eachContainer(c, "stop", func(eng *engine.Engine, ref string) error {
				err := eng.Stop(c.Context, ref, c.String("signal"), timeout)
				if errdefs.IsNotModified(err) {
					return nil
				}
				return err
			})
		},
	}
}

// stopFlags are stop's and restart's.
func stopFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Usage: "signal to send to the container"},
		&cli.IntFlag{Name: "time", Aliases: []string{"t"}, Usage: "seconds to wait before killing the container"},
	}
}

// stopTimeout is --time, or nil for the container's own default.
func stopTimeout(c *cli.Context) *int {
	if !c.IsSet("time") {
		return nil
	}
	t := c.Int("time")
	return &t
}

func killCommand() *cli.Command {
	return &cli.Command{
		Name:      "kill",
		Usage:     "Kill one or more running containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Usage: "signal to send to the container (default KILL)"},
		},
		Action: func(c *cli.Context) error {
			return eachContainer(c, "kill", func(eng *engine.Engine, ref string) error {
				return eng.Kill(c.Context, ref, c.String("signal"))
			})
		},
	}
}

func restartCommand() *cli.Command {
	return &cli.Command{
		Name:      "restart",
		Usage:     "Restart one or more containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags:     stopFlags(),
		Action: func(c *cli.Context) error {
			timeout := stopTimeout(c)
			return eachContainer(c, "restart", func(eng *engine.Engine, ref string) error {
				return eng.Restart(c.Context, ref, c.String("signal"), timeout)
			})
		},
	}
}

func rmCommand() *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Usage:     "Remove one or more containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "force the removal of a running container (uses SIGKILL)"},
			&cli.BoolFlag{Name: "volumes", Aliases: []string{"v"}, Usage: "remove anonymous volumes associated with the container"},
		},
		Action: func(c *cli.Context) error {
			return eachContainer(c, "rm", func(eng *engine.Engine, ref string) error {
				err := eng.Remove(c.Context, ref, engine.RemoveOptions{Force: c.Bool("force"), Volumes: c.Bool("volumes")})
				if errdefs.IsNotFound(err) && c.Bool("force") {
					return nil // docker rm -f of a missing container is not an error
				}
				return err
			})
		},
	}
}

// eachContainer applies fn to every argument, printing each name that
// worked and each error, as docker's multi-container commands do.
func eachContainer(c *cli.Context, name string, fn func(*engine.Engine, string) error) error {
	if c.NArg() < 1 {
		return usageError("%q requires at least 1 argument\nUsage: rrun %s [OPTIONS] CONTAINER [CONTAINER...]", name, name)
	}
	return withEngine(c, func(eng *engine.Engine) error {
		failed := false
		for _, ref := range c.Args().Slice() {
			if err := fn(eng, ref); err != nil {
				fmt.Fprintf(c.App.ErrWriter, "Error response from daemon: %v\n", err)
				failed = true
				continue
			}
			fmt.Fprintln(c.App.Writer, ref)
		}
		if failed {
			return &exitCodeError{code: exitError}
		}
		return nil
	})
}

func waitCommand() *cli.Command {
	return &cli.Command{
		Name:      "wait",
		Usage:     "Block until one or more containers stop, then print their exit codes",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return usageError("\"wait\" requires at least 1 argument")
			}
			return withEngine(c, func(eng *engine.Engine) error {
				failed := false
				for _, ref := range c.Args().Slice() {
					code, err := eng.Wait(c.Context, ref)
					if err != nil {
						fmt.Fprintf(c.App.ErrWriter, "Error response from daemon: %v\n", err)
						failed = true
						continue
					}
					fmt.Fprintln(c.App.Writer, code)
				}
				if failed {
					return &exitCodeError{code: exitError}
				}
				return nil
			})
		},
	}
}
