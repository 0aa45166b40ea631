//go:build linux && cgo && seccomp

package bypass

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// The tests re-execute the test binary as a "container": a child in new user and
// network namespaces (so 192.0.2.0/24 is unreachable there and only a bypassed
// connect can reach the parent's 127.0.0.1), which loads a libseccomp filter with
// connect -> SCMP_ACT_NOTIFY and sends the listener fd to the parent the way runc
// does for Linux.Seccomp.ListenerPath (container process state JSON + SCM_RIGHTS).

const (
	envMode     = "BYPASS_TEST_CHILD"
	envListener = "BYPASS_TEST_LISTENER"
	envPort     = "BYPASS_TEST_PORT"
	envBulk     = "BYPASS_TEST_BULK"
)

var (
	bypassedIP = netip.MustParseAddr("192.0.2.99") // policy: -> 127.0.0.1:same port
	refusedIP  = netip.MustParseAddr("192.0.2.98") // policy: -> 127.0.0.1:closed port
	otherIP    = netip.MustParseAddr("192.0.2.1")  // policy: not bypassed
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(envMode); mode != "" {
		os.Exit(childMain(mode))
	}
	os.Exit(m.Run())
}

// childResult is what the child reports on stdout.
type childResult struct {
	Skip    string   `json:"skip,omitempty"`
	Err     string   `json:"err,omitempty"`     // connect's errno name or "" for success
	SoError string   `json:"soerr,omitempty"`   // SO_ERROR after a non-blocking connect
	Peer    string   `json:"peer,omitempty"`    // getpeername after connect
	Echo    string   `json:"echo,omitempty"`    // data echoed back
	Errs    []string `json:"errs,omitempty"`    // bogus mode
	Bytes   int64    `json:"bytes,omitempty"`   // bulk mode
	Seconds float64  `json:"seconds,omitempty"` // bulk mode
}

func errName(err error) string {
	if err == nil {
		return ""
	}
	var e unix.Errno
	if errors.As(err, &e) {
		if n := unix.ErrnoName(e); n != "" {
			return n
		}
	}
	return err.Error()
}

func childMain(mode string) int {
	out := func(r childResult) int {
		b, _ := json.Marshal(r)
		fmt.Printf("RESULT %s\n", b)
		return 0
	}
	// Connect to the "agent" before the filter exists (connect is notified afterwards).
	conn, err := net.Dial("unix", os.Getenv(envListener))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: dial listener:", err)
		return 1
	}
	if api, _ := libseccomp.GetAPI(); api < 6 {
		conn.Close()
		return out(childResult{Skip: fmt.Sprintf("libseccomp API level %d < 6: no notify support", api)})
	}
	filter, err := libseccomp.NewFilter(libseccomp.ActAllow)
	if err != nil {
		conn.Close()
		return out(childResult{Skip: "libseccomp.NewFilter: " + err.Error()})
	}
	sc, err := libseccomp.GetSyscallFromName("connect")
	if err == nil {
		err = filter.AddRule(sc, libseccomp.ActNotify)
	}
	if err == nil {
		err = filter.Load()
	}
	if err != nil {
		conn.Close()
		return out(childResult{Skip: "loading a connect->SCMP_ACT_NOTIFY filter: " + err.Error()})
	}
	nfd, err := filter.GetNotifFd()
	if err != nil {
		conn.Close()
		return out(childResult{Skip: "GetNotifFd: " + err.Error()})
	}
	// Same message as runc's libcontainer sendContainerProcessState.
	st := specs.ContainerProcessState{
		Version: specs.Version, Fds: []string{specs.SeccompFdName}, Pid: os.Getpid(),
		State: specs.State{Version: specs.Version, ID: "bypass-test", Status: specs.StateCreating, Pid: os.Getpid()},
	}
	b, _ := json.Marshal(st)
	f, _ := conn.(*net.UnixConn).File()
	if err := unix.Sendmsg(int(f.Fd()), b, unix.UnixRights(int(nfd)), nil, 0); err != nil {
		fmt.Fprintln(os.Stderr, "child: sendmsg:", err)
		return 1
	}
	f.Close()
	conn.Close()
	unix.Close(int(nfd))

	port, _ := strconv.Atoi(os.Getenv(envPort))
	sa4 := func(ip netip.Addr) *unix.SockaddrInet4 { return &unix.SockaddrInet4{Port: port, Addr: ip.As4()} }

	switch mode {
	case "block", "refused", "refusedhost", "bound", "v6":
		dom, sa := unix.AF_INET, unix.Sockaddr(sa4(bypassedIP))
		switch mode {
		case "refused":
			sa = sa4(otherIP)
		case "refusedhost":
			sa = sa4(refusedIP)
		case "v6":
			dom = unix.AF_INET6
			sa = &unix.SockaddrInet6{Port: port, Addr: netip.AddrFrom16(bypassedIP.As16()).As16()}
		}
		fd, err := unix.Socket(dom, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return out(childResult{Err: "socket: " + err.Error()})
		}
		if mode == "bound" {
			if err := unix.Bind(fd, &unix.SockaddrInet4{}); err != nil {
				return out(childResult{Err: "bind: " + err.Error()})
			}
		}
		if err := unix.Connect(fd, sa); err != nil {
			return out(childResult{Err: errName(err)})
		}
		return out(echo(fd))
	case "nonblock":
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
		if err != nil {
			return out(childResult{Err: "socket: " + err.Error()})
		}
		r := childResult{Err: errName(unix.Connect(fd, sa4(bypassedIP)))}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		unix.Poll(pfd, 5000)
		soerr, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if soerr != 0 {
			r.SoError = errName(unix.Errno(soerr))
		}
		if soerr == 0 {
			fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
			unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl&^unix.O_NONBLOCK)
			e := echo(fd)
			r.Peer, r.Echo = e.Peer, e.Echo
		}
		return out(r)
	case "epoll": // nginx's order: into epoll first, then connect
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
		if err != nil {
			return out(childResult{Err: "socket: " + err.Error()})
		}
		ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			return out(childResult{Err: "epoll: " + err.Error()})
		}
		if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLOUT, Fd: int32(fd)}); err != nil {
			return out(childResult{Err: "epoll_ctl: " + err.Error()})
		}
		return out(childResult{Err: errName(unix.Connect(fd, sa4(bypassedIP)))})
	case "unix":
		ln, err := net.Listen("unix", "@bypass-test-"+strconv.Itoa(os.Getpid()))
		if err != nil {
			return out(childResult{Err: "listen: " + err.Error()})
		}
		go func() {
			c, err := ln.Accept()
			if err == nil {
				io.Copy(c, c)
				c.Close()
			}
		}()
		c, err := net.Dial("unix", ln.Addr().String())
		if err != nil {
			return out(childResult{Err: errName(err)})
		}
		c.Write([]byte("ping"))
		buf := make([]byte, 4)
		io.ReadFull(c, buf)
		return out(childResult{Echo: string(buf)})
	case "bogus":
		var r childResult
		fd, _ := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		var raw [128]byte
		binary.NativeEndian.PutUint16(raw[0:2], unix.AF_INET)
		binary.BigEndian.PutUint16(raw[2:4], uint16(port))
		a := bypassedIP.As4()
		copy(raw[4:8], a[:])
		rawConnect := func(fd int, p uintptr, l uintptr) string {
			_, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), p, l)
			if e == 0 {
				return ""
			}
			return errName(e)
		}
		pipe := make([]int, 2)
		unix.Pipe2(pipe, unix.O_CLOEXEC)
		r.Errs = []string{
			rawConnect(fd, 1, 16), // bad pointer
			rawConnect(fd, uintptr(unsafe.Pointer(&raw[0])), 100000),  // too long
			rawConnect(fd, uintptr(unsafe.Pointer(&raw[0])), 1),       // too short
			rawConnect(fd, uintptr(unsafe.Pointer(&raw[0])), 8),       // short AF_INET
			rawConnect(fd, ^uintptr(0)-7, 16),                         // pointer at the top of the address space
			rawConnect(9999, uintptr(unsafe.Pointer(&raw[0])), 16),    // not an fd
			rawConnect(pipe[0], uintptr(unsafe.Pointer(&raw[0])), 16), // not a socket
		}
		// Serve must still be alive: a proper bypassed connect.
		r.Err = rawConnect(fd, uintptr(unsafe.Pointer(&raw[0])), 16)
		if r.Err == "" {
			e := echo(fd)
			r.Peer, r.Echo = e.Peer, e.Echo
		}
		return out(r)
	case "godial":
		c, err := net.DialTimeout("tcp", netip.AddrPortFrom(bypassedIP, uint16(port)).String(), 5*time.Second)
		if err != nil {
			return out(childResult{Err: err.Error()})
		}
		defer c.Close()
		c.Write([]byte("ping"))
		buf := make([]byte, 4)
		io.ReadFull(c, buf)
		return out(childResult{Peer: c.RemoteAddr().String(), Echo: string(buf)})
	case "godial-many":
		// Concurrent dials from many Go threads: notifications carry thread ids.
		const n = 64
		errs := make(chan string, n)
		for range n {
			go func() {
				c, err := net.DialTimeout("tcp", netip.AddrPortFrom(bypassedIP, uint16(port)).String(), 10*time.Second)
				if err != nil {
					errs <- err.Error()
					return
				}
				defer c.Close()
				c.Write([]byte("ping"))
				buf := make([]byte, 4)
				if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
					errs <- fmt.Sprintf("echo %q %v", buf, err)
					return
				}
				errs <- ""
			}()
		}
		var r childResult
		for range n {
			if e := <-errs; e != "" {
				r.Errs = append(r.Errs, e)
			}
		}
		r.Bytes = n
		return out(r)
	case "bulk":
		total, _ := strconv.ParseInt(os.Getenv(envBulk), 10, 64)
		c, err := net.DialTimeout("tcp", netip.AddrPortFrom(bypassedIP, uint16(port)).String(), 5*time.Second)
		if err != nil {
			return out(childResult{Err: err.Error()})
		}
		buf := make([]byte, 1<<20)
		start := time.Now()
		for sent := int64(0); sent < total; {
			n, err := c.Write(buf[:min(int64(len(buf)), total-sent)])
			if err != nil {
				return out(childResult{Err: "write: " + err.Error()})
			}
			sent += int64(n)
		}
		c.(*net.TCPConn).CloseWrite()
		var got [8]byte
		if _, err := io.ReadFull(c, got[:]); err != nil {
			return out(childResult{Err: "read count: " + err.Error()})
		}
		return out(childResult{Bytes: int64(binary.BigEndian.Uint64(got[:])), Seconds: time.Since(start).Seconds(), Peer: c.RemoteAddr().String()})
	}
	fmt.Fprintln(os.Stderr, "child: unknown mode", mode)
	return 1
}

// echo writes "ping" on a connected blocking socket and reads it back.
func echo(fd int) childResult {
	var r childResult
	if sa, err := unix.Getpeername(fd); err == nil {
		switch a := sa.(type) {
		case *unix.SockaddrInet4:
			r.Peer = netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)).String()
		case *unix.SockaddrInet6:
			r.Peer = netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port)).String()
		}
	}
	if _, err := unix.Write(fd, []byte("ping")); err != nil {
		r.Err = "write: " + errName(err)
		return r
	}
	buf := make([]byte, 4)
	n := 0
	for n < 4 {
		m, err := unix.Read(fd, buf[n:])
		if err != nil || m == 0 {
			r.Err = fmt.Sprintf("read: %v", err)
			return r
		}
		n += m
	}
	r.Echo = string(buf)
	return r
}

type env struct {
	echoPort, sinkPort, closedPort uint16
}

func startServers(t *testing.T) env {
	t.Helper()
	lis := func() net.Listener {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		return ln
	}
	echoLn, sinkLn := lis(), lis()
	go func() {
		for {
			c, err := echoLn.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	go func() {
		for {
			c, err := sinkLn.Accept()
			if err != nil {
				return
			}
			go func() {
				n, _ := io.Copy(io.Discard, c)
				var b [8]byte
				binary.BigEndian.PutUint64(b[:], uint64(n))
				c.Write(b[:])
				c.Close()
			}()
		}
	}()
	closed, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := uint16(closed.Addr().(*net.TCPAddr).Port)
	closed.Close()
	return env{
		echoPort:   uint16(echoLn.Addr().(*net.TCPAddr).Port),
		sinkPort:   uint16(sinkLn.Addr().(*net.TCPAddr).Port),
		closedPort: closedPort,
	}
}

func (e env) policy(dst netip.AddrPort) (netip.AddrPort, bool) {
	switch dst.Addr() {
	case bypassedIP:
		return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), dst.Port()), true
	case refusedIP:
		return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), e.closedPort), true
	}
	return netip.AddrPort{}, false
}

// runChild runs one child in mode against port and serves its notifications.
func runChild(t *testing.T, e env, mode string, port uint16, extraEnv ...string) (childResult, Stats) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "seccomp.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), envMode+"="+mode, envListener+"="+path, envPort+"="+strconv.Itoa(int(port)))
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		GidMappingsEnableSetgroups: false,
		Pdeathsig:                  syscall.SIGKILL,
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSPC) {
			t.Skipf("cannot create user+network namespaces for the test child (uid %d): %v", os.Getuid(), err)
		}
		t.Fatal(err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()

	ln.SetDeadline(time.Now().Add(20 * time.Second))
	fd, st, err := ReceiveProcessState(ln)
	if err != nil {
		select {
		case werr := <-waitErr:
			r := parseResult(t, stdout.String(), stderr.String(), werr)
			if r.Skip != "" {
				t.Skipf("seccomp user notification unavailable: %s", r.Skip)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
		t.Fatalf("ReceiveProcessState: %v (child stderr: %s)", err, stderr.String())
	}
	if st.Pid != cmd.Process.Pid || st.State.ID != "bypass-test" {
		t.Errorf("process state: pid %d (child %d), id %q", st.Pid, cmd.Process.Pid, st.State.ID)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	srv := &Server{Policy: e.policy, Logf: t.Logf}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, fd) }()

	var werr error
	select {
	case werr = <-waitErr:
	case <-ctx.Done():
		cmd.Process.Kill()
		t.Fatalf("child %s did not finish; stderr: %s", mode, stderr.String())
	}
	// (6) Serve returns by itself once the child (the filter's only user) is gone.
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve returned %v after the child exited, want nil", err)
		}
	case <-time.After(10 * time.Second):
		cancel()
		<-served
		t.Errorf("Serve did not return after the child exited")
	}
	return parseResult(t, stdout.String(), stderr.String(), werr), srv.Stats()
}

func parseResult(t *testing.T, stdout, stderr string, werr error) childResult {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		if b, ok := strings.CutPrefix(sc.Text(), "RESULT "); ok {
			var r childResult
			if err := json.Unmarshal([]byte(b), &r); err != nil {
				t.Fatalf("bad child result %q: %v", b, err)
			}
			return r
		}
	}
	t.Fatalf("child gave no result (exit %v); stdout: %s stderr: %s", werr, stdout, stderr)
	return childResult{}
}

func TestBypass(t *testing.T) {
	e := startServers(t)
	wantPeer := fmt.Sprintf("127.0.0.1:%d", e.echoPort)

	t.Run("blocking", func(t *testing.T) { // (1)
		r, st := runChild(t, e, "block", e.echoPort)
		if r.Err != "" || r.Echo != "ping" || r.Peer != wantPeer {
			t.Fatalf("got %+v, want connected to %s with echo", r, wantPeer)
		}
		if st.Bypassed != 1 {
			t.Errorf("stats %+v, want 1 bypassed", st)
		}
	})
	t.Run("nonblocking", func(t *testing.T) { // (2)
		r, st := runChild(t, e, "nonblock", e.echoPort)
		if (r.Err != "EINPROGRESS" && r.Err != "") || r.SoError != "" || r.Echo != "ping" || r.Peer != wantPeer {
			t.Fatalf("got %+v, want EINPROGRESS then connected to %s", r, wantPeer)
		}
		if st.Bypassed != 1 {
			t.Errorf("stats %+v, want 1 bypassed", st)
		}
	})
	t.Run("go-dial", func(t *testing.T) { // Go's runtime: non-blocking, any thread
		r, _ := runChild(t, e, "godial", e.echoPort)
		// Go asks getpeername after connecting: it sees the host-side peer.
		if r.Err != "" || r.Echo != "ping" || r.Peer != wantPeer {
			t.Fatalf("got %+v", r)
		}
	})
	t.Run("go-dial-concurrent", func(t *testing.T) {
		r, st := runChild(t, e, "godial-many", e.echoPort)
		if len(r.Errs) != 0 || st.Bypassed != uint64(r.Bytes) || st.Errors != 0 {
			t.Fatalf("got %+v / %+v, want %d bypassed echoes", r, st, r.Bytes)
		}
	})
	t.Run("ipv6-mapped", func(t *testing.T) {
		r, st := runChild(t, e, "v6", e.echoPort)
		if r.Err != "" || r.Echo != "ping" || r.Peer != "[::ffff:127.0.0.1]:"+strconv.Itoa(int(e.echoPort)) {
			t.Fatalf("got %+v", r)
		}
		if st.Bypassed != 1 {
			t.Errorf("stats %+v, want 1 bypassed", st)
		}
	})
	t.Run("policy-refuses", func(t *testing.T) { // (3)
		r, st := runChild(t, e, "refused", e.echoPort)
		if r.Err != "ENETUNREACH" {
			t.Fatalf("got %+v, want ENETUNREACH from the child's own netns", r)
		}
		if st.Bypassed != 0 || st.Continued == 0 {
			t.Errorf("stats %+v, want only continued", st)
		}
	})
	t.Run("already-bound", func(t *testing.T) {
		r, st := runChild(t, e, "bound", e.echoPort)
		if r.Err != "ENETUNREACH" || st.Bypassed != 0 {
			t.Fatalf("got %+v / %+v, want the bound socket continued (ENETUNREACH)", r, st)
		}
	})
	t.Run("in-epoll-before-connect", func(t *testing.T) {
		r, st := runChild(t, e, "epoll", e.echoPort)
		if r.Err != "ENETUNREACH" || st.Bypassed != 0 {
			t.Fatalf("got %+v / %+v, want the socket left alone (ENETUNREACH in the child's netns)", r, st)
		}
	})
	t.Run("host-refused", func(t *testing.T) {
		r, st := runChild(t, e, "refusedhost", e.echoPort)
		if r.Err != "ECONNREFUSED" || st.Bypassed != 1 {
			t.Fatalf("got %+v / %+v, want ECONNREFUSED from the host", r, st)
		}
	})
	t.Run("unix", func(t *testing.T) { // (4)
		r, st := runChild(t, e, "unix", 0)
		if r.Err != "" || r.Echo != "ping" {
			t.Fatalf("got %+v, want a working AF_UNIX connection", r)
		}
		if st.Bypassed != 0 || st.Continued == 0 || st.Errors != 0 {
			t.Errorf("stats %+v, want only continued", st)
		}
	})
	t.Run("bogus", func(t *testing.T) { // (5)
		r, st := runChild(t, e, "bogus", e.echoPort)
		want := []string{"EFAULT", "EINVAL", "EINVAL", "EINVAL", "EFAULT", "EBADF", "ENOTSOCK"}
		if fmt.Sprint(r.Errs) != fmt.Sprint(want) {
			t.Errorf("bogus connects: got %v, want %v", r.Errs, want)
		}
		if r.Err != "" || r.Echo != "ping" || r.Peer != wantPeer {
			t.Errorf("connect after the bogus ones: %+v", r)
		}
		if st.Bypassed != 1 || st.Continued != uint64(len(want)) {
			t.Errorf("stats %+v, want %d continued and 1 bypassed", st, len(want))
		}
	})
}

func TestBypassThroughput(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the 1 GiB transfer")
	}
	e := startServers(t)
	const total = 1 << 30
	r, st := runChild(t, e, "bulk", e.sinkPort, envBulk+"="+strconv.Itoa(total))
	if r.Err != "" || r.Bytes != total {
		t.Fatalf("bulk: %+v", r)
	}
	if st.Bypassed != 1 {
		t.Errorf("stats %+v, want 1 bypassed", st)
	}
	t.Logf("bypassed bulk transfer: %d MiB in %.3fs = %.1f Gbit/s", r.Bytes>>20, r.Seconds, float64(r.Bytes)*8/r.Seconds/1e9)
}

func TestProfile(t *testing.T) {
	p := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"accept", "connect", "read"}, Action: specs.ActAllow},
			{Names: []string{"connect"}, Action: specs.ActAllow},
		},
	}
	AddToProfile(p, "/run/x.sock")
	if p.ListenerPath != "/run/x.sock" || len(p.Syscalls) != 2 ||
		fmt.Sprint(p.Syscalls[0].Names) != "[accept read]" ||
		p.Syscalls[1].Action != specs.ActNotify || fmt.Sprint(p.Syscalls[1].Names) != "[connect]" {
		t.Fatalf("AddToProfile: %+v", p)
	}
}

func TestServeStopsOnContext(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[1])
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, p[0], nil, nil) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Serve: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if _, err := unix.FcntlInt(uintptr(p[0]), unix.F_GETFD, 0); err != unix.EBADF {
		t.Errorf("Serve did not close notifyFD (fcntl: %v)", err)
	}
}
