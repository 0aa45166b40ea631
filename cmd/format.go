package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"text/template"
)

// formatter prints rows the way docker's --format does: "table …" gives a
// header and aligned columns, "json" one JSON object per line, any other
// value is a Go template applied to each row.
type formatter struct {
	w        io.Writer
	tmpl     *template.Template
	json     bool
	header   bool
	tabw     *tabwriter.Writer
	defaults string
}

// templateFuncs are the helpers docker's templates offer.
var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := marshalJSON(v)
		return string(b), err
	},
	"join":  strings.Join,
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"split": strings.Split,
	"truncate": func(s string, n int) string {
		if len(s) > n {
			return s[:n]
		}
		return s
	},
	"pad": func(s string, before, after int) string {
		return strings.Repeat(" ", before) + s + strings.Repeat(" ", after)
	},
}

// newFormatter compiles format; an empty format means defaultTable.
func newFormatter(w io.Writer, format, defaultTable string) (*formatter, error) {
	f := &formatter{w: w}
	switch {
	case format == "" || format == "table":
		format = defaultTable
	case format == "json":
		f.json = true
		return f, nil
	}
	if rest, ok := strings.CutPrefix(format, "table"); ok {
		format = strings.TrimLeft(rest, " ")
		f.header = true
		f.tabw = tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
		f.w = f.tabw
	}
	// Docker's templates write \t for a column break.
	format = strings.ReplaceAll(format, `\t`, "\t")
	format = strings.ReplaceAll(format, `\n`, "\n")
	tmpl, err := template.New("format").Funcs(templateFuncs).Parse(format)
	if err != nil {
		return nil, usageError("template parsing error: %v", err)
	}
	f.tmpl = tmpl
	return f, nil
}

// writeHeader prints the table header: the template run over headers,
// a row whose fields hold the column titles.
func (f *formatter) writeHeader(headers any) error {
	if !f.header {
		return nil
	}
	return f.row(headers)
}

func (f *formatter) row(v any) error {
	if f.json {
		b, err := marshalJSON(v)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(f.w, "%s\n", b)
		return err
	}
	if err := f.tmpl.Execute(f.w, v); err != nil {
		return fmt.Errorf("template: %w", err)
	}
	_, err := io.WriteString(f.w, "\n")
	return err
}

func (f *formatter) flush() error {
	if f.tabw != nil {
		return f.tabw.Flush()
	}
	return nil
}

// marshalJSON is json.Marshal without HTML escaping, as docker's --format
// prints "<none>" and "<missing>" rather than "\u003cnone\u003e".
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
