package apisvc

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// maxBody bounds JSON request bodies: a create or connect request is a few
// kilobytes; anything huge is refused rather than held in memory.
const maxBody = 16 << 20

// decodeBody reads a JSON request body into v, as dockerd does: unknown
// fields are ignored, an empty body leaves v as it is, and malformed JSON
// or wrong types are the client's error (400; docker 20.10 said 500).
func decodeBody(r *http.Request, v any) error {
	body := http.MaxBytesReader(nil, r.Body, maxBody)
	err := json.NewDecoder(body).Decode(v)
	var tooBig *http.MaxBytesError
	switch {
	case err == nil, errors.Is(err, io.EOF):
		return nil
	case errors.As(err, &tooBig):
		return invalid("request body too large")
	}
	return invalid("invalid JSON: " + err.Error())
}
