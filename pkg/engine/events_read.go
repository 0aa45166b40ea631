package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	"github.com/sirupsen/logrus"
	"go.podman.io/image/v5/docker/reference"

	"github.com/rrun/rrun/pkg/storage"
)

// EventsOptions are docker's GET /events query (docker events' flags).
type EventsOptions struct {
	// Since replays the recorded events from this time on. Zero: only
	// events that happen from now on.
	Since time.Time
	// Until ends the stream at this time; a time in the past replays the
	// recorded events and ends at once. Zero: follow until ctx ends.
	Until time.Time
	// Filters are docker's: container, event, type, image, label, volume,
	// network, and the keys of objects rrun does not have (daemon, plugin,
	// node, service, secret, config, scope).
	Filters map[string][]string
}

// eventsPoll is how often a followed events file is checked for growth.
const eventsPoll = 100 * time.Millisecond

// Events passes fn, in order, the recorded events that match opts, as
// docker's /events streams them: the replayed ones first, then new ones as
// processes record them, until opts.Until or until ctx ends. An error
// from fn ends the stream and is returned.
func (e *Engine) Events(ctx context.Context, opts EventsOptions, fn func(events.Message) error) error {
	match, err := eventFilter(opts.Filters)
	if err != nil {
		return err
	}
	since, until := opts.Since, opts.Until
	if !since.IsZero() && !until.IsZero() && until.Before(since) {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("`since` time (%s) cannot be after `until` time (%s)", since.Format(time.RFC3339Nano), until.Format(time.RFC3339Nano)))
	}
	r := &eventReader{path: filepath.Join(e.opts.RunRoot, eventsFile)}
	defer r.close()
	if since.IsZero() && until.IsZero() {
		r.skipToEnd()
	}
	onlyPast := !until.IsZero() && until.Before(time.Now())
	var deadline <-chan time.Time
	if !until.IsZero() && !onlyPast {
		t := time.NewTimer(time.Until(until))
		defer t.Stop()
		deadline = t.C
	}
	send := func() error {
		for _, msg := range r.read() {
			if !since.IsZero() && msg.TimeNano < since.UnixNano() ||
				!until.IsZero() && msg.TimeNano > until.UnixNano() || !match(msg) {
				continue
			}
			if err := fn(msg); err != nil {
				return err
			}
		}
		return nil
	}
	for {
		if err := send(); err != nil || onlyPast {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-deadline:
			return send() // what was recorded up to the deadline
		case <-time.After(eventsPoll):
		}
	}
}

// eventReader reads events.jsonl from where it last stopped. It keeps the
// file open, so that a replaced file (a wiped run root) is noticed, and
// starts over on the new one or when the file was truncated; a last line
// still being written is held back.
type eventReader struct {
	path    string
	f       *os.File
	offset  int64
	partial []byte
}

// skipToEnd makes the reader ignore what the file already holds.
func (r *eventReader) skipToEnd() {
	if r.open() {
		if st, err := r.f.Stat(); err == nil {
			r.offset = st.Size()
		}
	}
}

func (r *eventReader) open() bool {
	if r.f != nil {
		return true
	}
	f, err := os.Open(r.path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			logrus.Debugf("reading events: %v", err)
		}
		return false
	}
	r.f, r.offset, r.partial = f, 0, nil
	return true
}

func (r *eventReader) close() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}

// read returns the events appended since the last read.
func (r *eventReader) read() []events.Message {
	if !r.open() {
		return nil
	}
	out := r.readOpen()
	if st, err := os.Stat(r.path); err != nil || !sameFile(r.f, st) {
		r.close() // replaced or removed: the rest of the old file is read
		if r.open() {
			out = append(out, r.readOpen()...)
		}
	}
	return out
}

func sameFile(f *os.File, st os.FileInfo) bool {
	fst, err := f.Stat()
	return err == nil && os.SameFile(fst, st)
}

func (r *eventReader) readOpen() []events.Message {
	st, err := r.f.Stat()
	if err != nil {
		return nil
	}
	if st.Size() < r.offset { // truncated
		r.offset, r.partial = 0, nil
	}
	if st.Size() == r.offset {
		return nil
	}
	data, err := io.ReadAll(io.NewSectionReader(r.f, r.offset, st.Size()-r.offset))
	if err != nil {
		logrus.Debugf("reading events: %v", err)
		return nil
	}
	r.offset += int64(len(data))
	data = append(r.partial, data...)
	end := bytes.LastIndexByte(data, '\n') + 1
	r.partial = append([]byte(nil), data[end:]...)
	var out []events.Message
	for _, line := range bytes.Split(data[:end], []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var msg events.Message
		if err := json.Unmarshal(line, &msg); err != nil {
			logrus.Debugf("skipping a damaged event record: %v", err)
			continue
		}
		out = append(out, msg)
	}
	return out
}

// eventFilterKeys are the filters docker's /events accepts.
var eventFilterKeys = []string{"config", "container", "daemon", "event", "image", "label", "network", "node", "plugin", "scope", "secret", "service", "type", "volume"}

// eventFilter compiles docker's events filters with dockerd's rules
// (daemon/events/filter.go): values of one key widen the match, keys
// narrow it, labels must all match; an object filter (container, volume,
// network…) matches an event whose actor id or "name" starts with the
// value, whatever the event's type.
func eventFilter(f map[string][]string) (func(events.Message) bool, error) {
	for key := range f {
		if !slices.Contains(eventFilterKeys, key) {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter '%s'", key))
		}
	}
	exact := func(key, v string) bool {
		return len(f[key]) == 0 || slices.Contains(f[key], v)
	}
	fuzzy := func(key, v string) bool {
		return len(f[key]) == 0 || slices.ContainsFunc(f[key], func(p string) bool { return strings.HasPrefix(v, p) })
	}
	// Health and exec actions carry a suffix ("exec_start: sh"); docker
	// matches them by prefix when one of these is asked for.
	eventFuzzy := slices.ContainsFunc(f["event"], func(v string) bool {
		return v == "health_status" || v == "exec_create" || v == "exec_start"
	})
	return func(ev events.Message) bool {
		name := ev.Actor.Attributes["name"]
		for _, key := range []string{"container", "daemon", "plugin", "volume", "network", "node", "service", "secret", "config"} {
			if !fuzzy(key, ev.Actor.ID) && !fuzzy(key, name) {
				return false
			}
		}
		if eventFuzzy && !fuzzy("event", string(ev.Action)) || !eventFuzzy && !exact("event", string(ev.Action)) {
			return false
		}
		if !exact("type", string(ev.Type)) || !exact("scope", ev.Scope) {
			return false
		}
		// image matches an image event's id or name, a container event's
		// image, each also without its tag.
		imageName := ev.Actor.Attributes["image"]
		if ev.Type == events.ImageEventType {
			imageName = name
		}
		if !exact("image", ev.Actor.ID) && !exact("image", imageName) &&
			!exact("image", familiarName(ev.Actor.ID)) && !exact("image", familiarName(imageName)) {
			return false
		}
		return storage.MatchLabels(ev.Actor.Attributes, f["label"])
	}, nil
}

// familiarName is an image reference without its tag or digest
// ("alpine" for "alpine:3"); anything else is returned as it is.
func familiarName(s string) string {
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return s
	}
	return reference.FamiliarName(named)
}

// CheckEventFilters says whether Events would accept the filters, so that
// a server can refuse them before it starts streaming.
func CheckEventFilters(f map[string][]string) error {
	_, err := eventFilter(f)
	return err
}
