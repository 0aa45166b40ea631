package apisvc

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/volume"
)

func TestEncodePathStat(t *testing.T) {
	st := &container.PathStat{Name: "etc", Size: 4096, Mode: os.ModeDir | 0o755, Mtime: time.Unix(1700000000, 0).UTC(), LinkTarget: "/etc"}
	h, err := encodePathStat(st)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(h)
	if err != nil {
		t.Fatalf("not base64: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"name", "size", "mode", "mtime", "linkTarget"} {
		if _, ok := m[k]; !ok {
			t.Errorf("%s missing from %s", k, raw)
		}
	}
	var back container.PathStat
	if err := json.Unmarshal(raw, &back); err != nil || back.Name != "etc" || !back.Mode.IsDir() || !back.Mtime.Equal(st.Mtime) {
		t.Errorf("round trip: %+v, %v", back, err)
	}
}

func dfFixture() dfData {
	return dfData{
		images: &image.DiskUsage{TotalSize: 100, TotalCount: 1, Items: []image.Summary{{ID: "sha256:a", Size: 100}}},
		containers: containerUsage([]container.Summary{
			{ID: "c1", State: container.StateRunning, SizeRw: 5},
			{ID: "c2", State: container.StateExited, SizeRw: 7},
		}),
		volumes: volumeUsage([]volume.Volume{
			{Name: "v1", UsageData: &volume.UsageData{Size: 3, RefCount: 1}},
			{Name: "v2", UsageData: &volume.UsageData{Size: 4, RefCount: 0}},
		}),
	}
}

func dfJSON(t *testing.T, version string, verbose bool, d dfData) map[string]json.RawMessage {
	t.Helper()
	b, err := json.Marshal(dfResponse(version, verbose, d))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDfShapeByVersion(t *testing.T) {
	d := dfFixture()
	legacy := []string{"LayersSize", "Images", "Containers", "Volumes", "BuildCache"}
	typed := []string{"ImageUsage", "ContainerUsage", "VolumeUsage"}
	has := func(m map[string]json.RawMessage, keys []string) bool {
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				return false
			}
		}
		return true
	}
	none := func(m map[string]json.RawMessage, keys []string) bool {
		for _, k := range keys {
			if _, ok := m[k]; ok {
				return false
			}
		}
		return true
	}
	for _, v := range []string{"1.24", "1.41", "1.50", "1.51"} {
		m := dfJSON(t, v, false, d)
		if !has(m, legacy) || !none(m, typed) {
			t.Errorf("%s: want the legacy shape alone, got %v", v, keys(m))
		}
	}
	if m := dfJSON(t, "1.52", false, d); !has(m, legacy) || !has(m, typed) {
		t.Errorf("1.52: want both shapes, got %v", keys(m))
	}
	if m := dfJSON(t, "1.52", true, d); !none(m, legacy) || !has(m, typed) {
		t.Errorf("1.52 verbose: want the typed shape alone, got %v", keys(m))
	}
	m := dfJSON(t, "1.53", false, d)
	if !none(m, legacy) || !has(m, typed) {
		t.Errorf("1.53: want the typed shape alone, got %v", keys(m))
	}
	var cu container.DiskUsage
	_ = json.Unmarshal(m["ContainerUsage"], &cu)
	if cu.TotalCount != 2 || cu.ActiveCount != 1 || cu.TotalSize != 12 || cu.Reclaimable != 7 || cu.Items != nil {
		t.Errorf("container usage %+v", cu)
	}
	var vu volume.DiskUsage
	_ = json.Unmarshal(dfJSON(t, "1.53", true, d)["VolumeUsage"], &vu)
	if vu.TotalCount != 2 || vu.ActiveCount != 1 || vu.TotalSize != 7 || vu.Reclaimable != 4 || len(vu.Items) != 2 {
		t.Errorf("volume usage %+v", vu)
	}
	// What docker's CLI 28 decodes.
	var old struct {
		LayersSize int64
		Images     []image.Summary
		Containers []container.Summary
		Volumes    []volume.Volume
		BuildCache []any
	}
	b, _ := json.Marshal(dfResponse("1.50", false, dfData{images: d.images}))
	if err := json.Unmarshal(b, &old); err != nil || old.LayersSize != 100 || len(old.Images) != 1 || old.Containers != nil {
		t.Errorf("legacy with type=image: %s (%v)", b, err)
	}
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestUnsupportedRoutes(t *testing.T) {
	s := New(nil) // the routes here never reach the engine
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/v1.50/swarm", 503, errNoManagerMsg},
		{"POST", "/v1.50/swarm/init", 503, noSwarmModeMsg},
		{"POST", "/v1.50/swarm/leave?force=1", 503, errNoSwarmMsg},
		{"GET", "/v1.50/services", 503, errNoManagerMsg},
		{"POST", "/v1.50/services/create", 503, errNoManagerMsg},
		{"DELETE", "/v1.50/nodes/abc", 503, errNoManagerMsg},
		{"GET", "/tasks", 503, errNoManagerMsg},
		{"GET", "/v1.50/secrets", 503, errNoManagerMsg},
		{"POST", "/v1.50/configs/create", 503, errNoManagerMsg},
		{"GET", "/v1.50/plugins", 200, "[]"},
		{"GET", "/v1.50/plugins/foo/json", 404, `plugin "foo" not found`},
		{"POST", "/v1.50/plugins/pull?remote=x", 501, "does not support plugins"},
		{"POST", "/v1.50/build?t=x", 501, noBuildMsg},
		{"POST", "/v1.50/session", 501, noBuildMsg},
		{"GET", "/v1.50/containers/abc/attach/ws", 501, "websocket"},
		{"GET", "/v1.50/distribution/docker.io/library/alpine/json", 501, "distribution"},
	} {
		req := httptest.NewRequest(tc.method, tc.path, strings.NewReader("context"))
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Body)
		var msg struct{ Message string }
		if json.Unmarshal(body, &msg) == nil && msg.Message != "" {
			body = []byte(msg.Message)
		}
		if rec.Code != tc.status || !strings.Contains(string(body), tc.body) {
			t.Errorf("%s %s = %d %s, want %d with %q", tc.method, tc.path, rec.Code, body, tc.status, tc.body)
		}
		if tc.status != http.StatusOK && rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: content type %q", tc.method, tc.path, rec.Header().Get("Content-Type"))
		}
	}
}
