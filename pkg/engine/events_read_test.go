package engine

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
)

func TestEventFilterErrors(t *testing.T) {
	for _, key := range []string{"status", "name", "Container"} {
		if _, err := eventFilter(map[string][]string{key: {"x"}}); err == nil || err.Error() != "invalid filter '"+key+"'" {
			t.Errorf("filter %s: %v", key, err)
		}
	}
}

func TestEventFilter(t *testing.T) {
	start := events.Message{Type: events.ContainerEventType, Action: events.ActionStart,
		Actor: events.Actor{ID: "0123abcd", Attributes: map[string]string{"name": "web", "image": "alpine:3", "app": "shop"}}}
	execStart := events.Message{Type: events.ContainerEventType, Action: "exec_start: sh -c true",
		Actor: events.Actor{ID: "0123abcd", Attributes: map[string]string{"name": "web"}}}
	pull := events.Message{Type: events.ImageEventType, Action: events.ActionPull,
		Actor: events.Actor{ID: "alpine:3", Attributes: map[string]string{"name": "alpine:3"}}}
	all := []events.Message{start, execStart, pull}
	for _, tc := range []struct {
		name    string
		filters map[string][]string
		want    []events.Message
	}{
		{"none", nil, all},
		{"container by name prefix", map[string][]string{"container": {"we"}}, []events.Message{start, execStart}},
		{"container by id prefix", map[string][]string{"container": {"0123"}}, []events.Message{start, execStart}},
		{"container excludes other types", map[string][]string{"container": {"nope", "web"}}, []events.Message{start, execStart}},
		{"event exact", map[string][]string{"event": {"start"}}, []events.Message{start}},
		{"event exec_start by prefix", map[string][]string{"event": {"exec_start"}}, []events.Message{execStart}},
		{"event values widen", map[string][]string{"event": {"start", "pull"}}, []events.Message{start, pull}},
		{"type", map[string][]string{"type": {"image"}}, []events.Message{pull}},
		{"image of a container, without tag", map[string][]string{"image": {"alpine"}}, []events.Message{start, pull}},
		{"image with tag", map[string][]string{"image": {"alpine:3"}}, []events.Message{start, pull}},
		{"label key", map[string][]string{"label": {"app"}}, []events.Message{start}},
		{"label value", map[string][]string{"label": {"app=shop"}}, []events.Message{start}},
		{"labels all match", map[string][]string{"label": {"app=shop", "tier"}}, nil},
		{"keys narrow", map[string][]string{"type": {"container"}, "event": {"start"}}, []events.Message{start}},
	} {
		match, err := eventFilter(tc.filters)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []events.Message
		for _, m := range all {
			if match(m) {
				got = append(got, m)
			}
		}
		if !slices.EqualFunc(got, tc.want, func(a, b events.Message) bool { return a.Action == b.Action && a.Type == b.Type }) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func appendEvents(t *testing.T, path string, data string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
}

func eventLine(action string, at time.Time) string {
	data, _ := json.Marshal(events.Message{Type: events.ContainerEventType, Action: events.Action(action), TimeNano: at.UnixNano(), Time: at.Unix()})
	return string(data) + "\n"
}

func TestEventReader(t *testing.T) {
	path := filepath.Join(t.TempDir(), eventsFile)
	r := &eventReader{path: path}
	defer r.close()
	if got := r.read(); len(got) != 0 {
		t.Fatalf("no file: %v", got)
	}
	now := time.Now()
	line := eventLine("create", now)
	// A line being written is held back until it is whole; a damaged
	// one is skipped.
	appendEvents(t, path, "{not json}\n"+line+line[:10])
	if got := r.read(); len(got) != 1 || got[0].Action != "create" {
		t.Fatalf("first read: %v", got)
	}
	appendEvents(t, path, line[10:])
	if got := r.read(); len(got) != 1 || got[0].Action != "create" {
		t.Fatalf("completed line: %v", got)
	}
	// A replaced file (a wiped run root) is read from its start.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, path, eventLine("start", now)+eventLine("die", now)+eventLine("destroy", now))
	if got := r.read(); len(got) != 3 || got[0].Action != "start" {
		t.Fatalf("replaced file: %v", got)
	}
	// skipToEnd ignores what is there.
	r2 := &eventReader{path: path}
	defer r2.close()
	r2.skipToEnd()
	appendEvents(t, path, eventLine("rename", now))
	if got := r2.read(); len(got) != 1 || got[0].Action != "rename" {
		t.Fatalf("after skipToEnd: %v", got)
	}
}

func TestEventsWindow(t *testing.T) {
	dir := t.TempDir()
	e := &Engine{opts: Options{RunRoot: dir}}
	path := filepath.Join(dir, eventsFile)
	base := time.Now().Add(-time.Hour)
	for i, action := range []string{"create", "start", "die", "destroy"} {
		appendEvents(t, path, eventLine(action, base.Add(time.Duration(i)*time.Minute)))
	}
	collect := func(opts EventsOptions) ([]string, error) {
		var got []string
		err := e.Events(context.Background(), opts, func(m events.Message) error {
			got = append(got, string(m.Action))
			return nil
		})
		return got, err
	}
	// A past --until replays and returns.
	got, err := collect(EventsOptions{Since: base.Add(time.Minute), Until: base.Add(2 * time.Minute)})
	if err != nil || !slices.Equal(got, []string{"start", "die"}) {
		t.Fatalf("since/until: %v %v", got, err)
	}
	got, err = collect(EventsOptions{Until: base.Add(90 * time.Second)})
	if err != nil || !slices.Equal(got, []string{"create", "start"}) {
		t.Fatalf("until only: %v %v", got, err)
	}
	if _, err := collect(EventsOptions{Since: base.Add(time.Minute), Until: base}); err == nil {
		t.Fatal("since after until accepted")
	}
	// A future --until follows: an event recorded meanwhile arrives, and
	// the stream ends at the deadline.
	go func() {
		time.Sleep(150 * time.Millisecond)
		appendEvents(t, path, eventLine("restart", time.Now()))
	}()
	started := time.Now()
	got, err = collect(EventsOptions{Since: base.Add(3 * time.Minute), Until: time.Now().Add(600 * time.Millisecond)})
	if err != nil || !slices.Equal(got, []string{"destroy", "restart"}) {
		t.Fatalf("following: %v %v", got, err)
	}
	if d := time.Since(started); d < 500*time.Millisecond || d > 2*time.Second {
		t.Errorf("followed for %v, want about 600ms", d)
	}
	// Without since, only new events; a cancelled context ends the stream.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var live []string
	go func() {
		time.Sleep(100 * time.Millisecond)
		appendEvents(t, path, eventLine("kill", time.Now()))
	}()
	err = e.Events(ctx, EventsOptions{}, func(m events.Message) error {
		live = append(live, string(m.Action))
		return nil
	})
	if err != nil || !slices.Equal(live, []string{"kill"}) {
		t.Fatalf("live: %v %v", live, err)
	}
	// fn's error ends the stream.
	stop := errors.New("stop")
	if err := e.Events(context.Background(), EventsOptions{Since: base}, func(events.Message) error { return stop }); err != stop {
		t.Fatalf("fn error: %v", err)
	}
}
