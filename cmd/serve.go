package cmd

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/apisvc"
	"github.com/rrun/rrun/pkg/engine"
)

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "Serve the Docker Engine API for this user (DOCKER_HOST=unix://$XDG_RUNTIME_DIR/rrun/rrun.sock)",
		Description: "Listens on the user's socket (mode 0600 in a 0700 directory) unless -H says otherwise:\n" +
			"unix://PATH, or tcp://HOST:PORT (anyone who can connect gets the user's full access: use it only on loopback).\n" +
			"Containers keep running when serve exits; the next serve sees them, as the CLI does.",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "host", Aliases: []string{"H"}, Usage: "`ADDRESS` to listen on: unix://PATH or tcp://HOST:PORT (repeatable)"},
		},
		Action: serveAction,
	}
}

func serveAction(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError("\"serve\" accepts no arguments\nUsage: rrun serve [-H ADDRESS]")
	}
	return withEngine(c, func(eng *engine.Engine) error {
		addrs := c.StringSlice("host")
		if len(addrs) == 0 {
			addrs = []string{"unix://" + filepath.Join(eng.RunRoot(), "rrun.sock")}
		}
		var listeners []net.Listener
		defer func() {
			for _, ln := range listeners {
				ln.Close()
			}
		}()
		for _, a := range addrs {
			ln, err := listen(a)
			if err != nil {
				return err
			}
			listeners = append(listeners, ln)
			logrus.Infof("serving the Docker Engine API on %s", a)
		}
		ctx, stop := signal.NotifyContext(c.Context, syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		srv := apisvc.New(eng)
		errs := make(chan error, len(listeners))
		for _, ln := range listeners {
			go func() { errs <- srv.Serve(ctx, ln) }()
		}
		for range listeners {
			if err := <-errs; err != nil {
				return err
			}
		}
		return nil
	})
}

// listen opens one -H address.
func listen(addr string) (net.Listener, error) {
	scheme, rest, ok := strings.Cut(addr, "://")
	if !ok {
		return nil, usageError("invalid -H %q: want unix://PATH or tcp://HOST:PORT", addr)
	}
	switch scheme {
	case "unix":
		return listenPrivate(rest)
	case "tcp":
		logrus.Warnf("listening on %s without TLS: anyone who can connect to it controls your containers and files with your rights", addr)
		return net.Listen("tcp", rest)
	}
	return nil, usageError("invalid -H %q: rrun serves unix:// and tcp:// addresses", addr)
}

// listenPrivate listens on a unix socket only its owner may use: mode 0600
// from the start (umask), in a directory that is the user's alone.
func listenPrivate(path string) (net.Listener, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if st, err := os.Stat(dir); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is open to other users (mode %o): the API socket needs a directory only you can enter", dir, st.Mode().Perm())
	}
	if conn, err := net.Dial("unix", path); err == nil {
		conn.Close()
		return nil, fmt.Errorf("another server already listens on %s", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("removing the stale socket %s: %w", path, err)
	}
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", path, err)
	}
	return ln, nil
}
