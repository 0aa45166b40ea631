package apisvc

import "net/http"

func (s *Server) imageRoutes() []route {
	return []route{
		{"GET", "/images/json", s.listImages},
		{"GET", "/images/{name...}", s.imageByName},
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

// imageByName serves /images/{name}/json: image names have slashes, so the
// route takes the rest of the path and the suffix picks the action.
func (s *Server) imageByName(w http.ResponseWriter, r *http.Request) error {
	rest := r.PathValue("name")
	if name, ok := cutSuffix(rest, "/json"); ok {
		img, err := s.eng.Images.Inspect(r.Context(), name)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, img)
	}
	return notFound("page not found")
}

func cutSuffix(s, suffix string) (string, bool) {
	if len(s) > len(suffix) && s[len(s)-len(suffix):] == suffix {
		return s[:len(s)-len(suffix)], true
	}
	return "", false
}
