package apisvc

import (
	"io"
	"net/http"
	"strings"

	"github.com/containerd/errdefs"
)

// Features rrun does not have, answered as dockerd answers when it cannot
// serve them, so that docker's CLI prints a clear error rather than
// "page not found".

// dockerd's words (daemon/cluster) outside a swarm.
const (
	errNoManagerMsg = `This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.`
	errNoSwarmMsg   = "This node is not part of a swarm"
	noSwarmModeMsg  = "rrun does not support swarm mode: it cannot init or join a swarm"
	noBuildMsg      = "rrun cannot build images yet: build the image with another tool (docker, buildah, podman) and bring it in with docker pull or docker load"
)

// swarmPrefixes are the swarm-only resources; every method on each of
// them, and below them, is refused.
var swarmPrefixes = []string{"swarm", "nodes", "services", "tasks", "secrets", "configs"}

func (s *Server) unsupportedRoutes() []route {
	var rs []route
	for _, p := range swarmPrefixes {
		// An empty method matches them all.
		rs = append(rs, route{"", "/" + p, noSwarm}, route{"", "/" + p + "/", noSwarm})
	}
	return append(rs,
		route{"GET", "/plugins", listPlugins},
		route{"", "/plugins/", pluginAction},
		route{"POST", "/build", noBuild},
		route{"POST", "/build/prune", pruneBuildCache},
		route{"POST", "/build/cancel", noBuild},
		route{"", "/session", noBuild},
		route{"", "/grpc", noBuild},
		route{"GET", "/containers/{id}/attach/ws", noWebsocketAttach},
		route{"GET", "/distribution/", noDistribution},
	)
}

func unavailable(msg string) error    { return errdefs.ErrUnavailable.WithMessage(msg) }
func notImplemented(msg string) error { return errdefs.ErrNotImplemented.WithMessage(msg) }

// noSwarm is dockerd's 503 outside a swarm; init and join, which would
// make one, say that rrun cannot.
func noSwarm(w http.ResponseWriter, r *http.Request) error {
	switch r.URL.Path {
	case "/swarm/init", "/swarm/join":
		return unavailable(noSwarmModeMsg)
	case "/swarm/leave", "/swarm/unlock":
		return unavailable(errNoSwarmMsg)
	}
	return unavailable(errNoManagerMsg)
}

// listPlugins: rrun has no plugins.
func listPlugins(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, []struct{}{})
}

// pluginAction: a named plugin is not found, as dockerd says for one it
// does not have; installing plugins is not implemented.
func pluginAction(w http.ResponseWriter, r *http.Request) error {
	rest := strings.TrimPrefix(r.URL.Path, "/plugins/")
	switch {
	case rest == "privileges", rest == "pull", rest == "create":
		return notImplemented("rrun does not support plugins")
	}
	name := rest
	for _, suffix := range []string{"/json", "/enable", "/disable", "/push", "/set", "/upgrade"} {
		if n, ok := strings.CutSuffix(rest, suffix); ok {
			name = n
			break
		}
	}
	return notFound(`plugin "` + name + `" not found`)
}

// noBuild refuses a build. The build context is read first so that the
// client, still sending it, gets the answer rather than a broken pipe.
func noBuild(w http.ResponseWriter, r *http.Request) error {
	_, _ = io.Copy(io.Discard, r.Body)
	return notImplemented(noBuildMsg)
}

// pruneBuildCache: there is no build cache, so nothing to prune.
func pruneBuildCache(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]any{"CachesDeleted": []string{}, "SpaceReclaimed": 0})
}

func noWebsocketAttach(w http.ResponseWriter, r *http.Request) error {
	return notImplemented("rrun does not serve attach over websocket; use POST /containers/{id}/attach")
}

func noDistribution(w http.ResponseWriter, r *http.Request) error {
	return notImplemented("rrun does not serve registry distribution information")
}
