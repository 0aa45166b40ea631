package cmd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/rrun/rrun/pkg/storage"
)

func loginCommand() *cli.Command {
	return &cli.Command{
		Name:        "login",
		Usage:       "Log in to a registry",
		ArgsUsage:   "[SERVER]",
		Description: "Checks the credentials with the registry and stores them in docker's config.json ($DOCKER_CONFIG or ~/.docker), shared with the docker CLI, or in --authfile. Defaults to Docker Hub.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "username", Aliases: []string{"u"}, Usage: "`USERNAME`"},
			&cli.StringFlag{Name: "password", Aliases: []string{"p"}, Usage: "`PASSWORD` (insecure: use --password-stdin)"},
			&cli.BoolFlag{Name: "password-stdin", Usage: "take the password from stdin"},
			&cli.StringFlag{Name: "authfile", Usage: "credentials `FILE` (default: docker's config.json)", EnvVars: []string{"REGISTRY_AUTH_FILE"}},
			&cli.BoolFlag{Name: "tls-verify", Value: true, Usage: "require HTTPS and verify certificates (loopback registries may use plain HTTP)"},
		},
		Action: loginAction,
	}
}

func logoutCommand() *cli.Command {
	return &cli.Command{
		Name:      "logout",
		Usage:     "Log out from a registry",
		ArgsUsage: "[SERVER]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove the credentials of all registries"},
			&cli.StringFlag{Name: "authfile", Usage: "credentials `FILE` (default: docker's config.json)", EnvVars: []string{"REGISTRY_AUTH_FILE"}},
		},
		Action: logoutAction,
	}
}

// loginAction follows docker login: credentials from flags, stdin or a
// terminal prompt; stored ones are tried when none are given. It needs no
// storage, so it does not enter the user namespace.
func loginAction(c *cli.Context) error {
	if c.NArg() > 1 {
		return usageError("\"login\" requires at most 1 argument\nUsage: rrun login [OPTIONS] [SERVER]")
	}
	server := storage.NormalizeRegistry(c.Args().First())
	opts := storage.LoginOptions{RegistryOptions: registryOptions(c), Username: c.String("username"), Password: c.String("password")}
	if c.Bool("password-stdin") {
		if opts.Password != "" {
			return usageError("--password and --password-stdin are mutually exclusive")
		}
		if opts.Username == "" {
			return usageError("Must provide --username with --password-stdin")
		}
		data, err := io.ReadAll(c.App.Reader)
		if err != nil {
			return fmt.Errorf("reading the password from stdin: %w", err)
		}
		opts.Password = strings.TrimRight(string(data), "\r\n")
	} else if opts.Password != "" {
		fmt.Fprintln(c.App.ErrWriter, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.")
	}
	if opts.Username == "" && opts.Password == "" {
		if stored, err := storage.StoredCredentials(server, opts.RegistryOptions); err == nil && stored.Username != "" {
			fmt.Fprintf(c.App.Writer, "Authenticating with existing credentials... [Username: %s]\n", stored.Username)
			opts.Username, opts.Password = stored.Username, stored.Password
		}
	}
	if opts.Username == "" || opts.Password == "" {
		if err := promptCredentials(c, &opts); err != nil {
			return err
		}
	}
	where, err := storage.Login(c.Context, server, opts)
	if err != nil {
		return err
	}
	if filepath.IsAbs(where) {
		fmt.Fprintf(c.App.ErrWriter, "WARNING! Your credentials are stored unencrypted in '%s'.\n", where)
	}
	fmt.Fprintln(c.App.Writer, "Login Succeeded")
	return nil
}

// promptCredentials asks on the terminal for what the flags left out.
func promptCredentials(c *cli.Context, opts *storage.LoginOptions) error {
	in, ok := c.App.Reader.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return errors.New("Cannot perform an interactive login from a non TTY device")
	}
	if opts.Username == "" {
		fmt.Fprint(c.App.Writer, "Username: ")
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("reading the username: %w", err)
		}
		opts.Username = strings.TrimSpace(line)
		if opts.Username == "" {
			return errors.New("Non-null Username Required")
		}
	}
	if opts.Password == "" {
		fmt.Fprint(c.App.Writer, "Password: ")
		pw, err := term.ReadPassword(int(in.Fd()))
		fmt.Fprintln(c.App.Writer)
		if err != nil {
			return fmt.Errorf("reading the password: %w", err)
		}
		opts.Password = string(pw)
		if opts.Password == "" {
			return errors.New("Password Required")
		}
	}
	return nil
}

func logoutAction(c *cli.Context) error {
	if c.NArg() > 1 {
		return usageError("\"logout\" requires at most 1 argument\nUsage: rrun logout [SERVER]")
	}
	all := c.Bool("all")
	if all && c.NArg() > 0 {
		return usageError("--all takes no SERVER")
	}
	server := storage.NormalizeRegistry(c.Args().First())
	if !all {
		// docker prints this whether or not there were credentials.
		fmt.Fprintf(c.App.Writer, "Removing login credentials for %s\n", storage.DisplayRegistry(server))
	}
	if _, err := storage.Logout(server, all, registryOptions(c)); err != nil {
		return err
	}
	if all {
		fmt.Fprintln(c.App.Writer, "Removed login credentials for all registries")
	}
	return nil
}
