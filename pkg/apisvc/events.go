package apisvc

import (
	"encoding/json"
	"net/http"

	"github.com/moby/moby/api/types/events"

	"github.com/rrun/rrun/pkg/engine"
)

func (s *Server) eventRoutes() []route {
	return []route{
		{"GET", "/events", s.events},
	}
}

// events streams docker's event messages, one JSON object per line, each
// flushed as it comes, until `until` or until the client goes away.
func (s *Server) events(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	opts := engine.EventsOptions{Filters: f}
	q := r.URL.Query()
	if opts.Since, err = parseTimestamp("since", q.Get("since")); err != nil {
		return err
	}
	if opts.Until, err = parseTimestamp("until", q.Get("until")); err != nil {
		return err
	}
	if !opts.Since.IsZero() && !opts.Until.IsZero() && opts.Until.Before(opts.Since) {
		return invalid("`since` time cannot be after `until` time")
	}
	if err := engine.CheckEventFilters(f); err != nil {
		return err
	}
	// Headers go out at once: a client subscribing sees the stream open
	// before the first event.
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	enc := json.NewEncoder(w)
	err = s.eng.Events(r.Context(), opts, func(msg events.Message) error {
		if err := enc.Encode(msg); err != nil {
			return err
		}
		if flusher != nil {
			flusher.Flush()
		}
		return nil
	})
	if err != nil && r.Context().Err() == nil {
		// Too late for a status: end the stream as dockerd does, with
		// the error as the last message.
		_ = enc.Encode(map[string]string{"message": err.Error()})
	}
	return nil
}
