package apisvc

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// filters reads the `filters` query parameter: docker's JSON map of
// name → values, in its current form ({"label":["a=b"]}) or the old one
// ({"label":{"a=b":true}}).
func filters(r *http.Request) (map[string][]string, error) {
	raw := r.URL.Query().Get("filters")
	out := map[string][]string{}
	if raw == "" {
		return out, nil
	}
	if err := json.Unmarshal([]byte(raw), &out); err == nil {
		return out, nil
	}
	var old map[string]map[string]bool
	if err := json.Unmarshal([]byte(raw), &old); err != nil {
		return nil, invalid("invalid filter: " + err.Error())
	}
	for k, vs := range old {
		for v, on := range vs {
			if on {
				out[k] = append(out[k], v)
			}
		}
	}
	return out, nil
}

// boolValue reads docker's boolean query values: 1, true, True; absent is
// false.
func boolValue(r *http.Request, name string) bool {
	switch r.URL.Query().Get(name) {
	case "1", "true", "True", "TRUE", "yes":
		return true
	}
	return false
}

// apiTime reads a since/until value as docker's clients send it: Unix
// seconds with optional fraction ("1700000000.123456789"), or RFC 3339.
func apiTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	sec, frac, _ := strings.Cut(v, ".")
	if s, err := strconv.ParseInt(sec, 10, 64); err == nil {
		var ns int64
		if frac != "" {
			frac = (frac + "000000000")[:9]
			if ns, err = strconv.ParseInt(frac, 10, 64); err != nil {
				return time.Time{}, invalid("invalid timestamp " + v)
			}
		}
		return time.Unix(s, ns), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.Time{}, invalid("invalid timestamp " + v)
}
