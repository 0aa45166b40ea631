package apisvc

import (
	"net/http"
	"strconv"

	"github.com/rrun/rrun/pkg/engine"
)

func (s *Server) containerRoutes() []route {
	return append([]route{
		{"GET", "/containers/json", s.listContainers},
		{"GET", "/containers/{id}/json", s.inspectContainer},
		{"POST", "/containers/create", s.createContainer},
		{"POST", "/containers/prune", s.pruneContainers},
		{"POST", "/containers/{id}/start", s.startContainer},
		{"POST", "/containers/{id}/stop", s.stopContainer},
		{"POST", "/containers/{id}/restart", s.restartContainer},
		{"POST", "/containers/{id}/kill", s.killContainer},
		{"POST", "/containers/{id}/wait", s.waitContainer},
		{"DELETE", "/containers/{id}", s.removeContainer},
		{"GET", "/containers/{id}/logs", s.containerLogs},
		{"GET", "/containers/{id}/top", s.topContainer},
		{"POST", "/containers/{id}/rename", s.renameContainer},
		{"POST", "/containers/{id}/pause", s.pauseContainer},
		{"POST", "/containers/{id}/unpause", s.unpauseContainer},
		{"GET", "/containers/{id}/changes", s.containerChanges},
		{"GET", "/containers/{id}/export", s.exportContainer},
		{"POST", "/containers/{id}/update", s.updateContainer},
		{"GET", "/containers/{id}/stats", s.containerStats},
	}, s.execRoutes()...) // attach, resize and exec: attach.go, exec.go
}

func (s *Server) listContainers(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	opts := engine.ListOptions{All: boolValue(r, "all"), Size: boolValue(r, "size"), Filters: f}
	if limit := r.URL.Query().Get("limit"); limit != "" {
		if opts.Limit, err = strconv.Atoi(limit); err != nil {
			return invalid("invalid limit: " + limit)
		}
	}
	list, err := s.eng.List(r.Context(), opts)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

func (s *Server) inspectContainer(w http.ResponseWriter, r *http.Request) error {
	c, err := s.eng.Inspect(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if c.NetworkSettings != nil && (c.State == nil || !c.State.Running) && len(c.NetworkSettings.Networks) == 0 {
		// Like docker, a container that does not run still lists the
		// networks it is on (docker-compose reads them before connecting).
		nets, err := s.eng.ConfiguredNetworks(c.ID)
		if err != nil {
			return err
		}
		c.NetworkSettings.Networks = nets
	}
	return writeJSON(w, http.StatusOK, c)
}
