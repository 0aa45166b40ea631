package apisvc

import (
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types"
	"github.com/moby/moby/api/types/container"

	"github.com/rrun/rrun/pkg/engine"
)

// Stream kinds of docker's multiplexed stream (byte 0 of a frame header).
const (
	streamStdout byte = 1
	streamStderr byte = 2
)

// frameWriter writes each Write as one frame of docker's multiplexed
// stream: an 8-byte header (stream kind, three zero bytes, the payload's
// length big-endian) and the payload. Writers for stdout and stderr share
// mu so frames never interleave.
type frameWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	stream byte
}

// streamWriters are the writers for a container's stdout and stderr on w,
// as docker sends them: raw with a TTY (one stream), else in frames; nil
// for a stream not asked for.
func streamWriters(w io.Writer, tty, stdout, stderr bool) (out, errw io.Writer) {
	mu := new(sync.Mutex)
	pick := func(want bool, kind byte) io.Writer {
		switch {
		case !want:
			return nil
		case tty:
			return w
		}
		return &frameWriter{mu: mu, w: w, stream: kind}
	}
	return pick(stdout, streamStdout), pick(stderr, streamStderr)
}

func (f *frameWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var hdr [8]byte
	hdr[0] = f.stream
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(p)))
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.w.Write(hdr[:]); err != nil {
		return 0, err
	}
	return f.w.Write(p)
}

// flushWriter flushes after every write, so that a followed stream reaches
// the client as it comes.
type flushWriter struct {
	w io.Writer
}

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if fl, ok := f.w.(http.Flusher); ok {
		fl.Flush()
	}
	return n, err
}

// lazyWriter sends the response's headers (200, contentType) with the
// first byte of the body, so that an error found before any output is
// still docker's JSON error with its status.
type lazyWriter struct {
	w           http.ResponseWriter
	contentType string
	started     bool
}

func (l *lazyWriter) start() {
	if !l.started {
		l.started = true
		l.w.Header().Set("Content-Type", l.contentType)
		l.w.WriteHeader(http.StatusOK)
	}
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	l.start()
	return l.w.Write(p)
}

// requestVersion is the API version the client asked for in its path
// (ServeHTTP strips the prefix from URL.Path, not from RequestURI); a
// request without one gets the current version.
func requestVersion(r *http.Request) string {
	if m := versionPrefix.FindStringSubmatch(r.RequestURI); m != nil {
		return m[1]
	}
	return APIVersion
}

// parseTimestamp reads the since/until values docker's client sends:
// Unix seconds with optional fraction ("1700000000.000000001"); "" and
// "0" are no bound.
func parseTimestamp(name, s string) (time.Time, error) {
	if s == "" || s == "0" {
		return time.Time{}, nil
	}
	sec, frac, _ := strings.Cut(s, ".")
	secs, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		if t, terr := time.Parse(time.RFC3339Nano, s); terr == nil {
			return t, nil
		}
		return time.Time{}, invalid("invalid value for " + name + ": " + s)
	}
	var nsec int64
	if frac != "" {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		frac += strings.Repeat("0", 9-len(frac))
		if nsec, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return time.Time{}, invalid("invalid value for " + name + ": " + s)
		}
	}
	return time.Unix(secs, nsec), nil
}

// parseTail reads `tail`: "all", empty or unreadable is every line, as in
// dockerd.
func parseTail(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// logsContentType is dockerd's: the multiplexed type for a container
// without a TTY from API 1.42 on, the raw type otherwise.
func logsContentType(tty bool, version string) string {
	if !tty && compareVersions(version, "1.42") >= 0 {
		return types.MediaTypeMultiplexedStream
	}
	return types.MediaTypeRawStream
}

func (s *Server) containerLogs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	stdout, stderr := boolValue(r, "stdout"), boolValue(r, "stderr")
	if !stdout && !stderr {
		return invalid("Bad parameters: you must choose at least one stream")
	}
	opts := engine.LogsOptions{Follow: boolValue(r, "follow"), Timestamps: boolValue(r, "timestamps"), Tail: parseTail(q.Get("tail"))}
	var err error
	if opts.Since, err = parseTimestamp("since", q.Get("since")); err != nil {
		return err
	}
	if opts.Until, err = parseTimestamp("until", q.Get("until")); err != nil {
		return err
	}
	c, err := s.eng.Inspect(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	// Opened before the headers go: a client may remove the container as
	// soon as it has them (docker-py's run), and what was logged must
	// still come.
	logs, err := s.eng.OpenLogs(c.ID, opts.Tail)
	if err != nil {
		return err
	}
	defer logs.Close()
	tty := c.Config != nil && c.Config.Tty
	w.Header().Set("Content-Type", logsContentType(tty, requestVersion(r)))
	w.WriteHeader(http.StatusOK)
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	out := io.Writer(w)
	if opts.Follow {
		out = flushWriter{w}
	}
	opts.Stdout, opts.Stderr = streamWriters(out, tty, stdout, stderr)
	// The headers are out: an error now can only end the stream.
	_ = logs.Copy(r.Context(), opts)
	return nil
}

func (s *Server) exportContainer(w http.ResponseWriter, r *http.Request) error {
	lw := &lazyWriter{w: w, contentType: "application/x-tar"}
	err := s.eng.Export(r.Context(), r.PathValue("id"), engine.ExportOptions{Writer: lw})
	if err != nil && !lw.started {
		return err
	}
	lw.start() // an empty archive still answers 200
	return nil
}

func (s *Server) containerStats(w http.ResponseWriter, r *http.Request) error {
	stream := true
	if v := r.URL.Query().Get("stream"); v != "" {
		stream = boolValue(r, "stream")
	}
	opts := engine.StatsOptions{Stream: stream, OneShot: boolValue(r, "one-shot")}
	if opts.OneShot && stream {
		return invalid("cannot have stream=true and one-shot=true")
	}
	lw := &lazyWriter{w: w, contentType: "application/json"}
	enc := json.NewEncoder(flushWriter{lw})
	err := s.eng.Stats(r.Context(), r.PathValue("id"), opts, func(st *container.StatsResponse) error {
		return enc.Encode(st)
	})
	if err != nil && !lw.started {
		return err
	}
	return nil
}

// waitResponse is dockerd's wait body, "Error": null included.
type waitResponse struct {
	Error      *container.WaitExitError `json:"Error"`
	StatusCode int64                    `json:"StatusCode"`
}

// parseWaitCondition reads `condition`; empty is not-running.
func parseWaitCondition(s string) (container.WaitCondition, error) {
	switch c := container.WaitCondition(s); c {
	case "":
		return container.WaitConditionNotRunning, nil
	case container.WaitConditionNotRunning, container.WaitConditionNextExit, container.WaitConditionRemoved:
		return c, nil
	}
	return "", invalid("invalid condition: " + s)
}

// waitContainer sends its headers at once (the CLI opens the wait before
// it starts the container) and the body once the condition holds.
func (s *Server) waitContainer(w http.ResponseWriter, r *http.Request) error {
	cond, err := parseWaitCondition(r.URL.Query().Get("condition"))
	if err != nil {
		return err
	}
	wait, err := s.eng.WaitFor(r.Context(), r.PathValue("id"), cond)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	res, err := wait(r.Context())
	if r.Context().Err() != nil {
		return nil // the client left
	}
	out := waitResponse{StatusCode: int64(res.ExitCode)}
	if err != nil {
		out = waitResponse{StatusCode: -1, Error: &container.WaitExitError{Message: err.Error()}}
	}
	return json.NewEncoder(w).Encode(out)
}
