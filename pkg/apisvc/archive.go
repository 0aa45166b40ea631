package apisvc

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"

	"github.com/moby/moby/api/types/container"

	"github.com/rrun/rrun/pkg/engine"
)

// The archive endpoints docker cp is built on; the engine does the work
// (cp_archive.go), with its guarantee that paths and symlinks resolve
// inside the container.

// pathStatHeader carries a path's container.PathStat, base64 JSON.
const pathStatHeader = "X-Docker-Container-Path-Stat"

func (s *Server) archiveRoutes() []route {
	return []route{
		{"HEAD", "/containers/{id}/archive", s.statArchivePath},
		{"GET", "/containers/{id}/archive", s.getArchive},
		{"PUT", "/containers/{id}/archive", s.putArchive},
	}
}

// encodePathStat is the header value docker's client decodes.
func encodePathStat(st *container.PathStat) (string, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

func archivePathParam(r *http.Request) (string, error) {
	p := r.URL.Query().Get("path")
	if p == "" {
		return "", invalid("path is required") // never sent empty by docker's CLI
	}
	return p, nil
}

func (s *Server) statArchivePath(w http.ResponseWriter, r *http.Request) error {
	p, err := archivePathParam(r)
	if err != nil {
		return err
	}
	st, err := s.eng.ContainerStatPath(r.Context(), r.PathValue("id"), p)
	if err != nil {
		return err
	}
	h, err := encodePathStat(st)
	if err != nil {
		return err
	}
	w.Header().Set(pathStatHeader, h)
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) getArchive(w http.ResponseWriter, r *http.Request) error {
	p, err := archivePathParam(r)
	if err != nil {
		return err
	}
	content, st, err := s.eng.ContainerArchivePath(r.Context(), r.PathValue("id"), p)
	if err != nil {
		return err
	}
	defer content.Close()
	h, err := encodePathStat(st)
	if err != nil {
		return err
	}
	w.Header().Set(pathStatHeader, h)
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	// Once the status is out an error can only cut the stream short.
	_, _ = io.Copy(w, content)
	return nil
}

func (s *Server) putArchive(w http.ResponseWriter, r *http.Request) error {
	p, err := archivePathParam(r)
	if err != nil {
		return err
	}
	opts := engine.ExtractOptions{
		AllowOverwriteDirWithFile: !boolValue(r, "noOverwriteDirNonDir"),
		CopyUIDGID:                boolValue(r, "copyUIDGID"),
	}
	if err := s.eng.ContainerExtractToDir(r.Context(), r.PathValue("id"), p, opts, r.Body); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
