package apisvc

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/registry"
	"go.podman.io/image/v5/types"

	"github.com/rrun/rrun/pkg/storage"
)

// streamMessage is one line of docker's JSON message stream (pull, push,
// load, import). It is jsonstream.Message with the two fields older
// clients still read: the progress bar as text and the error as a string.
type streamMessage struct {
	Stream          string               `json:"stream,omitempty"`
	Status          string               `json:"status,omitempty"`
	ProgressDetail  *jsonstream.Progress `json:"progressDetail,omitempty"`
	ProgressMessage string               `json:"progress,omitempty"`
	ID              string               `json:"id,omitempty"`
	ErrorDetail     *jsonstream.Error    `json:"errorDetail,omitempty"`
	Error           string               `json:"error,omitempty"`
	Aux             any                  `json:"aux,omitempty"`
}

// jsonStream writes docker's JSON message stream: one object per line,
// flushed as it goes. The 200 and its headers go out with the first
// message, so that a failure before any (an unknown image, bad
// credentials) can still be answered with its own status, as dockerd does.
type jsonStream struct {
	mu      sync.Mutex
	w       http.ResponseWriter
	enc     *json.Encoder
	started bool
}

func newJSONStream(w http.ResponseWriter) *jsonStream {
	return &jsonStream{w: w, enc: json.NewEncoder(w)}
}

// Started reports whether the status line is out: from then on errors
// go into the stream.
func (s *jsonStream) Started() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

// send writes one message; write errors (a client gone) are ignored,
// the request's context ends the work.
func (s *jsonStream) send(m streamMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		s.w.Header().Set("Content-Type", "application/json")
		s.w.WriteHeader(http.StatusOK)
		s.started = true
	}
	_ = s.enc.Encode(m)
	if f, ok := s.w.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *jsonStream) status(id, status string) {
	s.send(streamMessage{ID: id, Status: status})
}

// finish ends the stream: err, if any, is returned for the usual error
// response when nothing was sent yet, else written as docker's error
// message in the stream.
func (s *jsonStream) finish(err error) error {
	if err == nil {
		return nil
	}
	if !s.Started() {
		return err
	}
	s.send(streamMessage{ErrorDetail: &jsonstream.Error{Message: err.Error()}, Error: err.Error()})
	return nil
}

// progressBar is docker's progress text: a 50-column bar and the sizes,
// "[=====>     ]  1.2MB/3.4MB".
func progressBar(current, total int64) string {
	if current <= 0 && total <= 0 {
		return ""
	}
	if total <= 0 {
		return fmt.Sprintf("%8v", units.HumanSize(float64(current)))
	}
	percentage := min(int(float64(current)/float64(total)*100)/2, 50)
	bar := fmt.Sprintf("[%s>%s] ", strings.Repeat("=", percentage), strings.Repeat(" ", 50-percentage))
	numbers := fmt.Sprintf("%8v/%v", units.HumanSize(float64(current)), units.HumanSize(float64(total)))
	if current > total {
		numbers = fmt.Sprintf("%8v", units.HumanSize(float64(current)))
	}
	return bar + numbers
}

// progressMessage is a transfer's line: status with its detail and bar.
func progressMessage(id, status string, current, total int64) streamMessage {
	return streamMessage{
		ID:              id,
		Status:          status,
		ProgressDetail:  &jsonstream.Progress{Current: current, Total: total},
		ProgressMessage: progressBar(current, total),
	}
}

// decodeAuth reads the X-Registry-Auth header: base64url JSON of
// registry.AuthConfig ("e30=" is {}), padded or not. Empty is no
// credentials.
func decodeAuth(header string) (registry.AuthConfig, error) {
	var cfg registry.AuthConfig
	header = strings.TrimSpace(header)
	if header == "" {
		return cfg, nil
	}
	var data []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.URLEncoding, base64.RawURLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if data, err = enc.DecodeString(header); err == nil {
			break
		}
	}
	if err != nil {
		return cfg, invalid("invalid X-Registry-Auth header: " + err.Error())
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return cfg, invalid("invalid X-Registry-Auth header: " + err.Error())
	}
	return cfg, nil
}

// credentials turns docker's auth config into containers/image's; nil
// when it carries none, so that the stored logins apply.
func credentials(cfg registry.AuthConfig) *types.DockerAuthConfig {
	user, pass := cfg.Username, cfg.Password
	if user == "" && pass == "" && cfg.Auth != "" {
		if data, err := base64.StdEncoding.DecodeString(cfg.Auth); err == nil {
			user, pass, _ = strings.Cut(string(data), ":")
		}
	}
	if user == "" && pass == "" && cfg.IdentityToken == "" {
		return nil
	}
	return &types.DockerAuthConfig{Username: user, Password: pass, IdentityToken: cfg.IdentityToken}
}

// registryOptions are a request's registry settings: its credentials and
// platform.
func registryOptions(r *http.Request) (storage.RegistryOptions, error) {
	cfg, err := decodeAuth(r.Header.Get(registry.AuthHeader))
	if err != nil {
		return storage.RegistryOptions{}, err
	}
	return storage.RegistryOptions{Credentials: credentials(cfg), Platform: r.URL.Query().Get("platform")}, nil
}

// progressDetailEmpty is docker's "progressDetail":{} on status lines.
func progressDetailEmpty() *jsonstream.Progress { return &jsonstream.Progress{} }
