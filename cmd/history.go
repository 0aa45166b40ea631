package cmd

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/image"
	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
)

func historyFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "format", Usage: "format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template"},
		&cli.BoolFlag{Name: "human", Aliases: []string{"H"}, Value: true, Usage: "print sizes and dates in human readable format"},
		&cli.BoolFlag{Name: "no-trunc", Usage: "don't truncate output"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only show image IDs"},
	}
}

func historyCommand() *cli.Command {
	return &cli.Command{
		Name:      "history",
		Usage:     "Show the history of an image",
		ArgsUsage: "IMAGE",
		Flags:     historyFlags(),
		Action:    historyAction,
	}
}

// historyRow is one line of `rrun history`, with docker's field names
// (alphabetical, as docker's JSON output has them) for --format.
type historyRow struct {
	Comment      string
	CreatedAt    string
	CreatedBy    string
	CreatedSince string
	ID           string
	Size         string
}

// Docker's tables, human and not.
const (
	historyTable         = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
	historyTableNonHuman = "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
)

func historyAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("\"history\" requires exactly 1 argument\nUsage: rrun history [OPTIONS] IMAGE")
	}
	human, noTrunc := c.Bool("human"), c.Bool("no-trunc")
	format := c.String("format")
	switch {
	case c.Bool("quiet"):
		format = "{{.ID}}"
	case (format == "" || format == "table") && !human:
		format = historyTableNonHuman
	}
	f, err := newFormatter(c.App.Writer, format, historyTable)
	if err != nil {
		return err
	}
	return withEngine(c, func(eng *engine.Engine) error {
		items, err := eng.Images.History(c.Context, c.Args().First())
		if err != nil {
			return err
		}
		if err := f.writeHeader(historyRow{ID: "IMAGE", CreatedSince: "CREATED", CreatedAt: "CREATED AT",
			CreatedBy: "CREATED BY", Size: "SIZE", Comment: "COMMENT"}); err != nil {
			return err
		}
		for _, h := range items {
			if err := f.row(newHistoryRow(h, human, noTrunc, time.Now())); err != nil {
				return err
			}
		}
		return f.flush()
	})
}

// historyEpoch: docker leaves CREATED empty for steps dated before 2000,
// such as reproducible builds' zero times.
var historyEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

func newHistoryRow(h image.HistoryResponseItem, human, noTrunc bool, now time.Time) historyRow {
	created := time.Unix(h.Created, 0)
	row := historyRow{
		ID:        displayID(h.ID, noTrunc),
		CreatedAt: created.Format(time.RFC3339),
		CreatedBy: strings.ReplaceAll(h.CreatedBy, "\t", " "),
		Comment:   h.Comment,
		Size:      strconv.FormatInt(h.Size, 10),
	}
	row.CreatedSince = row.CreatedAt
	if human {
		row.Size = units.HumanSizeWithPrecision(float64(h.Size), 3)
		row.CreatedSince = ""
		if h.Created > historyEpoch {
			row.CreatedSince = units.HumanDuration(now.Sub(created)) + " ago"
		}
	}
	if !noTrunc {
		row.CreatedBy = ellipsis(row.CreatedBy, 45)
	}
	return row
}

// ellipsis shortens s to width characters, the last one "…", as docker's
// tables do.
func ellipsis(s string, width int) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	return string([]rune(s)[:width-1]) + "…"
}
