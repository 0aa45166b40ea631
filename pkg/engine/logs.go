package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// LogsOptions are docker logs's flags.
type LogsOptions struct {
	Stdout, Stderr io.Writer // nil: that stream is not wanted
	Follow         bool
	Tail           int // last n lines; negative: all
	Since, Until   time.Time
	Timestamps     bool
}

// Logs writes the container's logged output, stdout and stderr to their
// own writers, and with Follow keeps going until the container stops.
func (e *Engine) Logs(ctx context.Context, ref string, opts LogsOptions) error {
	l, err := e.OpenLogs(ref, opts.Tail)
	if err != nil {
		return err
	}
	defer l.Close()
	return l.Copy(ctx, opts)
}

// LogReader is a container's log, opened: what it has read, and the
// current file held open, so that a container removed meanwhile (docker
// run --rm, or a client that removes before it reads) loses no line.
type LogReader struct {
	e       *Engine
	id      string
	path    string
	cur     *os.File // the current log file; nil until the monitor made it
	entries []jsonLogEntry
	partial []byte
}

// OpenLogs resolves the container and reads its log so far (the last tail
// lines; negative: all). An API server calls it before it sends headers,
// so that errors get a status.
func (e *Engine) OpenLogs(ref string, tail int) (*LogReader, error) {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return nil, err
	}
	if c.HostConfig.LogConfig.Type == "none" {
		return nil, errdefs.ErrNotImplemented.WithMessage(`configured logging driver does not support reading`)
	}
	dir, err := e.containerDir(c.ID)
	if err != nil {
		return nil, err
	}
	l := &LogReader{e: e, id: c.ID, path: filepath.Join(dir, logFile)}
	l.cur, _ = os.Open(l.path)
	l.entries = readRotated(l.path, c.HostConfig.LogConfig.Config["max-file"])
	l.drain(func(en jsonLogEntry) error { l.entries = append(l.entries, en); return nil })
	if tail >= 0 && len(l.entries) > tail {
		l.entries = l.entries[len(l.entries)-tail:]
	}
	return l, nil
}

// Close releases the open log file.
func (l *LogReader) Close() {
	if l.cur != nil {
		l.cur.Close()
	}
}

// Copy writes what OpenLogs read and, with Follow, new lines until the
// container stops (and its last lines are read) or ctx ends.
func (l *LogReader) Copy(ctx context.Context, opts LogsOptions) error {
	for _, en := range l.entries {
		if err := writeEntry(en, opts); err != nil {
			return err
		}
	}
	if !opts.Follow {
		return nil
	}
	write := func(en jsonLogEntry) error { return writeEntry(en, opts) }
	for {
		if err := l.drain(write); err != nil {
			return err
		}
		if l.rotated() {
			continue // the new file from its start
		}
		st, err := l.e.currentState(l.id)
		if err != nil || !isRunning(st) {
			// Stopped or removed: lines written just before are in the
			// open file.
			return l.drain(write)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// drain passes on the whole lines the current file has gained.
func (l *LogReader) drain(fn func(jsonLogEntry) error) error {
	if l.cur == nil {
		f, err := os.Open(l.path)
		if err != nil {
			return nil // not made yet
		}
		l.cur = f
	}
	data, _ := io.ReadAll(l.cur)
	l.partial = append(l.partial, data...)
	for {
		i := indexNewline(l.partial)
		if i < 0 {
			return nil
		}
		var en jsonLogEntry
		if json.Unmarshal(l.partial[:i], &en) == nil {
			if err := fn(en); err != nil {
				return err
			}
		}
		l.partial = l.partial[i+1:]
	}
}

// rotated moves to a new current file once the logger has rotated the
// one held open (which drain has read to its end).
func (l *LogReader) rotated() bool {
	if l.cur == nil {
		return false
	}
	var held, now unix.Stat_t
	if unix.Fstat(int(l.cur.Fd()), &held) != nil || unix.Stat(l.path, &now) != nil || held.Ino == now.Ino {
		return false
	}
	f, err := os.Open(l.path)
	if err != nil {
		return false
	}
	l.cur.Close()
	l.cur, l.partial = f, nil
	return true
}

// readRotated reads the rotated files of a log, oldest first (the current
// one is read from the open file).
func readRotated(path, maxFile string) []jsonLogEntry {
	var n int
	fmt.Sscanf(maxFile, "%d", &n)
	var entries []jsonLogEntry
	for i := n - 1; i >= 1; i-- {
		data, err := os.Open(fmt.Sprintf("%s.%d", path, i))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(data)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			var en jsonLogEntry
			if json.Unmarshal(sc.Bytes(), &en) == nil {
				entries = append(entries, en)
			}
		}
		data.Close()
	}
	return entries
}

func writeEntry(en jsonLogEntry, opts LogsOptions) error {
	if !opts.Since.IsZero() && en.Time.Before(opts.Since) || !opts.Until.IsZero() && en.Time.After(opts.Until) {
		return nil
	}
	w := opts.Stdout
	if en.Stream == "stderr" {
		w = opts.Stderr
	}
	if w == nil {
		return nil
	}
	line := en.Log
	if opts.Timestamps {
		line = en.Time.Format(time.RFC3339Nano) + " " + line
	}
	_, err := io.WriteString(w, line)
	return err
}

func indexNewline(b []byte) int {
	for i, c := range b {
		if c == '\n' {
			return i
		}
	}
	return -1
}
