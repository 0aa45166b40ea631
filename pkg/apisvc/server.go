package apisvc

import (
	"context"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/rrun/rrun/pkg/engine"
	"github.com/rrun/rrun/pkg/version"
)

// The API versions served: docker's current one and its oldest.
const (
	APIVersion    = "1.51"
	MinAPIVersion = "1.24"
)

// Server answers the Engine API for one engine.
type Server struct {
	eng *engine.Engine
	mux *http.ServeMux
	// sessions are the live attach and exec sessions (attach.go, exec.go).
	sessions *streamState
}

// route is one line of a resource's route table.
type route struct {
	method, path string
	handler      handlerFunc
}

// handlerFunc handles a request; an error is written as docker writes it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// New builds the server's routes.
func New(eng *engine.Engine) *Server {
	s := &Server{eng: eng, mux: http.NewServeMux(), sessions: newStreamState()}
	for _, table := range [][]route{s.systemRoutes(), s.containerRoutes(), s.imageRoutes(), s.networkRoutes(), s.volumeRoutes(), s.eventRoutes(), s.systemDfRoutes(), s.archiveRoutes(), s.unsupportedRoutes()} {
		for _, rt := range table {
			s.mux.Handle(rt.method+" "+rt.path, s.wrap(rt.handler))
		}
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, notFound("page not found"))
	})
	return s
}

// Serve answers requests on ln until ctx ends; open streams are cut then.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		_ = srv.Close()
	}()
	err := srv.Serve(ln)
	if err == http.ErrServerClosed {
		return nil
	}
	return err
}

var versionPrefix = regexp.MustCompile(`^/v([0-9]+\.[0-9]+)(/.*)$`)

// ServeHTTP strips and checks the /vX.Y prefix, sets docker's headers and
// routes the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Server", "Docker/"+version.Version+" (linux)")
	h.Set("Api-Version", APIVersion)
	h.Set("Ostype", "linux")
	h.Set("Docker-Experimental", "false")
	if m := versionPrefix.FindStringSubmatch(r.URL.Path); m != nil {
		if err := checkVersion(m[1]); err != nil {
			writeError(w, r, err)
			return
		}
		r.URL.Path = m[2]
		r.URL.RawPath = ""
	}
	s.mux.ServeHTTP(w, r)
}

// checkVersion refuses versions outside [MinAPIVersion, APIVersion], with
// dockerd's words.
func checkVersion(v string) error {
	switch {
	case compareVersions(v, MinAPIVersion) < 0:
		return invalid("client version " + v + " is too old. Minimum supported API version is " + MinAPIVersion + ", please upgrade your client to a newer version")
	case compareVersions(v, APIVersion) > 0:
		return invalid("client version " + v + " is too new. Maximum supported API version is " + APIVersion)
	}
	return nil
}

// compareVersions compares "major.minor" versions.
func compareVersions(a, b string) int {
	am, an, _ := strings.Cut(a, ".")
	bm, bn, _ := strings.Cut(b, ".")
	if c := compareNumbers(am, bm); c != 0 {
		return c
	}
	return compareNumbers(an, bn)
}

func compareNumbers(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

// wrap turns a handler's error into docker's error response.
func (s *Server) wrap(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeError(w, r, err)
		}
	})
}
