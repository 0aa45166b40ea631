package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/moby/api/types/events"
)

func TestEventsFileIsBounded(t *testing.T) {
	dir := t.TempDir()
	e := &Engine{opts: Options{RunRoot: dir}}
	saved := maxEventsFile
	maxEventsFile = 2048
	defer func() { maxEventsFile = saved }()
	for i := 0; i < 100; i++ {
		e.emit(events.Message{Type: events.ContainerEventType, Action: events.ActionStart, Actor: events.Actor{ID: "abc"}})
	}
	cur, err := os.Stat(filepath.Join(dir, eventsFile))
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.Stat(filepath.Join(dir, eventsFile+".1"))
	if err != nil {
		t.Fatalf("no rotated file: %v", err)
	}
	if cur.Size() > 2048+512 || old.Size() > 2048+512 {
		t.Fatalf("files grew past the bound: %d and %d bytes", cur.Size(), old.Size())
	}
}
