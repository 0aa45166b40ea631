package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
	"github.com/rrun/rrun/pkg/storage"
)

func loadFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "input", Aliases: []string{"i"}, Usage: "read from tar archive `FILE`, instead of STDIN (docker or OCI archive, plain or compressed)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress the load progress"},
	}
}

func loadCommand() *cli.Command {
	return &cli.Command{
		Name:   "load",
		Usage:  "Load an image from a tar archive or STDIN",
		Flags:  loadFlags(),
		Action: loadAction,
	}
}

func loadAction(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError("\"load\" accepts no arguments\nUsage: rrun load [OPTIONS]")
	}
	input := c.String("input")
	if input == "" && isTerminal(os.Stdin) {
		return errors.New("requested load from stdin, but stdin is empty")
	}
	return withEngine(c, func(eng *engine.Engine) error {
		var in io.Reader = os.Stdin
		opts := storage.LoadOptions{Source: "stdin"}
		if input != "" {
			f, err := os.Open(input)
			if err != nil {
				return err
			}
			defer f.Close()
			in, opts.Source = f, input
		}
		// docker shows progress only on a terminal; "Loaded image" always.
		if !c.Bool("quiet") && isTerminal(c.App.ErrWriter) {
			opts.Progress = c.App.ErrWriter
		}
		loaded, err := eng.Images.Load(c.Context, in, opts)
		printLoaded(c.App.Writer, loaded)
		return err
	})
}

// printLoaded reports as docker load does: each tag, or the id of an
// untagged image.
func printLoaded(w io.Writer, loaded []storage.LoadedImage) {
	for _, img := range loaded {
		for _, m := range img.Moved {
			fmt.Fprintf(w, "The image %s already exists, renaming the old one with ID %s to empty string\n", m.Tag, m.FromID)
		}
		if len(img.Tags) == 0 {
			fmt.Fprintf(w, "Loaded image ID: %s\n", img.ID)
		}
		for _, t := range img.Tags {
			fmt.Fprintf(w, "Loaded image: %s\n", t)
		}
	}
}
