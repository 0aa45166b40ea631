package portfwd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Proto is the transport protocol of a published port.
type Proto string

// The protocols a port can be published for.
const (
	TCP Proto = "tcp"
	UDP Proto = "udp"
)

// Socket creates a socket inside the infra network namespace: domain is
// unix.AF_INET or unix.AF_INET6, typ unix.SOCK_STREAM or unix.SOCK_DGRAM.
// It returns a non-blocking, close-on-exec file descriptor, which the
// caller of Socket then owns.
type Socket func(domain, typ int) (int, error)

// Mapping describes one published port.
type Mapping struct {
	// Proto is TCP or UDP.
	Proto Proto
	// HostIP is the address to listen on. The zero Addr and 0.0.0.0 mean
	// every IPv4 and IPv6 address of the host, as docker does for 0.0.0.0
	// (one dual-stack socket; IPv4 alone when the host has no IPv6); "::"
	// means every IPv6 address only.
	HostIP netip.Addr
	// HostPort is the port to listen on; 0 picks a free ephemeral port,
	// which Listener.HostPort reports.
	HostPort uint16
	// Target is the container's address (normally IPv4) and port.
	Target netip.AddrPort
	// Target6 is the container's IPv6 address and port, where IPv6 clients
	// are sent. When it is the zero value they go to Target too.
	Target6 netip.AddrPort
	// Source maps a client to the source address the container sees. It
	// gets the client (unmapped: IPv4 clients as 4-byte addresses) and the
	// target chosen for it, and returns an address of the target's family;
	// port 0 means any port. Typically it returns the client itself,
	// except for loopback clients and family mismatches, which become the
	// network's gateway. If it is nil, the client is used when its family
	// matches the target's, and otherwise the kernel picks the source.
	// It is called concurrently.
	Source func(client, target netip.AddrPort) netip.AddrPort
}

// Tunables, read by Listen: changing them affects later listeners only.
var (
	// DialTimeout bounds the connection to the container made for each
	// accepted TCP connection.
	DialTimeout = 10 * time.Second
	// UDPIdleTimeout is how long a UDP session lives without a datagram in
	// either direction.
	UDPIdleTimeout = 60 * time.Second
	// MaxUDPSessions caps the UDP sessions of one listener; datagrams from
	// further clients are dropped until a session expires.
	MaxUDPSessions = 4096
)

// ErrPortInUse is matched (errors.Is) by the error of a Listen whose host
// port is taken. Its text is docker's.
var ErrPortInUse = errors.New("port is already allocated")

// BindError is the error of a Listen that could not bind the host port.
// Its message is docker's: "Bind for 0.0.0.0:8080 failed: port is already
// allocated". It matches ErrPortInUse when the port is taken, and unwraps
// to the system call's error (errors.Is(err, unix.EADDRINUSE) holds).
type BindError struct {
	Proto Proto
	// Addr is the address that could not be bound; 0.0.0.0 stands for all
	// addresses, as in docker's message.
	Addr netip.AddrPort
	Err  error
}

// Error returns docker's message for the failure.
func (e *BindError) Error() string {
	var msg string
	var errno syscall.Errno
	switch {
	case errors.Is(e.Err, unix.EADDRINUSE):
		msg = ErrPortInUse.Error()
	case errors.Is(e.Err, unix.EACCES):
		msg = "permission denied (an unprivileged user can only bind ports from net.ipv4.ip_unprivileged_port_start up)"
	case errors.As(e.Err, &errno):
		msg = errno.Error()
	default:
		msg = e.Err.Error()
	}
	return fmt.Sprintf("Bind for %s failed: %s", e.Addr, msg)
}

// Unwrap returns the underlying error.
func (e *BindError) Unwrap() error { return e.Err }

// Is reports whether the error matches target: ErrPortInUse when the
// address was in use.
func (e *BindError) Is(target error) bool {
	return target == ErrPortInUse && errors.Is(e.Err, unix.EADDRINUSE)
}

// Listener is one published port: its host socket and the connections and
// UDP sessions forwarded through it. Its methods are safe for concurrent
// use; Close must not be called from the mapping's Source function.
type Listener struct {
	proto   Proto
	target  netip.AddrPort
	target6 netip.AddrPort
	source  func(client, target netip.AddrPort) netip.AddrPort
	sock    Socket
	port    uint16

	dialTimeout time.Duration
	idle        time.Duration
	maxSessions int

	tcp *net.TCPListener
	udp *net.UDPConn
	// pktinfo is the family (unix.AF_INET or AF_INET6) of the packet-info
	// control messages the UDP socket receives; 0 when it is bound to one
	// address and needs none.
	pktinfo int

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	conns    map[*tcpConn]struct{}
	sessions map[netip.AddrPort]*session

	// loopErrors counts failed accept/read calls of the host socket that
	// were retried (tests).
	loopErrors atomic.Int64

	closeOnce sync.Once
	closeErr  error
}

// Listen validates m and binds its host port now; the error says when the
// port is taken (see BindError). Forwarding starts at once, with sock
// making the container-side sockets.
func Listen(m Mapping, sock Socket) (*Listener, error) {
	if sock == nil {
		return nil, errors.New("portfwd: no Socket function")
	}
	if m.Proto != TCP && m.Proto != UDP {
		return nil, fmt.Errorf("portfwd: unsupported protocol %q", m.Proto)
	}
	target := unmapAP(m.Target)
	if !target.Addr().IsValid() || target.Port() == 0 {
		return nil, fmt.Errorf("portfwd: invalid target %s", m.Target)
	}
	target6 := m.Target6
	if target6.IsValid() {
		if !target6.Addr().Is6() || target6.Addr().Is4In6() || target6.Port() == 0 {
			return nil, fmt.Errorf("portfwd: invalid IPv6 target %s", m.Target6)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Listener{
		proto:       m.Proto,
		target:      target,
		target6:     target6,
		source:      m.Source,
		sock:        sock,
		dialTimeout: DialTimeout,
		idle:        UDPIdleTimeout,
		maxSessions: MaxUDPSessions,
		ctx:         ctx,
		cancel:      cancel,
		conns:       make(map[*tcpConn]struct{}),
		sessions:    make(map[netip.AddrPort]*session),
	}
	if err := l.bind(m.HostIP, m.HostPort); err != nil {
		cancel()
		return nil, err
	}
	l.wg.Add(1)
	if l.tcp != nil {
		go l.acceptLoop()
	} else {
		go l.udpLoop()
	}
	return l, nil
}

// bind opens the host socket. An unspecified IPv4 host address (or none)
// gets one dual-stack socket: Go binds [::] with IPV6_V6ONLY off when the
// host supports it and 0.0.0.0 otherwise, so there is never a half-bound
// pair to undo.
func (l *Listener) bind(hostIP netip.Addr, port uint16) error {
	var laddr netip.AddrPort
	network := string(l.proto)
	shown := netip.AddrPortFrom(netip.IPv4Unspecified(), port)
	wildcard := true
	switch ip := hostIP.Unmap(); {
	case !ip.IsValid() || ip == netip.IPv4Unspecified():
		// dual stack: network "tcp"/"udp" with no address
	case ip.Is4():
		network += "4"
		laddr = netip.AddrPortFrom(ip, port)
		shown, wildcard = laddr, false
	default:
		network += "6"
		laddr = netip.AddrPortFrom(ip, port)
		shown, wildcard = laddr, ip.IsUnspecified()
	}
	var err error
	if l.proto == TCP {
		a := &net.TCPAddr{Port: int(port)}
		if laddr.IsValid() {
			a = net.TCPAddrFromAddrPort(laddr)
		}
		l.tcp, err = net.ListenTCP(network, a)
		if err == nil {
			l.port = uint16(l.tcp.Addr().(*net.TCPAddr).Port)
		}
	} else {
		a := &net.UDPAddr{Port: int(port)}
		if laddr.IsValid() {
			a = net.UDPAddrFromAddrPort(laddr)
		}
		l.udp, err = net.ListenUDP(network, a)
		if err == nil {
			l.port = uint16(l.udp.LocalAddr().(*net.UDPAddr).Port)
			if wildcard {
				l.enablePktinfo()
			}
		}
	}
	if err != nil {
		return &BindError{Proto: l.proto, Addr: shown, Err: err}
	}
	return nil
}

// HostPort returns the host port listened on (the chosen one when the
// mapping asked for port 0).
func (l *Listener) HostPort() uint16 { return l.port }

// Close stops listening, releasing the host port at once, and closes every
// forwarded connection and UDP session. It waits for all of the listener's
// goroutines to end. Later calls return the first call's result.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		var conns []*net.TCPConn
		for c := range l.conns {
			conns = append(conns, c.client)
			if c.target != nil {
				conns = append(conns, c.target)
			}
		}
		var sessions []*session
		for _, s := range l.sessions {
			sessions = append(sessions, s)
		}
		l.mu.Unlock()

		l.cancel()
		if l.tcp != nil {
			l.closeErr = l.tcp.Close()
		} else {
			l.closeErr = l.udp.Close()
		}
		for _, c := range conns {
			c.Close()
		}
		for _, s := range sessions {
			s.conn.Close()
		}
		l.wg.Wait()
	})
	return l.closeErr
}

// Active returns the number of forwarded TCP connections (from accept to
// the close of both sides) plus live UDP sessions.
func (l *Listener) Active() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns) + len(l.sessions)
}

// route returns the target for a client and the source the container sees.
func (l *Listener) route(client netip.AddrPort) (src, dst netip.AddrPort) {
	dst = l.target
	if !client.Addr().Is4() && l.target6.IsValid() {
		dst = l.target6
	}
	if l.source != nil {
		return l.source(client, dst), dst
	}
	if client.Addr().Is4() == dst.Addr().Is4() {
		return client, dst
	}
	return netip.AddrPort{}, dst
}

// dial connects to the container for a client. A source port that is
// unavailable (the port kept from a client collides with another
// forwarded flow, or a TIME_WAIT one) falls back to an ephemeral port:
// the container then sees the right address with another port rather
// than nothing at all.
func (l *Listener) dial(client netip.AddrPort) (net.Conn, error) {
	src, dst := l.route(client)
	ctx, cancel := context.WithTimeout(l.ctx, l.dialTimeout)
	defer cancel()
	c, err := DialTransparent(ctx, l.sock, l.proto, src, dst)
	if err != nil && src.Port() != 0 && (errors.Is(err, unix.EADDRINUSE) || errors.Is(err, unix.EADDRNOTAVAIL)) {
		c, err = DialTransparent(ctx, l.sock, l.proto, netip.AddrPortFrom(src.Addr(), 0), dst)
	}
	return c, err
}

// backoff returns the next pause after a failed accept or read, as
// net/http does for its accept loop: 5ms doubling up to 1s.
func backoff(d time.Duration) time.Duration {
	if d == 0 {
		return 5 * time.Millisecond
	}
	return min(2*d, time.Second)
}

// pause sleeps for d unless the listener closes first; it reports whether
// the listener is still open.
func (l *Listener) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-l.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func unmapAP(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
