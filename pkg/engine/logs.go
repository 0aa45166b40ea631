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
	c, err := e.lookupContainer(ref)
	if err != nil {
		return err
	}
	if c.HostConfig.LogConfig.Type == "none" {
		return errdefs.ErrNotImplemented.WithMessage(`configured logging driver does not support reading`)
	}
	dir, err := e.containerDir(c.ID)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, logFile)
	entries, offset, err := readLogs(path, c.HostConfig.LogConfig.Config["max-file"])
	if err != nil {
		return err
	}
	if opts.Tail >= 0 && len(entries) > opts.Tail {
		entries = entries[len(entries)-opts.Tail:]
	}
	for _, en := range entries {
		if err := writeEntry(en, opts); err != nil {
			return err
		}
	}
	if !opts.Follow {
		return nil
	}
	return e.followLogs(ctx, c.ID, path, offset, opts)
}

// readLogs reads the rotated files oldest first, then the current one,
// and returns the current file's size as the point to follow from.
func readLogs(path, maxFile string) ([]jsonLogEntry, int64, error) {
	var files []string
	var n int
	fmt.Sscanf(maxFile, "%d", &n)
	for i := n - 1; i >= 1; i-- {
		files = append(files, fmt.Sprintf("%s.%d", path, i))
	}
	files = append(files, path)
	var entries []jsonLogEntry
	var offset int64
	for i, f := range files {
		data, err := os.Open(f)
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
		if i == len(files)-1 {
			offset, _ = data.Seek(0, io.SeekCurrent)
		}
		data.Close()
	}
	return entries, offset, nil
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

// followLogs polls the log for new lines until the container stops (and
// its last lines are read) or ctx ends; a rotation starts it over at the
// new file's beginning.
func (e *Engine) followLogs(ctx context.Context, id, path string, offset int64, opts LogsOptions) error {
	var partial []byte
	for {
		f, err := os.Open(path)
		if err == nil {
			if st, err := f.Stat(); err == nil && st.Size() < offset {
				offset = 0 // rotated
			}
			_, _ = f.Seek(offset, io.SeekStart)
			data, _ := io.ReadAll(f)
			f.Close()
			offset += int64(len(data))
			partial = append(partial, data...)
			for {
				i := indexNewline(partial)
				if i < 0 {
					break
				}
				var en jsonLogEntry
				if json.Unmarshal(partial[:i], &en) == nil {
					if err := writeEntry(en, opts); err != nil {
						return err
					}
				}
				partial = partial[i+1:]
			}
		}
		st, err := e.currentState(id)
		if err != nil {
			return nil // removed
		}
		if !isRunning(st) && len(partial) == 0 {
			// One more read catches lines written just before the exit.
			if f, err := os.Stat(path); err != nil || f.Size() <= offset {
				return nil
			}
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func indexNewline(b []byte) int {
	for i, c := range b {
		if c == '\n' {
			return i
		}
	}
	return -1
}
