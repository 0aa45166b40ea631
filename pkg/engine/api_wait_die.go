package engine

import (
	"context"
	"strconv"
	"time"

	"github.com/moby/moby/api/types/events"
)

// recordedDie reads the events log at once for the container's last "die"
// since since: a wait that saw the container removed before its event
// watcher's next poll still gets the exit code (docker run --rm).
func (e *Engine) recordedDie(id string, since time.Time) *WaitResult {
	var died *WaitResult
	_ = e.Events(context.Background(), EventsOptions{Since: since, Until: time.Now(), Filters: map[string][]string{"container": {id}, "event": {string(events.ActionDie)}}}, func(m events.Message) error {
		code, _ := strconv.Atoi(m.Actor.Attributes["exitCode"])
		died = &WaitResult{ExitCode: code}
		return nil
	})
	return died
}
