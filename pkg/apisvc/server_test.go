package apisvc

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

func TestCheckVersion(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want string // "" = accepted
	}{
		{"1.12", "client version 1.12 is too old. Minimum supported API version is 1.24"},
		{"1.23", "too old"},
		{"1.24", ""},
		{"1.41", ""},
		{"1.51", ""},
		{"1.52", "client version 1.52 is too new. Maximum supported API version is 1.51"},
		{"2.0", "too new"},
		{"1.100", "too new"},
	} {
		err := checkVersion(tc.v)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("checkVersion(%s) = %v, want %q", tc.v, err, tc.want)
		}
		if err != nil && !errdefs.IsInvalidArgument(err) {
			t.Errorf("checkVersion(%s): not an invalid-argument error", tc.v)
		}
	}
}

func TestStatusOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{errors.New("plain"), 500},
		{fmt.Errorf("wrapped: %w", errdefs.ErrNotFound), 404},
		{errdefs.ErrInvalidArgument, 400},
		{errdefs.ErrConflict, 409},
		{errdefs.ErrAlreadyExists, 409},
		{errdefs.ErrPermissionDenied, 403},
		{errdefs.ErrNotImplemented, 501},
		{errdefs.ErrUnavailable, 503},
		{errdefs.ErrNotModified, 304},
		{errdefs.ErrFailedPrecondition.WithMessage("no freezer"), 412},
	} {
		if got := statusOf(tc.err); got != tc.want {
			t.Errorf("statusOf(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestFilters(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  map[string][]string
		bad   bool
	}{
		{"", map[string][]string{}, false},
		{`filters={"label":["a=b","c"],"status":["running"]}`, map[string][]string{"label": {"a=b", "c"}, "status": {"running"}}, false},
		{`filters={"dangling":{"true":true,"false":false}}`, map[string][]string{"dangling": {"true"}}, false},
		{`filters=notjson`, nil, true},
	} {
		r := httptest.NewRequest(http.MethodGet, "/containers/json?"+strings.ReplaceAll(tc.query, " ", "%20"), nil)
		got, err := filters(r)
		if tc.bad {
			if err == nil || !errdefs.IsInvalidArgument(err) {
				t.Errorf("%s: err = %v, want invalid argument", tc.query, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v %v, want %v", tc.query, got, err, tc.want)
		}
	}
}

func TestWriteError(t *testing.T) {
	w := httptest.NewRecorder()
	writeError(w, httptest.NewRequest(http.MethodGet, "/x", nil), errdefs.ErrNotFound.WithMessage("No such container: x"))
	if w.Code != 404 || w.Body.String() != "{\"message\":\"No such container: x\"}\n" || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET: %d %q %q", w.Code, w.Body.String(), w.Header().Get("Content-Type"))
	}
	w = httptest.NewRecorder()
	writeError(w, httptest.NewRequest(http.MethodHead, "/x", nil), errdefs.ErrNotFound)
	if w.Code != 404 || w.Body.Len() != 0 {
		t.Fatalf("HEAD: %d %q", w.Code, w.Body.String())
	}
}

func TestAPITime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64 // UnixNano; -1 = error
	}{
		{"", 0},
		{"1700000000", 1700000000e9},
		{"1700000000.5", 1700000000e9 + 5e8},
		{"1700000000.000000001", 1700000000e9 + 1},
		{"2023-11-14T22:13:20Z", 1700000000e9},
		{"yesterday", -1},
		{"1700000000.x", -1},
	} {
		got, err := parseTimestamp("since", tc.in)
		switch {
		case tc.want == -1:
			if err == nil || !errdefs.IsInvalidArgument(err) {
				t.Errorf("apiTime(%q) = %v, %v; want an invalid-argument error", tc.in, got, err)
			}
		case err != nil:
			t.Errorf("apiTime(%q): %v", tc.in, err)
		case tc.want == 0 && !got.IsZero(), tc.want != 0 && got.UnixNano() != tc.want:
			t.Errorf("apiTime(%q) = %v, want %d", tc.in, got, tc.want)
		}
	}
}

func TestDecodeBody(t *testing.T) {
	var v struct{ Name string }
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{`{"Name":"a","Unknown":1}`, true}, // unknown fields ignored, as dockerd
		{``, true},
		{`{"Name":1}`, false}, // wrong type
		{`{not json`, false},
		{`{"Name":"` + strings.Repeat("x", maxBody) + `"}`, false},
	} {
		r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(tc.body))
		err := decodeBody(r, &v)
		if tc.ok != (err == nil) || (err != nil && !errdefs.IsInvalidArgument(err)) {
			t.Errorf("decodeBody(%.30q) = %v, want ok=%v", tc.body, err, tc.ok)
		}
	}
}
