package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/docker/go-units"
)

// jsonLogEntry is one line of docker's json-file log.
type jsonLogEntry struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// jsonLogger writes a container's output in docker's json-file format,
// one entry per line of output, rotating by size like docker's driver
// (max-size, max-file: container.log, container.log.1, …).
type jsonLogger struct {
	mu       sync.Mutex
	path     string
	f        *os.File
	size     int64
	maxSize  int64 // 0: no rotation
	maxFiles int
}

func newJSONLogger(path string, opts map[string]string) (*jsonLogger, error) {
	l := &jsonLogger{path: path, maxFiles: 1}
	if v := opts["max-size"]; v != "" {
		n, err := units.RAMInBytes(v)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("invalid log opt max-size=%s", v)
		}
		l.maxSize = n
	}
	if v := opts["max-file"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("invalid log opt max-file=%s", v)
		}
		l.maxFiles = n
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	l.f, l.size = f, st.Size()
	return l, nil
}

func (l *jsonLogger) write(stream string, line []byte) {
	data, err := json.Marshal(jsonLogEntry{Log: string(line), Stream: stream, Time: time.Now().UTC()})
	if err != nil {
		return
	}
	data = append(data, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.maxSize > 0 && l.size+int64(len(data)) > l.maxSize && l.size > 0 {
		l.rotate()
	}
	n, _ := l.f.Write(data)
	l.size += int64(n)
}

// rotate shifts container.log.N-1 to .N and starts a new file.
func (l *jsonLogger) rotate() {
	l.f.Close()
	if l.maxFiles > 1 {
		for i := l.maxFiles - 1; i > 1; i-- {
			_ = os.Rename(fmt.Sprintf("%s.%d", l.path, i-1), fmt.Sprintf("%s.%d", l.path, i))
		}
		_ = os.Rename(l.path, l.path+".1")
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_TRUNC|os.O_CREATE, 0o600)
	if err == nil {
		l.f = f
	}
	l.size = 0
}

func (l *jsonLogger) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.f.Close()
}

// lineSplitter turns a stream into log lines: complete lines as they come,
// a long partial line every 16 KiB (docker's limit), and the rest at EOF.
type lineSplitter struct {
	buf  []byte
	emit func([]byte)
}

const maxLogLine = 16 * 1024

func (s *lineSplitter) Write(p []byte) (int, error) {
	s.buf = append(s.buf, p...)
	for {
		i := bytes.IndexByte(s.buf, '\n')
		if i < 0 {
			break
		}
		s.emit(s.buf[:i+1])
		s.buf = s.buf[i+1:]
	}
	for len(s.buf) >= maxLogLine {
		s.emit(s.buf[:maxLogLine])
		s.buf = s.buf[maxLogLine:]
	}
	if len(s.buf) == 0 {
		s.buf = nil // let a large buffer go
	}
	return len(p), nil
}

func (s *lineSplitter) flush() {
	if len(s.buf) > 0 {
		s.emit(s.buf)
		s.buf = nil
	}
}
