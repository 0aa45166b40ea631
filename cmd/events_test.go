package cmd

import (
	"bytes"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
)

func TestPrintEvent(t *testing.T) {
	at := time.Date(2024, 1, 1, 0, 0, 0, 5, time.Local)
	var b bytes.Buffer
	msg := events.Message{Type: "container", Action: "start", TimeNano: at.UnixNano(),
		Actor: events.Actor{ID: "abc", Attributes: map[string]string{"name": "web", "image": "alpine"}}}
	if err := printEvent(&b, msg); err != nil {
		t.Fatal(err)
	}
	want := at.Format("2006-01-02T15:04:05") + ".000000005" + at.Format("Z07:00") + " container start abc (image=alpine, name=web)\n"
	if b.String() != want {
		t.Errorf("got %q\nwant %q", b.String(), want)
	}
	b.Reset()
	_ = printEvent(&b, events.Message{Type: "image", Action: "prune"})
	if b.String() != "image prune \n" {
		t.Errorf("no time, no attributes: %q", b.String())
	}
}
