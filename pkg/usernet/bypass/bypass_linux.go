//go:build linux

package bypass

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Policy says whether a TCP connect to dst (already unmapped: an IPv4-mapped IPv6
// destination is passed as IPv4) should leave from the host directly, and to which
// host address (e.g. a gateway address mapped to the host's own). ok=false lets the
// syscall continue in the container's network namespace (the netstack path).
// Policy is called concurrently from several goroutines and must be fast.
type Policy func(dst netip.AddrPort) (hostDst netip.AddrPort, ok bool)

// Stats counts what a Server did.
type Stats struct {
	Notifications uint64 // notifications received
	Bypassed      uint64 // connects answered with a host socket (or a host connect error)
	Continued     uint64 // connects let through to the container's netns
	Errors        uint64 // unexpected failures (each one also continued or dropped)
}

// ProfileRule is what the caller adds to the container's OCI seccomp profile so
// that connect(2) is notified to the listener.
func ProfileRule() specs.LinuxSyscall {
	return specs.LinuxSyscall{Names: []string{"connect"}, Action: specs.ActNotify}
}

// AddToProfile removes "connect" from every existing rule of p (libseccomp refuses
// two unconditional rules with different actions for one syscall), appends
// ProfileRule and sets ListenerPath. p must not be nil.
func AddToProfile(p *specs.LinuxSeccomp, listenerPath string) {
	var out []specs.LinuxSyscall
	for _, r := range p.Syscalls {
		var names []string
		for _, n := range r.Names {
			if n != "connect" {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			continue
		}
		r.Names = names
		out = append(out, r)
	}
	p.Syscalls = append(out, ProfileRule())
	p.ListenerPath = listenerPath
}

// maxInflight bounds the goroutines handling notifications; beyond it the
// connect is simply continued on the netstack path. (Each container thread has at
// most one pending notification, so this only matters for huge thread counts.)
const maxInflight = 1024

// Server handles the seccomp notifications of one listener fd.
type Server struct {
	Policy Policy
	Logf   func(string, ...any) // may be nil

	notifications, bypassed, continued, errs atomic.Uint64
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	return Stats{
		Notifications: s.notifications.Load(),
		Bypassed:      s.bypassed.Load(),
		Continued:     s.continued.Load(),
		Errors:        s.errs.Load(),
	}
}

func (s *Server) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

// Serve handles seccomp notifications on notifyFD (the listener fd of the
// container's seccomp filter, whose filter returns SCMP_ACT_NOTIFY for connect)
// until ctx is done or the filter has no users any more (all processes gone).
// It owns notifyFD and closes it on return. Once notifyFD is closed, the kernel
// fails every further notified connect in the container with ENOSYS, so Serve
// must run for as long as the container does.
func Serve(ctx context.Context, notifyFD int, policy Policy, logf func(string, ...any)) error {
	s := &Server{Policy: policy, Logf: logf}
	return s.Serve(ctx, notifyFD)
}

// Serve is like the package-level Serve but keeps counters in s.
func (s *Server) Serve(ctx context.Context, notifyFD int) error {
	// The fd waits in Go's poller, not in a thread of its own blocked in
	// poll(2): a container costs a goroutine here, not an OS thread.
	if err := unix.SetNonblock(notifyFD, true); err != nil {
		unix.Close(notifyFD)
		return fmt.Errorf("bypass: %w", err)
	}
	f := os.NewFile(uintptr(notifyFD), "seccomp-notify")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("bypass: %w", err)
	}
	var wg sync.WaitGroup
	defer wg.Wait() // handlers use notifyFD: close it after them
	stop := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Now()) })
	defer stop()

	sem := make(chan struct{}, maxInflight)
	arch := nativeAuditArch()
	for {
		n := new(seccompNotif)
		var recvErr error
		gone := false
		err := rc.Read(func(fd uintptr) bool {
			pfds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			if _, err := unix.Poll(pfds, 0); err != nil {
				return false
			}
			re := pfds[0].Revents
			switch {
			case re&unix.POLLIN != 0:
				recvErr = notifRecv(int(fd), n)
				return true
			case re&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0:
				gone = true // no task uses the filter any more
				return true
			}
			return false // nothing yet: wait for the poller
		})
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			return ctx.Err()
		case err != nil:
			return fmt.Errorf("bypass: waiting for notifications: %w", err)
		case gone:
			return nil
		}
		if recvErr != nil {
			switch recvErr {
			case unix.ENOENT, unix.EINTR, unix.EAGAIN:
				continue // the task died or was interrupted before we got it
			}
			return fmt.Errorf("bypass: SECCOMP_IOCTL_NOTIF_RECV: %w", recvErr)
		}
		s.notifications.Add(1)
		if n.Data.Nr != unix.SYS_CONNECT || n.Data.Arch != arch {
			s.cont(notifyFD, n.ID)
			continue
		}
		select {
		case sem <- struct{}{}:
		default:
			s.cont(notifyFD, n.ID)
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			defer func() {
				if r := recover(); r != nil {
					// Never take the supervisor down; answering twice is harmless
					// (the second answer fails with ENOENT).
					s.errs.Add(1)
					s.logf("bypass: panic handling connect of pid %d: %v", n.Pid, r)
					s.cont(notifyFD, n.ID)
				}
			}()
			s.handleConnect(ctx, notifyFD, n)
		}()
	}
}

// cont lets the syscall proceed in the container as if nothing happened.
func (s *Server) cont(fd int, id uint64) {
	s.continued.Add(1)
	r := seccompNotifResp{ID: id, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
	if err := notifSend(fd, &r); err != nil && err != unix.ENOENT {
		s.errs.Add(1)
		s.logf("bypass: continue notification: %v", err)
	}
}

// respond completes the syscall with -errno (0: success).
func (s *Server) respond(fd int, id uint64, errno unix.Errno) {
	s.bypassed.Add(1)
	r := seccompNotifResp{ID: id, Error: -int32(errno)}
	if err := notifSend(fd, &r); err != nil && err != unix.ENOENT {
		s.errs.Add(1)
		s.logf("bypass: respond to notification: %v", err)
	}
}

// maxSockaddr is sizeof(struct sockaddr_storage); the kernel rejects larger lengths.
const maxSockaddr = 128

// handleConnect decides one connect notification and answers it exactly once
// (or not at all when the notification became invalid).
func (s *Server) handleConnect(ctx context.Context, nfd int, n *seccompNotif) {
	pid := int(n.Pid)
	sockfd := int(int32(uint32(n.Data.Args[0])))
	addrPtr := n.Data.Args[1]
	addrLen := int(int32(uint32(n.Data.Args[2])))
	if pid <= 0 || sockfd < 0 || addrLen < 2 || addrLen > maxSockaddr || addrPtr == 0 || addrPtr > 1<<63-1 {
		s.cont(nfd, n.ID) // the kernel produces the right error (or it's not ours)
		return
	}

	buf, err := readMem(pid, addrPtr, addrLen)
	if err != nil {
		s.cont(nfd, n.ID) // e.g. EFAULT-worthy pointer: let the kernel say so
		return
	}
	if !notifIDValid(nfd, n.ID) {
		return // the task is gone; buf may belong to a recycled pid
	}
	family := binary.NativeEndian.Uint16(buf[:2])
	dst, ok := parseSockaddr(family, buf)
	if !ok {
		s.cont(nfd, n.ID)
		return
	}
	if s.Policy == nil {
		s.cont(nfd, n.ID)
		return
	}
	hostDst, ok := s.Policy(dst)
	if !ok || !hostDst.IsValid() || hostDst.Port() == 0 {
		s.cont(nfd, n.ID)
		return
	}

	res, err := s.bypass(ctx, nfd, n, pid, sockfd, family, buf, hostDst)
	switch res {
	case resContinue:
		if err != nil {
			s.errs.Add(1)
			s.logf("bypass: connect %v from pid %d fd %d: %v; continuing in the container", dst, pid, sockfd, err)
		}
		s.cont(nfd, n.ID)
	case resRespond:
		s.respond(nfd, n.ID, errnoOf(err))
	case resGone:
	}
}

type result int

const (
	resContinue result = iota // answer CONTINUE (err: why, if unexpected)
	resRespond                // answer with errnoOf(err)
	resGone                   // notification no longer valid: do not answer
)

func errnoOf(err error) unix.Errno {
	if err == nil {
		return 0
	}
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return unix.EIO
}

// parseSockaddr decodes an AF_INET/AF_INET6 sockaddr of a connect(2); ok=false for
// anything else (AF_UNIX, AF_UNSPEC, short lengths the kernel would reject, port 0).
func parseSockaddr(family uint16, b []byte) (netip.AddrPort, bool) {
	var ip netip.Addr
	switch family {
	case unix.AF_INET:
		if len(b) < unix.SizeofSockaddrInet4 {
			return netip.AddrPort{}, false
		}
		ip = netip.AddrFrom4([4]byte(b[4:8]))
	case unix.AF_INET6:
		if len(b) < 24 { // SIN6_LEN_RFC2133: the kernel's minimum
			return netip.AddrPort{}, false
		}
		ip = netip.AddrFrom16([16]byte(b[8:24])).Unmap()
	default:
		return netip.AddrPort{}, false
	}
	port := binary.BigEndian.Uint16(b[2:4])
	if port == 0 || !ip.IsValid() {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ip, port), true
}

// readMem reads exactly n bytes at addr of pid's memory.
func readMem(pid int, addr uint64, n int) ([]byte, error) {
	f, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/mem", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(f)
	buf := make([]byte, n)
	got, err := unix.Pread(f, buf, int64(addr))
	if err != nil {
		return nil, err
	}
	if got != n {
		return nil, unix.EFAULT
	}
	return buf, nil
}

// openPidfd opens a pidfd for the (possibly non-leader) thread pid.
func openPidfd(pid int) (int, error) {
	fd, err := unix.PidfdOpen(pid, pidfdThread)
	if err != unix.EINVAL {
		return fd, err
	}
	// Kernel < 6.9 (no PIDFD_THREAD): use the thread group leader; threads share
	// their fd table with it (CLONE_THREAD without CLONE_FILES is practically unused).
	tgid, terr := readTgid(pid)
	if terr != nil {
		return -1, terr
	}
	return unix.PidfdOpen(tgid, 0)
}

func readTgid(pid int) (int, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(l, []byte("Tgid:")); ok {
			return strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	return 0, errors.New("no Tgid in status")
}

// fdCloexec reports whether pid's descriptor fd has FD_CLOEXEC set (fdinfo's
// "flags:" field, octal, includes O_CLOEXEC for that).
func fdCloexec(pid, fd int) (bool, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		return false, err
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(l, []byte("flags:")); ok {
			f, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 8, 64)
			if err != nil {
				return false, err
			}
			return f&unix.O_CLOEXEC != 0, nil
		}
	}
	return false, errors.New("no flags in fdinfo")
}

// bypass performs the host-side connect and installs the socket into the container.
func (s *Server) bypass(ctx context.Context, nfd int, n *seccompNotif, pid, sockfd int, family uint16, sa []byte, hostDst netip.AddrPort) (result, error) {
	pidfd, err := openPidfd(pid)
	if err != nil {
		if !notifIDValid(nfd, n.ID) {
			return resGone, nil
		}
		return resContinue, fmt.Errorf("pidfd_open: %w", err)
	}
	defer unix.Close(pidfd)
	if !notifIDValid(nfd, n.ID) { // the pidfd names the notifying task, not a recycled pid
		return resGone, nil
	}
	cfd, err := unix.PidfdGetfd(pidfd, sockfd, 0)
	if err != nil {
		if err == unix.EBADF {
			return resContinue, nil // not an open fd: the kernel returns EBADF
		}
		return resContinue, fmt.Errorf("pidfd_getfd: %w", err)
	}
	defer unix.Close(cfd)

	// Only an unbound, unconnected TCP socket of the matching family is a candidate.
	domain, err := unix.GetsockoptInt(cfd, unix.SOL_SOCKET, unix.SO_DOMAIN)
	if err != nil {
		return resContinue, nil // ENOTSOCK: not a socket, the kernel will say so
	}
	if domain != int(family) {
		return resContinue, nil // e.g. AF_INET socket with AF_INET6 sockaddr: kernel error
	}
	if typ, err := unix.GetsockoptInt(cfd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || typ != unix.SOCK_STREAM {
		return resContinue, nil
	}
	if proto, err := unix.GetsockoptInt(cfd, unix.SOL_SOCKET, unix.SO_PROTOCOL); err != nil || proto != unix.IPPROTO_TCP {
		return resContinue, nil
	}
	if !unboundAndUnconnected(cfd) {
		return resContinue, nil // bound to a chosen address/port, connecting or connected
	}
	if inEpoll(pid, sockfd, cfd) {
		// Replacing the fd would leave the app's epoll watching the old
		// socket (nginx registers upstream sockets before connecting).
		return resContinue, nil
	}
	hostSA, ok := hostSockaddr(domain, hostDst)
	if !ok {
		return resContinue, nil
	}
	if domain == unix.AF_INET6 && hostDst.Addr().Is4() {
		if v6only, _ := unix.GetsockoptInt(cfd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY); v6only != 0 {
			return resContinue, nil
		}
	}
	fl, err := unix.FcntlInt(uintptr(cfd), unix.F_GETFL, 0)
	if err != nil {
		return resContinue, fmt.Errorf("F_GETFL: %w", err)
	}
	nonblock := fl&unix.O_NONBLOCK != 0
	cloexec, err := fdCloexec(pid, sockfd)
	if err != nil {
		return resContinue, fmt.Errorf("fdinfo: %w", err)
	}

	hfd, err := unix.Socket(domain, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.IPPROTO_TCP)
	if err != nil {
		return resContinue, fmt.Errorf("host socket: %w", err)
	}
	defer unix.Close(hfd)
	copySockopts(cfd, hfd)

	cerr := unix.Connect(hfd, hostSA)
	switch {
	case cerr == nil || cerr == unix.EINPROGRESS:
	case cerr == unix.EINTR: // cannot happen for a non-blocking connect, but be safe
		cerr = unix.EINPROGRESS
	default:
		// Immediate failure on the host (e.g. ENETUNREACH): report it; the
		// container's own socket stays untouched and unconnected.
		if !notifIDValid(nfd, n.ID) {
			return resGone, nil
		}
		return resRespond, cerr
	}

	if !nonblock && cerr == unix.EINPROGRESS {
		// A blocking connect: wait here (this goroutine only, never the
		// notification loop) until it completes, the container thread stops
		// waiting, or the container socket's SO_SNDTIMEO expires.
		done, werr := waitConnect(ctx, nfd, n.ID, hfd, sndTimeout(cfd))
		switch {
		case werr == errGone:
			return resGone, nil
		case werr != nil:
			// Timed out (SO_SNDTIMEO) or ctx done: the kernel answers a timed-out
			// blocking connect with EINPROGRESS and keeps connecting; do the same.
			cerr = unix.EINPROGRESS
		case done != nil:
			if !notifIDValid(nfd, n.ID) {
				return resGone, nil
			}
			return resRespond, done // connect failed: leave the container's socket alone
		default:
			cerr = nil
		}
	}
	if !nonblock {
		hfl, err := unix.FcntlInt(uintptr(hfd), unix.F_GETFL, 0)
		if err == nil {
			_, err = unix.FcntlInt(uintptr(hfd), unix.F_SETFL, hfl&^unix.O_NONBLOCK)
		}
		if err != nil {
			return resContinue, fmt.Errorf("F_SETFL: %w", err)
		}
	}
	if err := notifAddfdSetfd(nfd, n.ID, hfd, sockfd, cloexec); err != nil {
		if err == unix.ENOENT || !notifIDValid(nfd, n.ID) {
			return resGone, nil
		}
		return resContinue, fmt.Errorf("SECCOMP_IOCTL_NOTIF_ADDFD: %w", err)
	}
	if cerr == nil {
		return resRespond, nil
	}
	return resRespond, cerr
}

// unboundAndUnconnected: getsockname shows the unspecified address with port 0
// (never bound, nor autobound by a connect) and there is no peer.
func unboundAndUnconnected(fd int) bool {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return false
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		if a.Port != 0 || a.Addr != [4]byte{} {
			return false
		}
	case *unix.SockaddrInet6:
		if a.Port != 0 || a.Addr != [16]byte{} {
			return false
		}
	default:
		return false
	}
	_, err = unix.Getpeername(fd)
	return err == unix.ENOTCONN
}

func hostSockaddr(domain int, ap netip.AddrPort) (unix.Sockaddr, bool) {
	a := ap.Addr().Unmap()
	switch {
	case domain == unix.AF_INET && a.Is4():
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}, true
	case domain == unix.AF_INET6:
		sa := &unix.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()} // As16 maps IPv4
		if z := ap.Addr().Zone(); z != "" {
			if id, err := strconv.ParseUint(z, 10, 32); err == nil {
				sa.ZoneId = uint32(id)
			}
		}
		return sa, true
	}
	return nil, false
}

// Kernel defaults of SO_SNDBUF/SO_RCVBUF for a fresh TCP socket (tcp_wmem[1],
// tcp_rmem[1]); a different value means the application (or a tuned sysctl) set it.
const defaultSndbuf, defaultRcvbuf = 16384, 131072

// copySockopts copies the options an application commonly sets before connect.
// Buffer sizes are copied only when they look explicitly set, because setting
// them disables the kernel's buffer autotuning, which loopback throughput needs.
func copySockopts(from, to int) {
	for _, o := range [][2]int{
		{unix.SOL_SOCKET, unix.SO_REUSEADDR},
		{unix.SOL_SOCKET, unix.SO_KEEPALIVE},
		{unix.IPPROTO_TCP, unix.TCP_NODELAY},
		{unix.IPPROTO_TCP, unix.TCP_KEEPIDLE},
		{unix.IPPROTO_TCP, unix.TCP_KEEPINTVL},
		{unix.IPPROTO_TCP, unix.TCP_KEEPCNT},
	} {
		v, err := unix.GetsockoptInt(from, o[0], o[1])
		if err != nil {
			continue
		}
		if cur, err := unix.GetsockoptInt(to, o[0], o[1]); err == nil && cur == v {
			continue
		}
		unix.SetsockoptInt(to, o[0], o[1], v)
	}
	for _, o := range []struct{ opt, def int }{{unix.SO_SNDBUF, defaultSndbuf}, {unix.SO_RCVBUF, defaultRcvbuf}} {
		v, err := unix.GetsockoptInt(from, unix.SOL_SOCKET, o.opt)
		if err != nil || v == o.def {
			continue
		}
		if cur, err := unix.GetsockoptInt(to, unix.SOL_SOCKET, o.opt); err == nil && cur == v {
			continue
		}
		unix.SetsockoptInt(to, unix.SOL_SOCKET, o.opt, v/2) // the kernel doubles what is set
	}
	for _, opt := range []int{unix.SO_SNDTIMEO, unix.SO_RCVTIMEO} {
		if tv, err := unix.GetsockoptTimeval(from, unix.SOL_SOCKET, opt); err == nil && (tv.Sec != 0 || tv.Usec != 0) {
			unix.SetsockoptTimeval(to, unix.SOL_SOCKET, opt, tv)
		}
	}
	if l, err := unix.GetsockoptLinger(from, unix.SOL_SOCKET, unix.SO_LINGER); err == nil && l.Onoff != 0 {
		unix.SetsockoptLinger(to, unix.SOL_SOCKET, unix.SO_LINGER, l)
	}
}

func sndTimeout(fd int) time.Duration {
	tv, err := unix.GetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO)
	if err != nil {
		return 0
	}
	return time.Duration(tv.Nano())
}

var (
	errGone    = errors.New("notification no longer valid")
	errTimeout = errors.New("timeout")
)

// waitConnect waits for the non-blocking connect on hfd to finish. It returns
// (nil, nil) on success, (errno, nil) when the connect failed, errGone when the
// container thread stopped waiting (signal, death), and errTimeout/ctx.Err().
func waitConnect(ctx context.Context, nfd int, id uint64, hfd int, timeout time.Duration) (error, error) {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	const slice = 250 * time.Millisecond
	for {
		wait := slice
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return nil, errTimeout
			}
			wait = min(wait, left)
		}
		pfd := []unix.PollFd{{Fd: int32(hfd), Events: unix.POLLOUT}}
		nr, err := unix.Poll(pfd, int(wait/time.Millisecond)+1)
		if err != nil && err != unix.EINTR {
			return nil, err
		}
		if nr > 0 && pfd[0].Revents != 0 {
			soerr, err := unix.GetsockoptInt(hfd, unix.SOL_SOCKET, unix.SO_ERROR)
			if err != nil {
				return nil, err
			}
			if soerr != 0 {
				return unix.Errno(soerr), nil
			}
			return nil, nil
		}
		if !notifIDValid(nfd, id) {
			return nil, errGone
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
}
