package cmd

import (
	"bytes"
	"testing"

	"github.com/rrun/rrun/pkg/storage"
)

func TestPrintLoaded(t *testing.T) {
	var buf bytes.Buffer
	printLoaded(&buf, []storage.LoadedImage{
		{ID: "sha256:aaa", Tags: []string{"alpine:3", "alpine:latest"}, Moved: []storage.MovedTag{{Tag: "alpine:latest", FromID: "sha256:old"}}},
		{ID: "sha256:bbb"},
	})
	want := "The image alpine:latest already exists, renaming the old one with ID sha256:old to empty string\n" +
		"Loaded image: alpine:3\nLoaded image: alpine:latest\nLoaded image ID: sha256:bbb\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}
