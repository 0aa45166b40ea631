package cmd

import (
	"fmt"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/image"
	"github.com/urfave/cli/v2"
	"go.podman.io/image/v5/docker/reference"

	"github.com/rrun/rrun/pkg/engine"
	"github.com/rrun/rrun/pkg/storage"
)

func imagesFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show all images (rrun keeps no intermediate images, so this changes nothing)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only show image IDs"},
		&cli.BoolFlag{Name: "digests", Usage: "show digests"},
		&cli.BoolFlag{Name: "no-trunc", Usage: "don't truncate output"},
		&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter output based on conditions provided: dangling=true|false, label=KEY[=VALUE], reference=PATTERN, before=IMAGE, since=IMAGE"},
		&cli.StringFlag{Name: "format", Usage: "format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template"},
	}
}

func imagesCommand() *cli.Command {
	return &cli.Command{
		Name:      "images",
		Usage:     "List images",
		ArgsUsage: "[REPOSITORY[:TAG]]",
		Flags:     imagesFlags(),
		Action:    imagesAction,
	}
}

// imageRow is one line of `rrun images`, with docker's field names so
// that users' --format templates carry over.
type imageRow struct {
	ID           string
	Repository   string
	Tag          string
	Digest       string
	CreatedSince string
	CreatedAt    string
	Size         string
	Containers   string
	SharedSize   string
	UniqueSize   string
	VirtualSize  string
}

func imagesAction(c *cli.Context) error {
	if c.NArg() > 1 {
		return usageError("\"images\" requires at most 1 argument")
	}
	filters, err := storage.ParseFilters(c.StringSlice("filter"))
	if err != nil {
		return err
	}
	if c.NArg() == 1 {
		filters["reference"] = append(filters["reference"], c.Args().First())
	}
	return withEngine(c, func(eng *engine.Engine) error {
		images, err := eng.Images.List(c.Context, filters)
		if err != nil {
			return err
		}
		if c.Bool("quiet") {
			seen := map[string]bool{}
			for _, img := range images {
				id := displayID(img.ID, c.Bool("no-trunc"))
				if !seen[id] {
					seen[id] = true
					fmt.Fprintln(c.App.Writer, id)
				}
			}
			return nil
		}
		table := "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
		if c.Bool("digests") {
			table = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
		}
		f, err := newFormatter(c.App.Writer, c.String("format"), table)
		if err != nil {
			return err
		}
		if err := f.writeHeader(imageRow{ID: "IMAGE ID", Repository: "REPOSITORY", Tag: "TAG", Digest: "DIGEST",
			CreatedSince: "CREATED", CreatedAt: "CREATED AT", Size: "SIZE", Containers: "CONTAINERS",
			SharedSize: "SHARED SIZE", UniqueSize: "UNIQUE SIZE", VirtualSize: "VIRTUAL SIZE"}); err != nil {
			return err
		}
		for _, img := range images {
			for _, row := range imageRows(img, c.Bool("no-trunc")) {
				if err := f.row(row); err != nil {
					return err
				}
			}
		}
		return f.flush()
	})
}

// imageRows gives one row per tag, as docker does, and one <none> row for
// an image without tags.
func imageRows(img image.Summary, noTrunc bool) []imageRow {
	created := time.Unix(img.Created, 0)
	base := imageRow{
		ID:           displayID(img.ID, noTrunc),
		Repository:   "<none>",
		Tag:          "<none>",
		Digest:       "<none>",
		CreatedSince: units.HumanDuration(time.Since(created)) + " ago",
		CreatedAt:    created.Format("2006-01-02 15:04:05 -0700 MST"),
		Size:         units.HumanSizeWithPrecision(float64(img.Size), 3),
		VirtualSize:  units.HumanSizeWithPrecision(float64(img.Size), 3),
		Containers:   "N/A",
		SharedSize:   "N/A",
		UniqueSize:   "N/A",
	}
	digests := map[string]string{} // repository -> digest
	for _, rd := range img.RepoDigests {
		if repo, d, ok := strings.Cut(rd, "@"); ok {
			digests[repo] = d
		}
	}
	if len(img.RepoTags) == 0 {
		for repo, d := range digests {
			row := base
			row.Repository, row.Digest = repo, d
			return []imageRow{row}
		}
		return []imageRow{base}
	}
	rows := make([]imageRow, 0, len(img.RepoTags))
	for _, rt := range img.RepoTags {
		row := base
		if named, err := reference.ParseNormalizedNamed(rt); err == nil {
			row.Repository = reference.FamiliarName(named)
			if t, ok := named.(reference.Tagged); ok {
				row.Tag = t.Tag()
			}
		}
		if d, ok := digests[row.Repository]; ok {
			row.Digest = d
		}
		rows = append(rows, row)
	}
	return rows
}

// displayID shortens "sha256:<64 hex>" to docker's 12 characters.
func displayID(id string, noTrunc bool) string {
	if noTrunc {
		return id
	}
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}
