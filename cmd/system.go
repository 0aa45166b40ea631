package cmd

import (
	"fmt"
	"strconv"

	"github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
)

// systemCommand groups the commands about rrun as a whole, as docker's
// `system` management command does.
func systemCommand() *cli.Command {
	return &cli.Command{
		Name:  "system",
		Usage: "Manage rrun",
		Subcommands: []*cli.Command{
			systemDfCommand(),
			// `system info` joins here.
		},
	}
}

func systemDfCommand() *cli.Command {
	return &cli.Command{
		Name:  "df",
		Usage: "Show rrun disk usage",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Usage: "format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "show detailed information on space usage"},
		},
		Action: systemDfAction,
	}
}

// dfRow is one line of `rrun system df`, with docker's field names.
type dfRow struct {
	Active      string
	Reclaimable string
	Size        string
	TotalCount  string
	Type        string
}

// diskUsage is what system df shows; volumes and build cache stay empty
// until rrun has them.
type diskUsage struct {
	Images, Containers, Volumes, BuildCache dfRow
	imageRows                               []imageRow
}

func systemDfAction(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError("\"system df\" accepts no arguments\nUsage: rrun system df [OPTIONS]")
	}
	return withEngine(c, func(eng *engine.Engine) error {
		du, err := collectDiskUsage(c, eng)
		if err != nil {
			return err
		}
		if c.Bool("verbose") && (c.String("format") == "" || c.String("format") == "table") {
			return printDfVerbose(c, du)
		}
		f, err := newFormatter(c.App.Writer, c.String("format"), "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}")
		if err != nil {
			return err
		}
		if err := f.writeHeader(dfRow{Type: "TYPE", TotalCount: "TOTAL", Active: "ACTIVE", Size: "SIZE", Reclaimable: "RECLAIMABLE"}); err != nil {
			return err
		}
		for _, r := range []dfRow{du.Images, du.Containers, du.Volumes, du.BuildCache} {
			if err := f.row(r); err != nil {
				return err
			}
		}
		return f.flush()
	})
}

func collectDiskUsage(c *cli.Context, eng *engine.Engine) (*diskUsage, error) {
	images, err := eng.Images.ImageDiskUsage(c.Context)
	if err != nil {
		return nil, err
	}
	containers, err := eng.Images.ContainerDiskUsage(c.Context)
	if err != nil {
		return nil, err
	}
	du := &diskUsage{
		Images:     newDfRow("Images", images.TotalCount, images.ActiveCount, images.TotalSize, images.Reclaimable, true),
		Containers: newDfRow("Containers", containers.TotalCount, containers.ActiveCount, containers.TotalSize, containers.Reclaimable, true),
		Volumes:    newDfRow("Local Volumes", 0, 0, 0, 0, true),
		BuildCache: newDfRow("Build Cache", 0, 0, 0, 0, false),
	}
	for _, img := range images.Items {
		// docker's verbose table shows each image once, under its first tag.
		row := imageRows(img, false)[0]
		row.Containers = strconv.FormatInt(img.Containers, 10)
		row.SharedSize = units.HumanSizeWithPrecision(float64(img.SharedSize), 3)
		row.UniqueSize = units.HumanSizeWithPrecision(float64(img.Size-img.SharedSize), 3)
		du.imageRows = append(du.imageRows, row)
	}
	return du, nil
}

// newDfRow formats one TYPE row as docker does: the reclaimable share in
// percent, except for the build cache.
func newDfRow(kind string, total, active, size, reclaimable int64, percent bool) dfRow {
	r := dfRow{
		Type:        kind,
		TotalCount:  strconv.FormatInt(total, 10),
		Active:      strconv.FormatInt(active, 10),
		Size:        units.HumanSize(float64(size)),
		Reclaimable: units.HumanSize(float64(reclaimable)),
	}
	if percent && size > 0 {
		r.Reclaimable = fmt.Sprintf("%s (%v%%)", units.HumanSize(float64(reclaimable)), reclaimable*100/size)
	}
	return r
}

// printDfVerbose prints docker's per-object tables.
func printDfVerbose(c *cli.Context, du *diskUsage) error {
	w := c.App.Writer
	fmt.Fprint(w, "Images space usage:\n\n")
	f, err := newFormatter(w, "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}", "")
	if err != nil {
		return err
	}
	if err := f.writeHeader(imageRow{Repository: "REPOSITORY", Tag: "TAG", ID: "IMAGE ID", CreatedSince: "CREATED",
		Size: "SIZE", SharedSize: "SHARED SIZE", UniqueSize: "UNIQUE SIZE", Containers: "CONTAINERS"}); err != nil {
		return err
	}
	for _, r := range du.imageRows {
		if err := f.row(r); err != nil {
			return err
		}
	}
	if err := f.flush(); err != nil {
		return err
	}
	// Containers, volumes and build cache have no rows until rrun keeps them.
	for _, section := range []struct{ title, header string }{
		{"\nContainers space usage:\n\n", "CONTAINER ID\tIMAGE\tCOMMAND\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES"},
		{"\nLocal Volumes space usage:\n\n", "VOLUME NAME\tLINKS\tSIZE"},
		{fmt.Sprintf("\nBuild cache usage: %s\n\n", units.HumanSize(0)), "CACHE ID\tCACHE TYPE\tSIZE\tCREATED\tLAST USED\tUSAGE\tSHARED"},
	} {
		fmt.Fprint(w, section.title)
		t, err := newFormatter(w, "table "+section.header, "")
		if err != nil {
			return err
		}
		if err := t.writeHeader(nil); err != nil {
			return err
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	return nil
}
