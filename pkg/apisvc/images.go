package apisvc

import (
	"net/http"
	"strings"
)

func (s *Server) imageRoutes() []route {
	return []route{
		{"GET", "/images/json", s.listImages},
		{"POST", "/images/create", s.createImage},
		{"POST", "/images/load", s.loadImages},
		{"POST", "/images/prune", s.pruneImages},
		{"GET", "/images/get", s.saveImages},
		{"GET", "/images/search", s.searchImages},
		{"GET", "/images/{name...}", s.imageByName},
		{"POST", "/images/{name...}", s.imageActionByName},
		{"DELETE", "/images/{name...}", s.removeImage},
		{"POST", "/commit", s.commit},
		{"POST", "/auth", s.auth},
	}
}

func (s *Server) listImages(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	if boolValue(r, "all") {
		f["all"] = []string{"true"}
	}
	list, err := s.eng.Images.List(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

// imageByName serves GET /images/{name}/json, /history and /get: image
// names have slashes, so the route takes the rest of the path and the
// suffix picks the action.
func (s *Server) imageByName(w http.ResponseWriter, r *http.Request) error {
	rest := r.PathValue("name")
	if name, ok := cutSuffix(rest, "/json"); ok {
		img, err := s.eng.Images.Inspect(r.Context(), name)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, img)
	}
	if name, ok := cutSuffix(rest, "/history"); ok {
		return s.history(w, r, name)
	}
	if name, ok := cutSuffix(rest, "/get"); ok {
		return s.save(w, r, []string{name})
	}
	return notFound("page not found")
}

// imageActionByName serves POST /images/{name}/tag and /push.
func (s *Server) imageActionByName(w http.ResponseWriter, r *http.Request) error {
	rest := r.PathValue("name")
	if name, ok := cutSuffix(rest, "/tag"); ok {
		return s.tag(w, r, name)
	}
	if name, ok := cutSuffix(rest, "/push"); ok {
		return s.push(w, r, name)
	}
	return notFound("page not found")
}

func cutSuffix(s, suffix string) (string, bool) {
	if len(s) > len(suffix) && strings.HasSuffix(s, suffix) {
		return s[:len(s)-len(suffix)], true
	}
	return "", false
}
