package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/containerd/errdefs"
	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
)

func inspectFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "format the output using the given Go template, or 'json'"},
		&cli.StringFlag{Name: "type", Usage: "only inspect objects of the given `TYPE`: container or image"},
	}
}

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "Return low-level information on rrun objects",
		ArgsUsage: "NAME|ID [NAME|ID...]",
		Flags:     inspectFlags(),
		Action: func(c *cli.Context) error {
			switch t := c.String("type"); t {
			case "image":
				return imageInspectAction(c)
			case "container":
				return containerInspectAction(c)
			case "":
				return inspectObjects(c, func(eng *engine.Engine, name string) (any, error) {
					// Containers first, then images, as docker looks.
					obj, err := eng.Inspect(c.Context, name)
					if errdefs.IsNotFound(err) {
						if img, ierr := eng.Images.Inspect(c.Context, name); ierr == nil {
							return img, nil
						}
						return nil, errdefs.ErrNotFound.WithMessage("No such object: " + name)
					}
					return obj, err
				})
			default:
				return usageError("%q is not a valid value for --type", t)
			}
		},
	}
}

func containerInspectAction(c *cli.Context) error {
	return inspectObjects(c, func(eng *engine.Engine, name string) (any, error) {
		return eng.Inspect(c.Context, name)
	})
}

func imageInspectAction(c *cli.Context) error {
	return inspectObjects(c, func(eng *engine.Engine, name string) (any, error) {
		return eng.Images.Inspect(c.Context, name)
	})
}

// inspectObjects inspects each argument, prints what it found and fails
// if anything was missing, as docker inspect does.
func inspectObjects(c *cli.Context, inspect func(*engine.Engine, string) (any, error)) error {
	if c.NArg() < 1 {
		return usageError("\"inspect\" requires at least 1 argument")
	}
	return withEngine(c, func(eng *engine.Engine) error {
		var objects []any
		failed := false
		for _, name := range c.Args().Slice() {
			obj, err := inspect(eng, name)
			if err != nil {
				fmt.Fprintf(c.App.ErrWriter, "Error: %v\n", err)
				failed = true
				continue
			}
			objects = append(objects, obj)
		}
		if err := printInspect(c, objects); err != nil {
			return err
		}
		if failed {
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
		// Numbers stay numbers ({{.HostConfig.Memory}} is 67108864, not
		// 6.7108864e+07), as with docker's templates.
		var generic any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&generic); err != nil {
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
