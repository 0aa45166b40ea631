package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
	"github.com/rrun/rrun/pkg/storage"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "Create and run a new container from an image",
		ArgsUsage: "IMAGE [COMMAND] [ARG...]",
		Description: "Containers join the default bridge network unless --network says otherwise: a user-defined\n" +
			"network (rrun network create), host (the host's network), none (loopback only) or container:NAME.\n" +
			"The host is host.docker.internal (and host.containers.internal) inside; -p publishes ports.",
		Flags: containerFlags(true),
		// -h is --hostname, as in docker; the flags bring their own --help.
		HideHelp: true,
		Action:   runAction,
	}
}

func runAction(c *cli.Context) error {
	opts, err := parseCreateOptions(c, true)
	if err != nil {
		return err
	}
	return withEngine(c, func(eng *engine.Engine) error {
		id, err := createContainer(c, eng, opts)
		if err != nil {
			return &exitCodeError{code: exitUsage, err: err}
		}
		if opts.Detach {
			if err := eng.Start(c.Context, id); err != nil {
				return startFailure(err)
			}
			fmt.Fprintln(c.App.Writer, id)
			return nil
		}
		code, err := runAttached(c, eng, id, opts)
		if err != nil {
			return err
		}
		if opts.HostConfig.AutoRemove {
			waitRemoved(eng, id)
		}
		return &exitCodeError{code: code}
	})
}

// createContainer creates the container, pulling its image first when the
// --pull policy says so (docker's CLI does this on the daemon's 404).
func createContainer(c *cli.Context, eng *engine.Engine, opts *createOptions) (string, error) {
	pull := func() error {
		var progress io.Writer
		if !opts.Quiet {
			progress = c.App.ErrWriter
			shown := opts.Config.Image
			if named, err := storage.ParseReference(shown); err == nil {
				shown = storage.FamiliarString(named.String())
			}
			fmt.Fprintf(c.App.ErrWriter, "Unable to find image '%s' locally\n", shown)
		}
		_, err := eng.Images.Pull(c.Context, opts.Config.Image, storage.PullOptions{
			RegistryOptions: storage.RegistryOptions{Platform: opts.Platform},
			Progress:        progress,
		})
		return err
	}
	if opts.Pull == "always" {
		if err := pull(); err != nil {
			return "", err
		}
	}
	create := func() (*engine.CreateResult, error) {
		return eng.Create(c.Context, engine.CreateOptions{Name: opts.Name, Config: opts.Config, HostConfig: opts.HostConfig, Network: opts.Network})
	}
	res, err := create()
	if errdefs.IsNotFound(err) && opts.Pull != "never" && opts.Pull != "always" {
		if err := pull(); err != nil {
			return "", err
		}
		res, err = create()
	}
	if err != nil {
		return "", err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(c.App.ErrWriter, "WARNING: %s\n", w)
	}
	if opts.CIDFile != "" {
		if err := writeCIDFile(opts.CIDFile, res.ID); err != nil {
			return "", err
		}
	}
	return res.ID, nil
}

// writeCIDFile writes the id where --cidfile says, refusing an existing
// file as docker does.
func writeCIDFile(path, id string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("container ID file found, make sure the other container isn't running or delete %s", path)
		}
		return fmt.Errorf("failed to create the container ID file: %w", err)
	}
	defer f.Close()
	_, err = f.WriteString(id)
	return err
}

// runAttached starts the container with the terminal's streams attached,
// in raw mode for -t, and returns its exit code.
func runAttached(c *cli.Context, eng *engine.Engine, id string, opts *createOptions) (int, error) {
	cfg := opts.Config
	streams := engine.AttachStreams{}
	if cfg.AttachStdin {
		streams.Stdin = os.Stdin
	}
	if cfg.AttachStdout {
		streams.Stdout = c.App.Writer
	}
	if cfg.AttachStderr {
		streams.Stderr = c.App.ErrWriter
	}
	if cfg.Tty {
		restore, err := useTerminal(&streams, opts.DetachKeys)
		if err != nil {
			return -1, err
		}
		defer restore()
	} else if opts.SigProxy {
		stop := proxySignals(c, eng, id)
		defer stop()
	}
	code, err := eng.StartAttached(c.Context, id, streams)
	if errors.Is(err, engine.ErrDetached) {
		return 0, nil
	}
	if err != nil {
		return -1, startFailure(err)
	}
	return code, nil
}

// startFailure gives a container that did not start docker's exit status:
// 127 missing command, 126 not runnable, 125 otherwise.
func startFailure(err error) error {
	var se *engine.StartError
	if errors.As(err, &se) {
		return &exitCodeError{code: se.ExitCode, err: err}
	}
	return &exitCodeError{code: exitUsage, err: err}
}

// proxySignals forwards the signals rrun receives to the container, as
// docker's --sig-proxy does for a container without a terminal.
func proxySignals(c *cli.Context, eng *engine.Engine, id string) func() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		for s := range sigs {
			_ = eng.Kill(c.Context, id, fmt.Sprint(int(s.(syscall.Signal))))
		}
	}()
	return func() { signal.Stop(sigs); close(sigs) }
}

// waitRemoved waits for the monitor to remove an --rm container, so that
// the next command does not see it.
func waitRemoved(eng *engine.Engine, id string) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := eng.Inspect(context.Background(), id); errdefs.IsNotFound(err) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
