package apisvc

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"

	"github.com/rrun/rrun/pkg/engine"
)

func TestFrameWriter(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	out := &frameWriter{mu: &mu, w: &buf, stream: streamStdout}
	errw := &frameWriter{mu: &mu, w: &buf, stream: streamStderr}
	out.Write([]byte("hi\n"))
	errw.Write([]byte("oops\n"))
	out.Write(nil) // no empty frames
	want := []byte{1, 0, 0, 0, 0, 0, 0, 3, 'h', 'i', '\n', 2, 0, 0, 0, 0, 0, 0, 5, 'o', 'o', 'p', 's', '\n'}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("frames = %v, want %v", buf.Bytes(), want)
	}
	big := bytes.Repeat([]byte("x"), 70000)
	buf.Reset()
	n, err := out.Write(big)
	if err != nil || n != len(big) || !bytes.Equal(buf.Bytes()[:8], []byte{1, 0, 0, 0, 0, 0x01, 0x11, 0x70}) {
		t.Fatalf("big frame: %d %v %v", n, err, buf.Bytes()[:8])
	}
}

func TestParseTimestamp(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{"", time.Time{}, false},
		{"0", time.Time{}, false},
		{"1700000000", time.Unix(1700000000, 0), false},
		{"1700000000.000000001", time.Unix(1700000000, 1), false},
		{"1700000000.5", time.Unix(1700000000, 500000000), false},
		{"2023-11-14T22:13:20Z", time.Unix(1700000000, 0), false},
		{"yesterday", time.Time{}, true},
	} {
		got, err := parseTimestamp("since", tc.in)
		if tc.bad {
			if !errdefs.IsInvalidArgument(err) {
				t.Errorf("%q: err = %v, want invalid argument", tc.in, err)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("%q = %v %v, want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseTail(t *testing.T) {
	for in, want := range map[string]int{"": -1, "all": -1, "0": 0, "5": 5, "-3": -1, "x": -1} {
		if got := parseTail(in); got != want {
			t.Errorf("parseTail(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestParseWaitCondition(t *testing.T) {
	for in, want := range map[string]container.WaitCondition{"": "not-running", "not-running": "not-running", "next-exit": "next-exit", "removed": "removed"} {
		if got, err := parseWaitCondition(in); err != nil || got != want {
			t.Errorf("%q = %q %v, want %q", in, got, err, want)
		}
	}
	if _, err := parseWaitCondition("exited"); !errdefs.IsInvalidArgument(err) {
		t.Errorf("exited: %v, want invalid argument", err)
	}
}

func TestLogsContentType(t *testing.T) {
	for _, tc := range []struct {
		tty     bool
		version string
		want    string
	}{
		{false, "1.51", "application/vnd.docker.multiplexed-stream"},
		{false, "1.42", "application/vnd.docker.multiplexed-stream"},
		{false, "1.41", "application/vnd.docker.raw-stream"},
		{true, "1.51", "application/vnd.docker.raw-stream"},
	} {
		if got := logsContentType(tc.tty, tc.version); got != tc.want {
			t.Errorf("tty=%v %s: %s, want %s", tc.tty, tc.version, got, tc.want)
		}
	}
}

func TestRequestVersion(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/v1.40/containers/x/logs", nil)
	if v := requestVersion(r); v != "1.40" {
		t.Errorf("versioned: %s", v)
	}
	r = httptest.NewRequest(http.MethodGet, "/containers/x/logs", nil)
	if v := requestVersion(r); v != APIVersion {
		t.Errorf("unversioned: %s", v)
	}
}

func TestDecodeCreateRequest(t *testing.T) {
	req, err := decodeCreateRequest(strings.NewReader(`{"Image":"alpine","Cmd":["echo","hi"],"Unknown":1,"HostConfig":{"AutoRemove":true}}`))
	if err != nil || req.Config.Image != "alpine" || len(req.Cmd) != 2 || req.HostConfig == nil || !req.HostConfig.AutoRemove {
		t.Fatalf("good body: %+v %v", req, err)
	}
	for body, want := range map[string]string{
		`{"Image":`: "invalid JSON: ",
		``:          "invalid JSON: got EOF while reading request body",
		`null`:      "config cannot be empty in order to create a container",
	} {
		_, err := decodeCreateRequest(strings.NewReader(body))
		if !errdefs.IsInvalidArgument(err) || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
}

func TestStartStatus(t *testing.T) {
	if got := statusOf(startStatus(&engine.StartError{ExitCode: 127, Msg: "failed to create task for container: exec: \"nosuch\": executable file not found in $PATH"})); got != 400 {
		t.Errorf("127: %d", got)
	}
	if got := statusOf(startStatus(&engine.StartError{ExitCode: 125, Msg: "x"})); got != 500 {
		t.Errorf("125: %d", got)
	}
	if got := statusOf(startStatus(errdefs.ErrNotModified)); got != 304 {
		t.Errorf("running: %d", got)
	}
}

func TestLazyWriter(t *testing.T) {
	w := httptest.NewRecorder()
	lw := &lazyWriter{w: w, contentType: "application/x-tar"}
	if lw.started || w.Header().Get("Content-Type") != "" {
		t.Fatal("started early")
	}
	lw.Write([]byte("abc"))
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/x-tar" || w.Body.String() != "abc" {
		t.Fatalf("%d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body.String())
	}
}
