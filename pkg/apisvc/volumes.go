package apisvc

import (
	"net/http"

	"github.com/moby/moby/api/types/volume"
)

func (s *Server) volumeRoutes() []route {
	return []route{
		{"GET", "/volumes", s.listVolumes},
		{"GET", "/volumes/{name}", s.inspectVolume},
	}
}

func (s *Server) listVolumes(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	list, err := s.eng.VolumeList(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, volume.ListResponse{Volumes: list, Warnings: []string{}})
}

func (s *Server) inspectVolume(w http.ResponseWriter, r *http.Request) error {
	v, err := s.eng.VolumeInspect(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}
