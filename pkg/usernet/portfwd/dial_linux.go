package portfwd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// DialTransparent makes a socket with sock, marks it IP_TRANSPARENT
// (IPV6_TRANSPARENT for IPv6), binds it to src (port 0: any port) and
// connects it to dst, waiting for a TCP handshake to complete (ctx bounds
// the wait). It returns a *net.TCPConn for TCP and a *net.UDPConn for UDP.
//
// The transparent flag is what allows binding an address that is not
// local to the socket's network namespace; it needs CAP_NET_ADMIN over
// that namespace. If setting it fails, the bind is tried anyway: it works
// for local addresses (so an unprivileged process can still pass a local
// src, as the tests do) and fails with EADDRNOTAVAIL for foreign ones, in
// which case the error mentions both failures.
//
// A zero src (invalid address) leaves the choice of source to the kernel.
// src and dst must have the same address family (IPv4-mapped IPv6
// addresses count as IPv4). Errors are *net.OpError values wrapping the
// failed system call, so errors.Is(err, unix.ECONNREFUSED) and the like
// work.
func DialTransparent(ctx context.Context, sock Socket, proto Proto, src, dst netip.AddrPort) (net.Conn, error) {
	src, dst = unmapAP(src), unmapAP(dst)
	opErr := func(err error) error {
		e := &net.OpError{Op: "dial", Net: string(proto), Err: err}
		if src.IsValid() {
			e.Source = opAddr(proto, src)
		}
		if dst.IsValid() {
			e.Addr = opAddr(proto, dst)
		}
		return e
	}
	var typ int
	switch proto {
	case TCP:
		typ = unix.SOCK_STREAM
	case UDP:
		typ = unix.SOCK_DGRAM
	default:
		return nil, opErr(fmt.Errorf("unsupported protocol %q", proto))
	}
	if !dst.IsValid() || dst.Port() == 0 {
		return nil, opErr(errors.New("invalid destination"))
	}
	if err := ctx.Err(); err != nil {
		return nil, opErr(err)
	}
	domain := unix.AF_INET
	if dst.Addr().Is6() {
		domain = unix.AF_INET6
	}
	if src.IsValid() && src.Addr().Is4() != dst.Addr().Is4() {
		return nil, opErr(errors.New("source and destination address families differ"))
	}

	fd, err := sock(domain, typ)
	if err != nil {
		return nil, opErr(fmt.Errorf("creating socket: %w", err))
	}
	if fd < 0 {
		return nil, opErr(errors.New("creating socket: invalid descriptor"))
	}
	// The descriptor must be non-blocking to be waited on by the runtime
	// poller; Socket promises that, but a blocking one would hang a thread.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, opErr(os.NewSyscallError("fcntl", err))
	}
	// f owns fd from here on; net.FileConn below works on a duplicate.
	f := os.NewFile(uintptr(fd), "portfwd")
	defer f.Close()

	if src.IsValid() {
		if err := bindTransparent(fd, domain, typ, src); err != nil {
			return nil, opErr(err)
		}
	}
	switch err := unix.Connect(fd, sockaddr(dst)); {
	case err == nil:
	case errors.Is(err, unix.EINPROGRESS):
		if err := waitConnected(ctx, f); err != nil {
			return nil, opErr(err)
		}
	default:
		return nil, opErr(os.NewSyscallError("connect", err))
	}
	c, err := net.FileConn(f)
	if err != nil {
		return nil, opErr(err)
	}
	return c, nil
}

// bindTransparent sets the transparent flag (tolerating failure, see
// DialTransparent) and binds fd to src.
func bindTransparent(fd, domain, typ int, src netip.AddrPort) error {
	var terr error
	if domain == unix.AF_INET {
		terr = unix.SetsockoptInt(fd, unix.SOL_IP, unix.IP_TRANSPARENT, 1)
	} else {
		terr = unix.SetsockoptInt(fd, unix.SOL_IPV6, unix.IPV6_TRANSPARENT, 1)
	}
	if typ == unix.SOCK_STREAM {
		if src.Port() != 0 {
			// Lets the exact port be reused while an earlier connection
			// with it lingers in TIME_WAIT; connect still refuses a
			// duplicate 4-tuple (EADDRNOTAVAIL). Not for UDP, where two
			// sockets with the same 4-tuple would share the traffic.
			_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		} else {
			// Defer picking the port to connect, which can then share it
			// among connections to different destinations: many clients
			// shown as one address (the gateway) do not exhaust ports.
			_ = unix.SetsockoptInt(fd, unix.SOL_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
		}
	}
	if err := unix.Bind(fd, sockaddr(src)); err != nil {
		err = os.NewSyscallError("bind", err)
		if terr != nil {
			opt := "IP_TRANSPARENT"
			if domain == unix.AF_INET6 {
				opt = "IPV6_TRANSPARENT"
			}
			return fmt.Errorf("%w (setting %s failed: %v)", err, opt, terr)
		}
		return err
	}
	return nil
}

// waitConnected waits for a non-blocking connect in progress on f to end,
// through the runtime poller, until ctx ends.
func waitConnected(ctx context.Context, f *os.File) error {
	if dl, ok := ctx.Deadline(); ok {
		if err := f.SetWriteDeadline(dl); err != nil {
			return err
		}
	}
	stop := context.AfterFunc(ctx, func() { f.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var cerr error
	err = rc.Write(func(fd uintptr) bool {
		v, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
		switch {
		case err != nil:
			cerr = os.NewSyscallError("getsockopt", err)
			return true
		case v != 0:
			cerr = os.NewSyscallError("connect", unix.Errno(v))
			return true
		}
		// No error yet: connected, or still in progress (the poller may
		// wake us early, as the net package notes).
		_, err = unix.Getpeername(int(fd))
		return err == nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("connect: %w", ctx.Err())
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// The poller's deadline (ctx's) fired before ctx's own timer.
			return fmt.Errorf("connect: %w", context.DeadlineExceeded)
		}
		return fmt.Errorf("connect: %w", err)
	}
	return cerr
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if ap.Addr().Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
}

func opAddr(proto Proto, ap netip.AddrPort) net.Addr {
	if proto == UDP {
		return net.UDPAddrFromAddrPort(ap)
	}
	return net.TCPAddrFromAddrPort(ap)
}
