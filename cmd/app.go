// Package cmd is rrun's command line: flags, terminal output and exit
// codes. Every behaviour lives in pkg/engine and below, so the Engine API
// server can offer the same operations; a command here only maps flags to
// typed options, calls the engine and prints the result.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
	"github.com/rrun/rrun/pkg/rootless"
	"github.com/rrun/rrun/pkg/version"
)

// Exit statuses, as docker's and podman's CLIs use them.
const (
	exitOK    = 0
	exitError = 1   // the operation failed
	exitUsage = 125 // rrun itself could not run the command (bad flags, setup)
)

// exitCodeError ends the process with a given status.
type exitCodeError struct {
	code int
	err  error // printed when not nil
}

func (e *exitCodeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitCodeError) Unwrap() error { return e.err }

// usageError marks an error in how the command was called.
func usageError(format string, args ...any) error {
	return &exitCodeError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// Run runs the command line and returns the process's exit status.
func Run(args []string) int {
	app := newApp(os.Stdout, os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := app.RunContext(ctx, args)
	if err == nil {
		return exitOK
	}
	code := exitError
	var ec *exitCodeError
	if errors.As(err, &ec) {
		code = ec.code
		if ec.err == nil {
			return code
		}
	}
	fmt.Fprintf(os.Stderr, "Error: %v\n", err)
	return code
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:                   "rrun",
		Usage:                  "run OCI containers as an ordinary user: no root, no daemon",
		Version:                version.Version,
		Writer:                 stdout,
		ErrWriter:              stderr,
		UseShortOptionHandling: true,
		// docker never splits flag values on commas (-e A=a,b, --mount …).
		DisableSliceFlagSeparator: true,
		EnableBashCompletion:      true,
		HideHelpCommand:           true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "log-level", Value: "warn", Usage: "log messages at or above `LEVEL`: debug, info, warn, error"},
			&cli.StringFlag{Name: "root", Usage: "storage root `DIR` (default $XDG_DATA_HOME/rrun/storage)", EnvVars: []string{"RRUN_ROOT"}},
			&cli.StringFlag{Name: "runroot", Usage: "run-time state `DIR` (default $XDG_RUNTIME_DIR/rrun)", EnvVars: []string{"RRUN_RUNROOT"}},
			&cli.StringFlag{Name: "storage-driver", Usage: "storage `DRIVER`: overlay, fuse-overlayfs or vfs (default: the store's, else storage.conf's, else the best that works)", EnvVars: []string{"RRUN_STORAGE_DRIVER"}},
			&cli.StringSliceFlag{Name: "storage-opt", Usage: "containers/storage driver `OPTION` (repeatable)"},
		},
		Before: func(c *cli.Context) error {
			level, err := logrus.ParseLevel(c.String("log-level"))
			if err != nil {
				return usageError("--log-level: %v", err)
			}
			logrus.SetLevel(level)
			logrus.SetOutput(c.App.ErrWriter)
			return nil
		},
		OnUsageError: func(c *cli.Context, err error, isSubcommand bool) error {
			return usageError("%v\nSee 'rrun --help'.", err)
		},
		CommandNotFound: func(c *cli.Context, name string) {
			fmt.Fprintf(c.App.ErrWriter, "rrun: '%s' is not a rrun command.\nSee 'rrun --help'\n", name)
			os.Exit(exitUsage)
		},
		Commands: []*cli.Command{
			containerCommand(),
			runCommand(), createCommand(), startCommand(), stopCommand(), killCommand(), restartCommand(),
			rmCommand(), psCommand(), waitCommand(), logsCommand(), attachCommand(), execCommand(),
			cpCommand(), exportCommand(), diffCommand(), commitCommand(),
			topCommand(), statsCommand(), renameCommand(), portCommand(), pauseCommand(), unpauseCommand(), updateCommand(), eventsCommand(),
			imageCommand(),
			volumeCommand(),
			networkCommand(),
			pullCommand(), imagesCommand(), rmiCommand(), tagCommand(),
			pushCommand(), saveCommand(), loadCommand(), importCommand(), historyCommand(),
			loginCommand(), logoutCommand(),
			inspectCommand(), systemCommand(),
			infoCommand(), unshareCommand(), versionCommand(), serveCommand(),
		},
	}
	setUsageErrors(app.Commands)
	cli.VersionPrinter = func(c *cli.Context) {
		fmt.Fprintf(c.App.Writer, "rrun version %s\n", version.Version)
	}
	return app
}

// engineOptions maps the global flags to the engine's options.
func engineOptions(c *cli.Context) (engine.Options, error) {
	opts := engine.Options{
		Root:          c.String("root"),
		RunRoot:       c.String("runroot"),
		StorageDriver: c.String("storage-driver"),
		StorageOpts:   c.StringSlice("storage-opt"),
		Warn: func(msg string) {
			fmt.Fprintf(c.App.ErrWriter, "WARNING: %s\n", msg)
		},
	}
	return opts, opts.Complete()
}

// enterNamespace maps the global flags to engine options and moves the
// process into the user's rootless namespaces (re-executing rrun there
// first when needed).
func enterNamespace(c *cli.Context) (engine.Options, error) {
	opts, err := engineOptions(c)
	if err != nil {
		return opts, err
	}
	if err := opts.PrepareRunRoot(); err != nil {
		return opts, &exitCodeError{code: exitUsage, err: err}
	}
	if err := rootless.Enter(opts.RunRoot); err != nil {
		return opts, &exitCodeError{code: exitUsage, err: err}
	}
	return opts, nil
}

// withEngine runs fn with an open engine, inside the user's namespaces.
func withEngine(c *cli.Context, fn func(*engine.Engine) error) error {
	opts, err := enterNamespace(c)
	if err != nil {
		return err
	}
	eng, err := engine.Open(opts)
	if err != nil {
		return &exitCodeError{code: exitUsage, err: err}
	}
	defer eng.Close()
	return fn(eng)
}

// setUsageErrors makes every command report flag errors as docker does:
// the error and a pointer to --help on stderr, exit status 125.
func setUsageErrors(cmds []*cli.Command) {
	for _, c := range cmds {
		name := c.Name
		c.OnUsageError = func(ctx *cli.Context, err error, isSubcommand bool) error {
			return usageError("%v\nSee 'rrun %s --help'.", err, name)
		}
		setUsageErrors(c.Subcommands)
	}
}
