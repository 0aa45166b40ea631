package cmd

import (
	"errors"
	"os"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/rrun/rrun/pkg/engine"
	"github.com/rrun/rrun/pkg/storage"
)

func saveFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to a `FILE`, instead of STDOUT"},
		&cli.StringFlag{Name: "format", Value: storage.FormatDockerArchive, Usage: "archive `FORMAT`: docker-archive or oci-archive"},
	}
}

func saveCommand() *cli.Command {
	return &cli.Command{
		Name:      "save",
		Usage:     "Save one or more images to a tar archive (streamed to STDOUT by default)",
		ArgsUsage: "IMAGE [IMAGE...]",
		Flags:     saveFlags(),
		Action:    saveAction,
	}
}

func saveAction(c *cli.Context) error {
	if c.NArg() < 1 {
		return usageError("\"save\" requires at least 1 argument\nUsage: rrun save [OPTIONS] IMAGE [IMAGE...]")
	}
	opts := storage.SaveOptions{Format: c.String("format"), Output: c.String("output")}
	if opts.Output == "" {
		if isTerminal(c.App.Writer) {
			return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
		}
		opts.Writer = c.App.Writer
	}
	return withEngine(c, func(eng *engine.Engine) error {
		return eng.Images.Save(c.Context, c.Args().Slice(), opts)
	})
}

// isTerminal reports whether w is a terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
