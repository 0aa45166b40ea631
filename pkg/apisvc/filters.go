package apisvc

import (
	"encoding/json"
	"net/http"
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
