package cmd

import (
	"bytes"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/image"
)

func TestConfirm(t *testing.T) {
	for in, want := range map[string]bool{"": false, "n\n": false, "yes\n": false, "y\n": true, " Y \n": true, "y": true} {
		var out bytes.Buffer
		if got := confirm(strings.NewReader(in), &out, "Sure?"); got != want {
			t.Errorf("%q: got %v, want %v", in, got, want)
		}
		if out.String() != "Sure? [y/N] " {
			t.Errorf("prompt %q", out.String())
		}
	}
}

func TestPrintPruneReport(t *testing.T) {
	var buf bytes.Buffer
	printPruneReport(&buf, &image.PruneReport{})
	if buf.String() != "Total reclaimed space: 0B\n" {
		t.Errorf("empty report: %q", buf.String())
	}
	buf.Reset()
	printPruneReport(&buf, &image.PruneReport{SpaceReclaimed: 2134000, ImagesDeleted: []image.DeleteResponse{
		{Untagged: "alpine:latest"}, {Deleted: "sha256:aaa"}, {Deleted: "sha256:bbb"},
	}})
	want := "Deleted Images:\nuntagged: alpine:latest\ndeleted: sha256:aaa\ndeleted: sha256:bbb\n\nTotal reclaimed space: 2.134MB\n"
	if buf.String() != want {
		t.Errorf("got\n%q\nwant\n%q", buf.String(), want)
	}
}
