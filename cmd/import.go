package cmd

import (
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
	"github.com/rrun/rrun/pkg/storage"
)

// repeatable is a flag that may be given several times, each value kept
// whole: a Dockerfile instruction such as CMD ["a","b"] has commas, which
// urfave's slice flags would split.
type repeatable []string

func (r *repeatable) Set(v string) error { *r = append(*r, v); return nil }
func (r *repeatable) String() string     { return strings.Join(*r, "\n") }

func importFlags() []cli.Flag {
	// -c and --change are two flags sharing one list rather than aliases:
	// urfave refuses a mix of an alias and its name, and syncs aliases by
	// re-setting the joined value.
	changes := &repeatable{}
	return []cli.Flag{
		&cli.GenericFlag{Name: "change", Value: changes, Usage: "apply a Dockerfile `INSTRUCTION` to the image (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL; repeatable; short form -c)"},
		&cli.GenericFlag{Name: "c", Value: changes, Hidden: true},
		&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "set commit `MESSAGE` for the imported image"},
		&cli.StringFlag{Name: "platform", Usage: "set `OS/ARCH[/VARIANT]` of the image (default: the host's)"},
	}
}

func importCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "Import the contents from a tarball to create a filesystem image",
		ArgsUsage: "file|URL|- [REPOSITORY[:TAG]]",
		Flags:     importFlags(),
		Action:    importAction,
	}
}

func importAction(c *cli.Context) error {
	if c.NArg() < 1 || c.NArg() > 2 {
		return usageError("\"import\" requires at least 1 and at most 2 arguments\nUsage: rrun import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]")
	}
	opts := storage.ImportOptions{
		Reference: c.Args().Get(1),
		Changes:   *c.Generic("change").(*repeatable),
		Message:   c.String("message"),
		Platform:  c.String("platform"),
	}
	source := c.Args().First()
	return withEngine(c, func(eng *engine.Engine) error {
		id, err := eng.Images.Import(c.Context, source, os.Stdin, opts)
		if err != nil {
			return err
		}
		fmt.Fprintln(c.App.Writer, id)
		return nil
	})
}
