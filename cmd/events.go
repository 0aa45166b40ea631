package cmd

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
	"github.com/rrun/rrun/pkg/storage"
)

func eventsCommand() *cli.Command {
	return &cli.Command{
		Name:  "events",
		Usage: "Get real time events from rrun",
		Description: "Events are recorded by every rrun process that acts (CLIs, container monitors, the API server)\n" +
			"in the run root, until the next reboot. Without --since, only new events are shown.",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter output based on conditions provided: container, event, type, image, label, volume, network"},
			&cli.StringFlag{Name: "since", Usage: "show all events created since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)"},
			&cli.StringFlag{Name: "until", Usage: "stream events until this timestamp"},
			&cli.StringFlag{Name: "format", Usage: "format output using a custom template: 'json', or a Go template"},
		},
		Action: eventsAction,
	}
}

func eventsAction(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError("\"events\" accepts no arguments\nUsage: rrun events [OPTIONS]")
	}
	filters, err := storage.ParseFilters(c.StringSlice("filter"))
	if err != nil {
		return usageError("%v", err)
	}
	opts := engine.EventsOptions{Filters: filters}
	if opts.Since, err = parseTimeFlag(c.String("since")); err != nil {
		return err
	}
	if opts.Until, err = parseTimeFlag(c.String("until")); err != nil {
		return err
	}
	show := func(msg events.Message) error { return printEvent(c.App.Writer, msg) }
	if format := c.String("format"); format != "" {
		f, err := newFormatter(c.App.Writer, format, "")
		if err != nil {
			return err
		}
		show = func(msg events.Message) error {
			if err := f.row(msg); err != nil {
				return err
			}
			return f.flush()
		}
	}
	return withEngine(c, func(eng *engine.Engine) error {
		return eng.Events(c.Context, opts, show)
	})
}

// printEvent writes docker's default line: the time with nanoseconds,
// type, action, actor and its attributes sorted by name.
func printEvent(w io.Writer, msg events.Message) error {
	var b strings.Builder
	if msg.TimeNano != 0 {
		b.WriteString(time.Unix(0, msg.TimeNano).Format(rfc3339NanoFixed) + " ")
	} else if msg.Time != 0 {
		b.WriteString(time.Unix(msg.Time, 0).Format(rfc3339NanoFixed) + " ")
	}
	fmt.Fprintf(&b, "%s %s %s", msg.Type, msg.Action, msg.Actor.ID)
	if len(msg.Actor.Attributes) > 0 {
		var attrs []string
		for _, k := range slices.Sorted(maps.Keys(msg.Actor.Attributes)) {
			attrs = append(attrs, k+"="+msg.Actor.Attributes[k])
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(attrs, ", "))
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// rfc3339NanoFixed is docker's time format for events: RFC 3339 with
// always nine digits of nanoseconds.
const rfc3339NanoFixed = "2006-01-02T15:04:05.000000000Z07:00"
