package apisvc

import (
	"net/http"
	"strconv"

	"github.com/rrun/rrun/pkg/engine"
)

func (s *Server) containerRoutes() []route {
	return []route{
		{"GET", "/containers/json", s.listContainers},
		{"GET", "/containers/{id}/json", s.inspectContainer},
	}
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
	return writeJSON(w, http.StatusOK, c)
}
