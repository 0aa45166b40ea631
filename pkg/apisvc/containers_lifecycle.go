package apisvc

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"

	"github.com/rrun/rrun/pkg/engine"
)

// decodeCreateRequest reads POST /containers/create's body with dockerd's
// errors: unknown fields are ignored, bad JSON is a 400.
func decodeCreateRequest(body io.Reader) (*container.CreateRequest, error) {
	var req container.CreateRequest
	if err := json.NewDecoder(body).Decode(&req); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, invalid("invalid JSON: got EOF while reading request body")
		}
		return nil, invalid("invalid JSON: " + err.Error())
	}
	if req.Config == nil {
		return nil, invalid("config cannot be empty in order to create a container")
	}
	return &req, nil
}

func (s *Server) createContainer(w http.ResponseWriter, r *http.Request) error {
	req, err := decodeCreateRequest(r.Body)
	if err != nil {
		return err
	}
	res, err := s.eng.Create(r.Context(), engine.CreateOptions{
		Name:       r.URL.Query().Get("name"),
		Config:     req.Config,
		HostConfig: req.HostConfig,
		Network:    req.NetworkingConfig,
	})
	if err != nil {
		return err
	}
	out := container.CreateResponse{ID: res.ID, Warnings: res.Warnings}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	return writeJSON(w, http.StatusCreated, out)
}

// startContainer answers 204, 304 when the container already runs (the
// engine's not-modified error). A command that cannot be run (the
// engine's StartError with 126 or 127) is dockerd's invalid-config
// error, a 400; other start failures are 500s.
func (s *Server) startContainer(w http.ResponseWriter, r *http.Request) error {
	// An attach made before the start (docker run) is connected first.
	if handled, err := s.startPending(r.Context(), r.PathValue("id")); handled {
		if err != nil {
			return startStatus(err)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if err := s.eng.Start(r.Context(), r.PathValue("id")); err != nil {
		return startStatus(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func startStatus(err error) error {
	var se *engine.StartError
	if errors.As(err, &se) && (se.ExitCode == 126 || se.ExitCode == 127) {
		return errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	return err
}

// stopTimeout reads the `t` query value: absent is nil (the container's
// own stop timeout, else 10s), -1 waits forever.
func stopTimeout(r *http.Request) (*int, error) {
	t := r.URL.Query().Get("t")
	if t == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(t)
	if err != nil {
		return nil, invalid("invalid value for t: " + t + ": must be an integer")
	}
	return &n, nil
}

func (s *Server) stopContainer(w http.ResponseWriter, r *http.Request) error {
	timeout, err := stopTimeout(r)
	if err != nil {
		return err
	}
	if err := s.eng.Stop(r.Context(), r.PathValue("id"), r.URL.Query().Get("signal"), timeout); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) restartContainer(w http.ResponseWriter, r *http.Request) error {
	timeout, err := stopTimeout(r)
	if err != nil {
		return err
	}
	if err := s.eng.Restart(r.Context(), r.PathValue("id"), r.URL.Query().Get("signal"), timeout); err != nil {
		return startStatus(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) killContainer(w http.ResponseWriter, r *http.Request) error {
	if err := s.eng.Kill(r.Context(), r.PathValue("id"), r.URL.Query().Get("signal")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) removeContainer(w http.ResponseWriter, r *http.Request) error {
	if boolValue(r, "link") {
		return invalid("Conflict, cannot remove the default link name of the container")
	}
	opts := engine.RemoveOptions{Force: boolValue(r, "force"), Volumes: boolValue(r, "v")}
	if err := s.eng.Remove(r.Context(), r.PathValue("id"), opts); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) renameContainer(w http.ResponseWriter, r *http.Request) error {
	if err := s.eng.Rename(r.Context(), r.PathValue("id"), r.URL.Query().Get("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) pauseContainer(w http.ResponseWriter, r *http.Request) error {
	if err := s.eng.Pause(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) unpauseContainer(w http.ResponseWriter, r *http.Request) error {
	if err := s.eng.Unpause(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) topContainer(w http.ResponseWriter, r *http.Request) error {
	top, err := s.eng.Top(r.Context(), r.PathValue("id"), r.URL.Query().Get("ps_args"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, top)
}

func (s *Server) containerChanges(w http.ResponseWriter, r *http.Request) error {
	changes, err := s.eng.Changes(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, changes)
}

func (s *Server) pruneContainers(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	report, err := s.eng.PruneContainers(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, report)
}

func (s *Server) updateContainer(w http.ResponseWriter, r *http.Request) error {
	var cfg container.UpdateConfig
	if err := json.NewDecoder(r.Body).Decode(&cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return invalid("invalid JSON: got EOF while reading request body")
		}
		return invalid("invalid JSON: " + err.Error())
	}
	resp, err := s.eng.Update(r.Context(), r.PathValue("id"), cfg)
	if err != nil {
		return err
	}
	out := container.UpdateResponse{Warnings: []string{}}
	if resp != nil && resp.Warnings != nil {
		out.Warnings = resp.Warnings
	}
	return writeJSON(w, http.StatusOK, out)
}
