package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// Events are appended, one JSON object a line, to events.jsonl in the run
// root by whichever process acts (a CLI, the API server, a monitor);
// `rrun events` and GET /events read and follow that file. O_APPEND makes
// each small write land whole even with several writers.
const eventsFile = "events.jsonl"

func (e *Engine) emit(msg events.Message) {
	now := time.Now()
	msg.Scope = "local"
	msg.Time = now.Unix()
	msg.TimeNano = now.UnixNano()
	data, err := json.Marshal(msg)
	if err != nil {
		return
	}
	f, err := os.OpenFile(filepath.Join(e.opts.RunRoot, eventsFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		logrus.Debugf("recording event %s: %v", msg.Action, err)
		return
	}
	defer f.Close()
	if _, err := f.Write(append(data, '\n')); err != nil {
		logrus.Debugf("recording event %s: %v", msg.Action, err)
	}
	if st, err := f.Stat(); err == nil && st.Size() > maxEventsFile {
		e.rotateEvents()
	}
}

// maxEventsFile bounds events.jsonl, which lives in the run root (memory,
// under /run/user): past it the file becomes events.jsonl.1, replacing the
// previous one. Followers notice the new file (events_read.go); replays
// reach back as far as the current file, thousands of events (docker
// keeps 256).
var maxEventsFile int64 = 1 << 20

func (e *Engine) rotateEvents() {
	path := filepath.Join(e.opts.RunRoot, eventsFile)
	lock, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	defer lock.Close()
	if unix.Flock(int(lock.Fd()), unix.LOCK_EX) != nil {
		return
	}
	// Another writer may have rotated meanwhile: look at the file by name.
	if st, err := os.Stat(path); err == nil && st.Size() > maxEventsFile {
		_ = os.Rename(path, path+".1")
	}
}

// containerEvent is docker's event for a container action, with the
// attributes docker sends: name, image and the container's labels.
func containerEvent(action events.Action, c *Container, extra ...string) events.Message {
	attrs := map[string]string{"name": c.Name, "image": c.Config.Image}
	for k, v := range c.Config.Labels {
		attrs[k] = v
	}
	for i := 0; i+1 < len(extra); i += 2 {
		attrs[extra[i]] = extra[i+1]
	}
	return events.Message{
		Type:   events.ContainerEventType,
		Action: action,
		Actor:  events.Actor{ID: c.ID, Attributes: attrs},
	}
}
