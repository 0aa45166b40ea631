package cmd

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/volume"
	"github.com/urfave/cli/v2"
)

// runVolumeCreate parses a volume create command line into its request.
func runVolumeCreate(t *testing.T, args ...string) (volume.CreateRequest, error) {
	t.Helper()
	var got volume.CreateRequest
	cmd := volumeCreateCommand()
	cmd.Action = func(c *cli.Context) (err error) {
		got, err = volumeCreateRequest(c)
		return err
	}
	app := &cli.App{Commands: []*cli.Command{cmd}, DisableSliceFlagSeparator: true, Writer: io.Discard, ErrWriter: io.Discard}
	err := app.Run(append([]string{"rrun", "create"}, args...))
	return got, err
}

func TestVolumeCreateRequest(t *testing.T) {
	if _, err := runVolumeCreate(t, "a", "b"); err == nil || !strings.Contains(err.Error(), "requires at most 1 argument") {
		t.Fatalf("two names: %v", err)
	}
	got, err := runVolumeCreate(t, "--label", "app=web", "--label", "tier", "-o", "type=tmpfs", "--opt", "device=tmpfs", "-o", "o=size=1m,mode=0700", "data")
	if err != nil {
		t.Fatal(err)
	}
	want := volume.CreateRequest{
		Name: "data", Driver: "local",
		Labels:     map[string]string{"app": "web", "tier": ""},
		DriverOpts: map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=1m,mode=0700"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if got, _ := runVolumeCreate(t); got.Name != "" || got.Driver != "local" {
		t.Fatalf("no arguments: %+v", got)
	}
}

func TestVolumeRow(t *testing.T) {
	row := newVolumeRow(volume.Volume{Name: "data", Driver: "local", Scope: "local", Mountpoint: "/v/data/_data", Labels: map[string]string{"b": "2", "a": "1"}})
	if row.Labels != "a=1,b=2" || row.Label("b") != "2" || row.Size != "N/A" {
		t.Fatalf("row %+v", row)
	}
	var buf bytes.Buffer
	f, err := newFormatter(&buf, "json", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.row(row); err != nil {
		t.Fatal(err)
	}
	want := `{"Availability":"N/A","Driver":"local","Group":"N/A","Labels":"a=1,b=2","Links":"N/A","Mountpoint":"/v/data/_data","Name":"data","Scope":"local","Size":"N/A","Status":"N/A"}` + "\n"
	if buf.String() != want {
		t.Fatalf("json row %s, want %s", buf.String(), want)
	}
}

func TestPrintVolumePruneReport(t *testing.T) {
	var buf bytes.Buffer
	printVolumePruneReport(&buf, &volume.PruneReport{})
	if buf.String() != "Total reclaimed space: 0B\n" {
		t.Errorf("empty report: %q", buf.String())
	}
	buf.Reset()
	printVolumePruneReport(&buf, &volume.PruneReport{VolumesDeleted: []string{"a", "b"}, SpaceReclaimed: 2048})
	if want := "Deleted Volumes:\na\nb\n\nTotal reclaimed space: 2.048kB\n"; buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}
