package cmd

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"
	"go.podman.io/image/v5/docker/reference"

	"github.com/rrun/rrun/pkg/engine"
	"github.com/rrun/rrun/pkg/storage"
)

func pushFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress verbose output"},
		&cli.BoolFlag{Name: "tls-verify", Value: true, Usage: "require HTTPS and verify certificates (loopback registries may use plain HTTP, as with dockerd)"},
		&cli.StringFlag{Name: "authfile", Usage: "credentials `FILE` (default: auth.json, then ~/.docker/config.json)", EnvVars: []string{"REGISTRY_AUTH_FILE"}},
	}
}

func pushCommand() *cli.Command {
	return &cli.Command{
		Name:      "push",
		Usage:     "Upload an image to a registry",
		ArgsUsage: "NAME[:TAG]",
		Flags:     pushFlags(),
		Action:    pushAction,
	}
}

// pushAction prints what docker push prints: the repository, progress,
// then "TAG: digest: sha256:… size: N"; with -q only the full name.
func pushAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("\"push\" requires exactly 1 argument\nUsage: rrun push NAME[:TAG]")
	}
	name := c.Args().First()
	named, err := storage.ParseReference(name)
	if err != nil {
		return err
	}
	quiet := c.Bool("quiet")
	return withEngine(c, func(eng *engine.Engine) error {
		var progress io.Writer
		if !quiet {
			if parsed, err := reference.ParseNormalizedNamed(name); err == nil && reference.IsNameOnly(parsed) {
				fmt.Fprintln(c.App.Writer, "Using default tag: latest")
			}
			fmt.Fprintf(c.App.Writer, "The push refers to repository [%s]\n", named.Name())
			progress = c.App.ErrWriter
		}
		res, err := eng.Images.Push(c.Context, name, storage.PushOptions{RegistryOptions: registryOptions(c), Progress: progress})
		if err != nil {
			return err
		}
		if quiet {
			fmt.Fprintln(c.App.Writer, res.Name)
			return nil
		}
		fmt.Fprintf(c.App.Writer, "%s: digest: %s size: %d\n", res.Tag, res.Digest, res.Size)
		return nil
	})
}
