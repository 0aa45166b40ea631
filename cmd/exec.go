package cmd

import (
	"errors"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
)

func execCommand() *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "Execute a command in a running container",
		ArgsUsage: "CONTAINER COMMAND [ARG...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detached mode: run command in the background"},
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "keep STDIN open even if not attached"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-TTY"},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set environment variables"},
			&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "username or UID (format: \"<name|uid>[:<group|gid>]\")"},
			&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory inside the container"},
			&cli.BoolFlag{Name: "privileged", Usage: "give extended privileges to the command"},
			&cli.StringFlag{Name: "detach-keys", Usage: "override the key sequence for detaching a container"},
		},
		Action: execAction,
	}
}

func execAction(c *cli.Context) error {
	if c.NArg() < 2 {
		return usageError("\"exec\" requires at least 2 arguments\nUsage: rrun exec [OPTIONS] CONTAINER COMMAND [ARG...]")
	}
	env := c.StringSlice("env")
	for i, kv := range env {
		var err error
		if env[i], err = expandEnvFlag(kv); err != nil {
			return usageError("%v", err)
		}
	}
	opts := engine.ExecOptions{
		Cmd:        c.Args().Slice()[1:],
		Env:        env,
		User:       c.String("user"),
		WorkingDir: c.String("workdir"),
		Tty:        c.Bool("tty"),
		Privileged: c.Bool("privileged"),
		Detach:     c.Bool("detach"),
	}
	return withEngine(c, func(eng *engine.Engine) error {
		streams := engine.AttachStreams{Stdout: c.App.Writer, Stderr: c.App.ErrWriter}
		if c.Bool("interactive") {
			streams.Stdin = os.Stdin
		}
		if opts.Tty && !opts.Detach {
			restore, err := useTerminal(&streams, c.String("detach-keys"))
			if err != nil {
				return err
			}
			defer restore()
		}
		code, err := eng.Exec(c.Context, c.Args().First(), opts, streams)
		if errors.Is(err, engine.ErrDetached) {
			return nil
		}
		var se *engine.StartError
		if errors.As(err, &se) {
			return &exitCodeError{code: se.ExitCode, err: err}
		}
		if err != nil {
			return err // docker exec exits 1 for the daemon's refusals
		}
		return &exitCodeError{code: code}
	})
}
