package apisvc

import (
	"net/http"

	"github.com/moby/moby/api/types/volume"
)

func (s *Server) volumeRoutes() []route {
	return []route{
		{"GET", "/volumes", s.listVolumes},
		{"GET", "/volumes/{name}", s.inspectVolume},
		{"POST", "/volumes/create", s.createVolume},
		{"DELETE", "/volumes/{name}", s.removeVolume},
		{"POST", "/volumes/prune", s.pruneVolumes},
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

func (s *Server) createVolume(w http.ResponseWriter, r *http.Request) error {
	var req volume.CreateRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	v, err := s.eng.VolumeCreate(r.Context(), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, v)
}

func (s *Server) removeVolume(w http.ResponseWriter, r *http.Request) error {
	if err := s.eng.VolumeRemove(r.Context(), r.PathValue("name"), boolValue(r, "force")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) pruneVolumes(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	rep, err := s.eng.VolumePrune(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}
