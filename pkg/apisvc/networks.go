package apisvc

import "net/http"

func (s *Server) networkRoutes() []route {
	return []route{
		{"GET", "/networks", s.listNetworks},
		{"GET", "/networks/{id}", s.inspectNetwork},
	}
}

func (s *Server) listNetworks(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	list, err := s.eng.NetworkList(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

func (s *Server) inspectNetwork(w http.ResponseWriter, r *http.Request) error {
	n, err := s.eng.NetworkInspect(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, n)
}
