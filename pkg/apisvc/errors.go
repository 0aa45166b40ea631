package apisvc

import (
	"encoding/json"
	"net/http"

	"github.com/containerd/errdefs"
)

// statusOf maps the engine's error classes to docker's status codes, as
// moby's httpstatus.FromError does; anything unclassified is a 500.
func statusOf(err error) int {
	switch {
	case errdefs.IsNotFound(err):
		return http.StatusNotFound
	case errdefs.IsInvalidArgument(err):
		return http.StatusBadRequest
	case errdefs.IsConflict(err), errdefs.IsAlreadyExists(err):
		return http.StatusConflict
	case errdefs.IsPermissionDenied(err):
		return http.StatusForbidden
	case errdefs.IsUnauthorized(err):
		return http.StatusUnauthorized
	case errdefs.IsUnavailable(err):
		return http.StatusServiceUnavailable
	case errdefs.IsNotImplemented(err):
		return http.StatusNotImplemented
	case errdefs.IsNotModified(err):
		return http.StatusNotModified
	case errdefs.IsFailedPrecondition(err):
		// moby's statusCodeFromContainerdError: e.g. pause without a freezer.
		return http.StatusPreconditionFailed
	}
	return http.StatusInternalServerError
}

// writeError writes docker's error body, {"message": "…"}; a HEAD request
// and a 304 get the status alone.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if status == http.StatusNotModified || r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, map[string]string{"message": err.Error()})
}

// writeJSON writes v as docker does: JSON with a trailing newline.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

func notFound(msg string) error { return errdefs.ErrNotFound.WithMessage(msg) }
func invalid(msg string) error  { return errdefs.ErrInvalidArgument.WithMessage(msg) }
