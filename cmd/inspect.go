package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
)

func inspectFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "format the output using the given Go template, or 'json'"},
		&cli.StringFlag{Name: "type", Usage: "only inspect objects of the given `TYPE` (image)"},
	}
}

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "Return low-level information on rrun objects",
		ArgsUsage: "NAME|ID [NAME|ID...]",
		Flags:     inspectFlags(),
		Action: func(c *cli.Context) error {
			if t := c.String("type"); t != "" && t != "image" {
				return usageError("unsupported --type %q: rrun can inspect images", t)
			}
			return imageInspectAction(c)
		},
	}
}

func imageInspectAction(c *cli.Context) error {
	if c.NArg() < 1 {
		return usageError("\"inspect\" requires at least 1 argument")
	}
	return withEngine(c, func(eng *engine.Engine) error {
		var objects []any
		var missing []string
		for _, name := range c.Args().Slice() {
			obj, err := eng.Images.Inspect(c.Context, name)
			if err != nil {
				fmt.Fprintf(c.App.ErrWriter, "Error: %v\n", err)
				missing = append(missing, name)
				continue
			}
			objects = append(objects, obj)
		}
		if err := printInspect(c, objects); err != nil {
			return err
		}
		if len(missing) > 0 {
			return &exitCodeError{code: exitError}
		}
		return nil
	})
}

// printInspect prints objects as docker inspect does: an indented JSON
// array, or a template applied to each object's JSON form (so templates
// use the JSON names, {{.Id}}, as with docker).
func printInspect(c *cli.Context, objects []any) error {
	format := c.String("format")
	if format == "" || format == "json" {
		if objects == nil {
			objects = []any{}
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "    ")
		if err := enc.Encode(objects); err != nil {
			return err
		}
		_, err := c.App.Writer.Write(buf.Bytes())
		return err
	}
	f, err := newFormatter(c.App.Writer, format, "")
	if err != nil {
		return err
	}
	for _, obj := range objects {
		raw, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		var generic any
		if err := json.Unmarshal(raw, &generic); err != nil {
			return err
		}
		if err := f.row(generic); err != nil {
			return err
		}
	}
	return f.flush()
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	return enc.Encode(v)
}
