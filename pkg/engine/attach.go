package engine

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
)

// The attach protocol between a container's monitor and its clients (the
// CLI, the API server), over a unix socket in the container's run dir.
//
// The client opens with one JSON line, attachHello. Then both sides send
// frames: a kind byte, a big-endian uint32 length, the payload. Output
// frames use docker's stream numbers (1 stdout, 2 stderr) so the API
// server can forward them as docker's multiplexed stream; the monitor ends
// with an exit frame carrying the exit code.
const (
	frameStdout   byte = 1
	frameStderr   byte = 2
	frameExit     byte = 'x'
	frameStdin    byte = 'i'
	frameStdinEOF byte = 'c'
	frameResize   byte = 'r'
)

const attachSocket = "attach.sock"

// attachHello says which streams a client wants.
type attachHello struct {
	Stdin  bool `json:"stdin"`
	Stdout bool `json:"stdout"`
	Stderr bool `json:"stderr"`
	// Exec, when set, asks the monitor to run a new process in the
	// container and connects the client to it instead (see exec.go).
	Exec *ExecOptions `json:"exec,omitempty"`
}

func writeFrame(w io.Writer, kind byte, payload []byte) error {
	var hdr [5]byte
	hdr[0] = kind
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(payload)))
	if _, err := w.Write(append(hdr[:], payload...)); err != nil {
		return err
	}
	return nil
}

func readFrame(r *bufio.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > 1<<20 {
		return 0, nil, fmt.Errorf("attach frame of %d bytes is too large", n)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	return hdr[0], payload, nil
}

// socketPath gives a path to dir/name short enough for a unix socket
// (108 bytes), whatever dir's length: through /proc/self/fd of an open
// directory, which the kernel resolves like the real path. The returned
// file must stay open while the path is used.
func socketPath(dir, name string) (string, *os.File, error) {
	d, err := os.Open(dir)
	if err != nil {
		return "", nil, err
	}
	return fmt.Sprintf("/proc/self/fd/%d/%s", d.Fd(), name), d, nil
}

func listenUnix(dir, name string) (net.Listener, error) {
	path, d, err := socketPath(dir, name)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	_ = os.Remove(filepath.Join(dir, name))
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	// Go would unlink the socket on Close by the /proc/self/fd path it was
	// made with, and that fd number may name another directory by then:
	// the owner removes the socket by its real path instead.
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	return ln, nil
}

func dialUnix(dir, name string) (net.Conn, error) {
	path, d, err := socketPath(dir, name)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return net.Dial("unix", path)
}

// AttachStreams are a client's ends of an attach.
type AttachStreams struct {
	Stdin          io.Reader // nil: no input
	Stdout, Stderr io.Writer // nil: not wanted; for a TTY all output is Stdout
	// Resize, if set, delivers terminal sizes to forward.
	Resize <-chan [2]uint16
	// DetachKeys, when seen on Stdin, end the attach and leave the
	// container running (nil: never).
	DetachKeys []byte
}

// ErrDetached is returned by Attach when the user typed the detach keys.
var ErrDetached = errors.New("detached from the container")

// attachConn is a client connection to a container's monitor.
type attachConn struct {
	conn net.Conn
	r    *bufio.Reader
}

func (e *Engine) dialAttach(id string, hello attachHello) (*attachConn, error) {
	conn, err := dialUnix(e.runDir(id), attachSocket)
	if err != nil {
		return nil, err
	}
	data, _ := json.Marshal(hello)
	if _, err := conn.Write(append(data, '\n')); err != nil {
		conn.Close()
		return nil, err
	}
	return &attachConn{conn: conn, r: bufio.NewReader(conn)}, nil
}

// stream pumps an attach until the container exits (returning its exit
// code), the client detaches (ErrDetached) or the connection breaks.
func (a *attachConn) stream(s AttachStreams) (int, error) {
	defer a.conn.Close()
	inputDone := make(chan error, 1)
	if s.Stdin != nil {
		go func() { inputDone <- a.sendInput(s.Stdin, s.DetachKeys) }()
	}
	if s.Resize != nil {
		go func() {
			for size := range s.Resize {
				var b [4]byte
				binary.BigEndian.PutUint16(b[:2], size[0])
				binary.BigEndian.PutUint16(b[2:], size[1])
				if writeFrame(a.conn, frameResize, b[:]) != nil {
					return
				}
			}
		}()
	}
	outputDone := make(chan struct{})
	var code = -1
	var outErr error
	go func() {
		defer close(outputDone)
		for {
			kind, payload, err := readFrame(a.r)
			if err != nil {
				outErr = err
				return
			}
			switch kind {
			case frameStdout:
				if s.Stdout != nil {
					_, _ = s.Stdout.Write(payload)
				}
			case frameStderr:
				if s.Stderr != nil {
					_, _ = s.Stderr.Write(payload)
				}
			case frameExit:
				fmt.Sscanf(string(payload), "%d", &code)
				return
			}
		}
	}()
	for {
		select {
		case <-outputDone:
			if code >= 0 {
				return code, nil
			}
			return -1, fmt.Errorf("lost the connection to the container's monitor: %v", outErr)
		case err := <-inputDone:
			if errors.Is(err, ErrDetached) {
				return -1, ErrDetached
			}
			inputDone = nil // input ended; keep reading output
		}
	}
}

// sendInput forwards stdin and half-closes the container's stdin at EOF.
// Bytes that may begin the detach sequence are held back until it is
// clear they do not, so the container never sees a detach key.
func (a *attachConn) sendInput(in io.Reader, detach []byte) error {
	buf := make([]byte, 32*1024)
	var held []byte
	for {
		n, err := in.Read(buf)
		if n > 0 {
			out := make([]byte, 0, n+len(held))
			for _, b := range buf[:n] {
				if len(detach) > 0 && b == detach[len(held)] {
					held = append(held, b)
					if len(held) == len(detach) {
						if len(out) > 0 {
							_ = writeFrame(a.conn, frameStdin, out)
						}
						return ErrDetached
					}
					continue
				}
				out = append(out, held...)
				held = held[:0]
				if len(detach) > 0 && b == detach[0] {
					held = append(held, b)
					continue
				}
				out = append(out, b)
			}
			if len(out) > 0 {
				if err := writeFrame(a.conn, frameStdin, out); err != nil {
					return err
				}
			}
		}
		if err != nil {
			if len(held) > 0 {
				_ = writeFrame(a.conn, frameStdin, held)
			}
			_ = writeFrame(a.conn, frameStdinEOF, nil)
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}
