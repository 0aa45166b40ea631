package cmd

import (
	"io"
	"reflect"
	"testing"

	"github.com/urfave/cli/v2"
)

// Instructions keep their commas, and -c and --change mix in order.
func TestImportChangeFlags(t *testing.T) {
	var got []string
	app := &cli.App{Writer: io.Discard, ErrWriter: io.Discard, Commands: []*cli.Command{{
		Name:  "import",
		Flags: importFlags(),
		Action: func(c *cli.Context) error {
			got = *c.Generic("change").(*repeatable)
			return nil
		},
	}}}
	err := app.Run([]string{"rrun", "import", "-c", `CMD ["a", "b,c"]`, "--change", "ENV A=1", "-c", "USER x", "file.tar"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{`CMD ["a", "b,c"]`, "ENV A=1", "USER x"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
