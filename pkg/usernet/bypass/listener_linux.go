//go:build linux

package bypass

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// maxStateLen bounds the container process state JSON read from the runtime.
const maxStateLen = 1 << 20

// receiveTimeout bounds how long a connected peer may take to send its message.
const receiveTimeout = 30 * time.Second

// ReceiveListener accepts one connection on ln, at which the OCI runtime (runc's
// libcontainer) delivers the seccomp notify fd for Linux.Seccomp.ListenerPath, and
// returns that fd (close-on-exec). Close ln or set a deadline on it to stop waiting.
//
// libcontainer connects to ListenerPath once per process it starts whose filter
// has a notify rule (the init process, and every exec'd process: each has its own
// filter and fd), so call this in a loop and Serve each fd.
func ReceiveListener(ln *net.UnixListener) (int, error) {
	fd, _, err := ReceiveProcessState(ln)
	return fd, err
}

// ReceiveProcessState is ReceiveListener that also returns the
// specs.ContainerProcessState the runtime sent along with the fd (pid, container
// id, state). The fd is the one named specs.SeccompFdName in state.Fds.
func ReceiveProcessState(ln *net.UnixListener) (int, *specs.ContainerProcessState, error) {
	conn, err := ln.AcceptUnix()
	if err != nil {
		return -1, nil, err
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(receiveTimeout))

	var (
		data []byte
		fds  []int
		buf  = make([]byte, 64<<10)
		oob  = make([]byte, unix.CmsgSpace(16*4))
	)
	closeFds := func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
	for {
		n, oobn, flags, _, err := conn.ReadMsgUnix(buf, oob)
		if oobn > 0 {
			got, perr := parseRights(oob[:oobn])
			fds = append(fds, got...)
			if perr != nil {
				closeFds()
				return -1, nil, perr
			}
		}
		if flags&unix.MSG_CTRUNC != 0 {
			closeFds()
			return -1, nil, errors.New("bypass: control message truncated (too many fds)")
		}
		data = append(data, buf[:n]...)
		if len(data) > maxStateLen {
			closeFds()
			return -1, nil, errors.New("bypass: container process state too large")
		}
		if err != nil || n == 0 {
			// runc sends one message and closes the connection: EOF ends it.
			if err != nil && !isEOF(err) {
				closeFds()
				return -1, nil, fmt.Errorf("bypass: read seccomp listener message: %w", err)
			}
			break
		}
		// Stop early once a complete JSON document arrived with its fd.
		if len(fds) > 0 && json.Valid(data) {
			break
		}
	}
	if len(fds) == 0 {
		return -1, nil, errors.New("bypass: no fd received from the runtime")
	}
	var st specs.ContainerProcessState
	if err := json.Unmarshal(data, &st); err != nil {
		closeFds()
		return -1, nil, fmt.Errorf("bypass: decode container process state: %w", err)
	}
	idx := slices.Index(st.Fds, specs.SeccompFdName)
	if idx < 0 && len(st.Fds) == 0 && len(fds) == 1 {
		idx = 0 // tolerate a sender that did not name its single fd
	}
	if idx < 0 || idx >= len(fds) {
		closeFds()
		return -1, nil, fmt.Errorf("bypass: no %q among the %d fds received (names %q)", specs.SeccompFdName, len(fds), st.Fds)
	}
	fd := fds[idx]
	fds = slices.Delete(fds, idx, idx+1)
	closeFds()
	return fd, &st, nil
}

func parseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("bypass: parse control message: %w", err)
	}
	var fds []int
	for i := range msgs {
		if msgs[i].Header.Level != unix.SOL_SOCKET || msgs[i].Header.Type != unix.SCM_RIGHTS {
			continue
		}
		got, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			return fds, fmt.Errorf("bypass: parse SCM_RIGHTS: %w", err)
		}
		fds = append(fds, got...)
	}
	// Received fds are close-on-exec already: Go's ReadMsgUnix passes MSG_CMSG_CLOEXEC.
	return fds, nil
}

func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, unix.ECONNRESET)
}
