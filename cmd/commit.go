package cmd

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
)

func commitFlags() []cli.Flag {
	// -c and --change share one list, as import's do (see importFlags).
	changes := &repeatable{}
	return []cli.Flag{
		&cli.StringFlag{Name: "author", Aliases: []string{"a"}, Usage: "`AUTHOR` (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")"},
		&cli.GenericFlag{Name: "change", Value: changes, Usage: "apply a Dockerfile `INSTRUCTION` to the image (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL; repeatable; short form -c)"},
		&cli.GenericFlag{Name: "c", Value: changes, Hidden: true},
		&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "commit `MESSAGE`"},
		&cli.BoolFlag{Name: "pause", Aliases: []string{"p"}, Value: true, Usage: "pause the container during commit (where it can be paused: a cgroup v2 with systemd delegation; elsewhere it is committed as it runs)"},
	}
}

func commitCommand() *cli.Command {
	return &cli.Command{
		Name:      "commit",
		Usage:     "Create a new image from a container's changes",
		ArgsUsage: "CONTAINER [REPOSITORY[:TAG]]",
		Flags:     commitFlags(),
		Action:    commitAction,
	}
}

func commitAction(c *cli.Context) error {
	if c.NArg() < 1 || c.NArg() > 2 {
		return usageError("\"commit\" requires at least 1 and at most 2 arguments\nUsage: rrun commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]")
	}
	opts := engine.CommitOptions{
		Reference: c.Args().Get(1),
		Author:    c.String("author"),
		Comment:   c.String("message"),
		Changes:   *c.Generic("change").(*repeatable),
		Pause:     c.Bool("pause"),
	}
	return withEngine(c, func(eng *engine.Engine) error {
		id, err := eng.Commit(c.Context, c.Args().First(), opts)
		if err != nil {
			return err
		}
		fmt.Fprintln(c.App.Writer, id)
		return nil
	})
}
