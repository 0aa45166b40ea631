package apisvc

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"go.podman.io/image/v5/docker/reference"
)

func TestJSONStream(t *testing.T) {
	// An error before any message is the caller's to answer with its status.
	w := httptest.NewRecorder()
	s := newJSONStream(w)
	if err := s.finish(errdefs.ErrNotFound.WithMessage("nope")); err == nil || s.Started() {
		t.Fatalf("early error: %v, started %v", err, s.Started())
	}

	// Once started, errors go into the stream, every line a JSON object.
	w = httptest.NewRecorder()
	s = newJSONStream(w)
	s.status("latest", "Pulling from library/alpine")
	s.send(streamMessage{ID: "a3001fe9e079", Status: "Pulling fs layer", ProgressDetail: progressDetailEmpty()})
	s.send(progressMessage("a3001fe9e079", "Downloading", 1024, 4096))
	if err := s.finish(errors.New("broken pipe")); err != nil {
		t.Fatal(err)
	}
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %q", w.Code, w.Header().Get("Content-Type"))
	}
	want := []string{
		`{"status":"Pulling from library/alpine","id":"latest"}`,
		`{"status":"Pulling fs layer","progressDetail":{},"id":"a3001fe9e079"}`,
		`{"status":"Downloading","progressDetail":{"current":1024,"total":4096},"progress":"[============\u003e                                      ]  1.024kB/4.096kB","id":"a3001fe9e079"}`,
		`{"errorDetail":{"message":"broken pipe"},"error":"broken pipe"}`,
	}
	sc := bufio.NewScanner(strings.NewReader(w.Body.String()))
	i := 0
	for ; sc.Scan(); i++ {
		if !json.Valid(sc.Bytes()) {
			t.Errorf("line %d not JSON: %s", i, sc.Text())
		}
		if i < len(want) && sc.Text() != want[i] {
			t.Errorf("line %d:\n got %s\nwant %s", i, sc.Text(), want[i])
		}
	}
	if i != len(want) {
		t.Errorf("%d lines, want %d:\n%s", i, len(want), w.Body.String())
	}
}

func TestProgressBar(t *testing.T) {
	for _, tc := range []struct {
		cur, total int64
		want       string
	}{
		{0, 0, ""},
		{2000, 0, "     2kB"},
		{4096, 4096, "[==================================================>]  4.096kB/4.096kB"},
		{5000, 4096, "[==================================================>]      5kB"},
	} {
		if got := progressBar(tc.cur, tc.total); got != tc.want {
			t.Errorf("progressBar(%d, %d) = %q, want %q", tc.cur, tc.total, got, tc.want)
		}
	}
}

func TestDecodeAuth(t *testing.T) {
	enc := func(s string) string { return base64.URLEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		header     string
		user, pass string
		none, bad  bool
	}{
		{header: "", none: true},
		{header: "e30=", none: true}, // {}
		{header: "e30", none: true},  // unpadded
		{header: enc(`{"username":"u","password":"p?>","serveraddress":"127.0.0.1:5000"}`), user: "u", pass: "p?>"},
		{header: enc(`{"auth":"` + base64.StdEncoding.EncodeToString([]byte("me:se:cret")) + `"}`), user: "me", pass: "se:cret"},
		{header: "!!!", bad: true},
		{header: enc("notjson"), bad: true},
	} {
		cfg, err := decodeAuth(tc.header)
		if tc.bad {
			if !errdefs.IsInvalidArgument(err) {
				t.Errorf("%q: err %v, want invalid argument", tc.header, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.header, err)
			continue
		}
		c := credentials(cfg)
		if tc.none {
			if c != nil {
				t.Errorf("%q: credentials %+v, want none", tc.header, c)
			}
			continue
		}
		if c == nil || c.Username != tc.user || c.Password != tc.pass {
			t.Errorf("%q: credentials %+v, want %s/%s", tc.header, c, tc.user, tc.pass)
		}
	}
}

func TestPullName(t *testing.T) {
	for _, tc := range []struct{ from, tag, want string }{
		{"alpine", "latest", "docker.io/library/alpine:latest"},
		{"alpine", "", "docker.io/library/alpine:latest"},
		{"127.0.0.1:5000/e2e/x", "1", "127.0.0.1:5000/e2e/x:1"},
		{"alpine", "sha256:" + strings.Repeat("a", 64), "docker.io/library/alpine@sha256:" + strings.Repeat("a", 64)},
	} {
		named, err := pullName(tc.from, tc.tag)
		if err != nil || named.String() != tc.want {
			t.Errorf("pullName(%s, %s) = %v %v, want %s", tc.from, tc.tag, named, err, tc.want)
		}
	}
}

func TestPullError(t *testing.T) {
	named, _ := reference.ParseNormalizedNamed("nosuch")
	err := pullError(named, errdefs.ErrPermissionDenied.WithMessage("pull access denied for nosuch, repository does not exist or may require 'rrun login': denied"))
	if !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "may require 'docker login'") {
		t.Errorf("denied: %v", err)
	}
}
