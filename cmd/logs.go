package cmd

import (
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
)

func logsCommand() *cli.Command {
	return &cli.Command{
		Name:      "logs",
		Usage:     "Fetch the logs of a container",
		ArgsUsage: "CONTAINER",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "follow log output"},
			&cli.StringFlag{Name: "tail", Aliases: []string{"n"}, Value: "all", Usage: "number of lines to show from the end of the logs"},
			&cli.StringFlag{Name: "since", Usage: "show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)"},
			&cli.StringFlag{Name: "until", Usage: "show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)"},
			&cli.BoolFlag{Name: "timestamps", Aliases: []string{"t"}, Usage: "show timestamps"},
			&cli.BoolFlag{Name: "details", Usage: "show extra details provided to logs (none are recorded)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("\"logs\" requires exactly 1 argument")
			}
			opts := engine.LogsOptions{Stdout: c.App.Writer, Stderr: c.App.ErrWriter, Follow: c.Bool("follow"), Timestamps: c.Bool("timestamps"), Tail: -1}
			if t := c.String("tail"); t != "all" && t != "" {
				n, err := strconv.Atoi(t)
				if err != nil {
					return usageError("invalid value for --tail: %q", t)
				}
				opts.Tail = n
			}
			var err error
			if opts.Since, err = parseTimeFlag(c.String("since")); err != nil {
				return err
			}
			if opts.Until, err = parseTimeFlag(c.String("until")); err != nil {
				return err
			}
			return withEngine(c, func(eng *engine.Engine) error {
				return eng.Logs(c.Context, c.Args().First(), opts)
			})
		},
	}
}

// parseTimeFlag reads docker's --since/--until: RFC 3339 (with or without
// nanoseconds or zone), a Unix timestamp, or a duration before now.
func parseTimeFlag(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
	}
	return time.Time{}, usageError("invalid time %q: use RFC 3339, a Unix timestamp or a duration such as 10m", s)
}
