package apisvc

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
)

// The hijacked stream's first bytes are dockerd's, per upgrade and API
// version; stdin bytes the client sent with the request are not lost and
// a half-close reaches the reader as EOF.
func TestHijackStream(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.RequestURI = r.URL.Path // requestVersion reads it
		conn, in, err := hijackStream(w, r, r.URL.Query().Get("mux") == "1")
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		data, _ := io.ReadAll(in)
		io.WriteString(conn, "got:"+string(data))
	}))
	defer srv.Close()
	for _, tc := range []struct {
		path    string
		upgrade bool
		want    string
	}{
		{"/v1.51/x?mux=1", true, "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"},
		{"/v1.41/x?mux=1", true, "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"},
		{"/v1.51/x?mux=0", true, "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"},
		{"/v1.51/x?mux=1", false, "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n"},
	} {
		u, _ := url.Parse(srv.URL)
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		req := "POST " + tc.path + " HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n"
		if tc.upgrade {
			req += "Connection: Upgrade\r\nUpgrade: tcp\r\n"
		}
		io.WriteString(conn, req+"\r\nearly")
		conn.(*net.TCPConn).CloseWrite()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		got, _ := io.ReadAll(bufio.NewReader(conn))
		conn.Close()
		if want := tc.want + "got:early"; string(got) != want {
			t.Errorf("%s upgrade=%v:\n got %q\nwant %q", tc.path, tc.upgrade, got, want)
		}
	}
}

func TestParseDetachKeys(t *testing.T) {
	for in, want := range map[string]string{"": "\x10\x11", "ctrl-a,x": "\x01x", "ctrl-@,ctrl-_": "\x00\x1f"} {
		got, err := parseDetachKeys(in)
		if err != nil || string(got) != want {
			t.Errorf("%q = %q %v, want %q", in, got, err, want)
		}
	}
	if _, err := parseDetachKeys("ctrl-"); !errdefs.IsInvalidArgument(err) {
		t.Errorf("bad keys: %v", err)
	}
}

func TestSizeParams(t *testing.T) {
	r := httptest.NewRequest("POST", "/containers/x/resize?h=24&w=80", nil)
	if h, w, err := sizeParams(r); err != nil || h != 24 || w != 80 {
		t.Fatalf("sizeParams = %d %d %v", h, w, err)
	}
	r = httptest.NewRequest("POST", "/containers/x/resize?h=a&w=80", nil)
	if _, _, err := sizeParams(r); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("bad h: %v", err)
	}
}

func TestPendingAttaches(t *testing.T) {
	s := &Server{sessions: newStreamState()}
	ss := s.streams()
	a := &pendingAttach{claimed: make(chan struct{}), done: make(chan struct{})}
	b := &pendingAttach{claimed: make(chan struct{}), done: make(chan struct{})}
	ss.pending["c"] = []*pendingAttach{a, b}
	if !ss.dropPending("c", a) || ss.dropPending("c", a) {
		t.Fatal("dropPending should remove a once")
	}
	list := ss.takePending("c")
	if len(list) != 1 || list[0] != b || ss.hasPending() {
		t.Fatalf("takePending = %v", list)
	}
	select {
	case <-b.claimed:
	default:
		t.Fatal("b not marked claimed")
	}
	if ss.dropPending("c", b) {
		t.Fatal("a claimed attach cannot time out")
	}
}

func TestExecTable(t *testing.T) {
	s := New(nil)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/v1.51/exec/nope/json", nil))
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "No such exec instance: nope") {
		t.Fatalf("unknown exec: %d %s", rec.Code, rec.Body)
	}
	ex := &execEntry{id: newExecID(), containerID: "c"}
	if len(ex.id) != 64 {
		t.Fatalf("exec id %q", ex.id)
	}
	ex.cfg.Cmd = []string{"sh", "-c", "true"}
	ss := s.streams()
	ss.execs[ex.id] = ex
	if err := ex.begin(); err != nil {
		t.Fatal(err)
	}
	if err := ex.begin(); !errdefs.IsConflict(err) {
		t.Fatalf("second begin: %v", err)
	}
	ex.setPid(42)
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/v1.51/exec/"+ex.id+"/json", nil))
	body := rec.Body.String()
	for _, want := range []string{`"Running":true`, `"ExitCode":null`, `"Pid":42`, `"entrypoint":"sh"`, `"arguments":["-c","true"]`, `"ContainerID":"c"`} {
		if !strings.Contains(body, want) {
			t.Errorf("inspect lacks %s: %s", want, body)
		}
	}
	ex.finish(3)
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/v1.51/exec/"+ex.id+"/json", nil))
	if !strings.Contains(rec.Body.String(), `"Running":false`) || !strings.Contains(rec.Body.String(), `"ExitCode":3`) {
		t.Fatalf("inspect after: %s", rec.Body)
	}
}
