package cmd

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
	"github.com/rrun/rrun/pkg/storage"
)

func pullFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress verbose output"},
		&cli.StringFlag{Name: "platform", Usage: "pull for `OS/ARCH[/VARIANT]` from a multi-platform image"},
		&cli.BoolFlag{Name: "tls-verify", Value: true, Usage: "require HTTPS and verify certificates (loopback registries may use plain HTTP, as with dockerd)"},
		&cli.StringFlag{Name: "authfile", Usage: "credentials `FILE` (default: auth.json, then ~/.docker/config.json)", EnvVars: []string{"REGISTRY_AUTH_FILE"}},
	}
}

func pullCommand() *cli.Command {
	return &cli.Command{
		Name:      "pull",
		Usage:     "Download an image from a registry",
		ArgsUsage: "NAME[:TAG|@DIGEST]",
		Flags:     pullFlags(),
		Action:    pullAction,
	}
}

// registryOptions maps the registry flags a command has.
func registryOptions(c *cli.Context) storage.RegistryOptions {
	opts := storage.RegistryOptions{AuthFile: c.String("authfile"), Platform: c.String("platform")}
	if c.IsSet("tls-verify") {
		v := c.Bool("tls-verify")
		opts.TLSVerify = &v
	}
	return opts
}

func pullAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("\"pull\" requires exactly 1 argument\nUsage: rrun pull NAME[:TAG|@DIGEST]")
	}
	name := c.Args().First()
	return withEngine(c, func(eng *engine.Engine) error {
		var progress io.Writer
		if !c.Bool("quiet") {
			progress = c.App.ErrWriter
		}
		res, err := eng.Images.Pull(c.Context, name, storage.PullOptions{RegistryOptions: registryOptions(c), Progress: progress})
		if err != nil {
			return err
		}
		if !c.Bool("quiet") {
			if res.Updated {
				fmt.Fprintf(c.App.ErrWriter, "Status: Downloaded newer image for %s\n", storage.FamiliarString(res.Name))
			} else {
				fmt.Fprintf(c.App.ErrWriter, "Status: Image is up to date for %s\n", storage.FamiliarString(res.Name))
			}
		}
		fmt.Fprintln(c.App.Writer, res.Name)
		return nil
	})
}
