package cmd

import (
	"errors"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
)

func attachCommand() *cli.Command {
	return &cli.Command{
		Name:      "attach",
		Usage:     "Attach local standard input, output, and error streams to a running container",
		ArgsUsage: "CONTAINER",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "no-stdin", Usage: "do not attach STDIN"},
			&cli.BoolFlag{Name: "sig-proxy", Value: true, Usage: "proxy all received signals to the process"},
			&cli.StringFlag{Name: "detach-keys", Usage: "override the key sequence for detaching a container"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("\"attach\" requires exactly 1 argument")
			}
			ref := c.Args().First()
			return withEngine(c, func(eng *engine.Engine) error {
				info, err := eng.Inspect(c.Context, ref)
				if err != nil {
					return err
				}
				streams := engine.AttachStreams{Stdout: c.App.Writer, Stderr: c.App.ErrWriter}
				if !c.Bool("no-stdin") && info.Config.OpenStdin {
					streams.Stdin = os.Stdin
				}
				if info.Config.Tty {
					restore, err := useTerminal(&streams, c.String("detach-keys"))
					if err != nil {
						return err
					}
					defer restore()
				} else if c.Bool("sig-proxy") {
					defer proxySignals(c, eng, info.ID)()
				}
				code, err := eng.Attach(c.Context, ref, streams)
				if errors.Is(err, engine.ErrDetached) {
					return nil
				}
				if err != nil {
					return err
				}
				return &exitCodeError{code: code}
			})
		},
	}
}
