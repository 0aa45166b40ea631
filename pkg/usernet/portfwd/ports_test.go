//go:build linux

package portfwd

// A small conformance suite in the spirit of rootlesskit's
// pkg/port/testsuite: run(t, proto, family) checks one protocol and
// address family. The tests make "container" sockets in the current
// network namespace (localSocket) and use loopback addresses, which need
// no transparency, so they run unprivileged; as root, a subtest also runs
// the real thing in a fresh network namespace with foreign source
// addresses.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// localSocket is a Socket in the current network namespace.
func localSocket(domain, typ int) (int, error) {
	return unix.Socket(domain, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
}

var (
	lo4     = netip.MustParseAddr("127.0.0.1")
	lo4b    = netip.MustParseAddr("127.0.0.2") // also local: 127.0.0.0/8 is
	lo6     = netip.IPv6Loopback()
	foreign = map[int]netip.Addr{4: netip.MustParseAddr("203.0.113.7"), 6: netip.MustParseAddr("2001:db8::7")}
)

func loopback(fam int) netip.Addr {
	if fam == 6 {
		return lo6
	}
	return lo4
}

func familyOf(a netip.Addr) int {
	if a.Unmap().Is4() {
		return 4
	}
	return 6
}

// asIs is the tests' Source: the client itself when the families match,
// else the target family's loopback address (standing in for the gateway).
func asIs(client, target netip.AddrPort) netip.AddrPort {
	if client.Addr().Is4() != target.Addr().Is4() {
		return netip.AddrPortFrom(loopback(familyOf(target.Addr())), 0)
	}
	return client
}

var ipv6Once = sync.OnceValue(func() error {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err == nil {
		ln.Close()
	}
	return err
})

func requireIPv6(t *testing.T) {
	t.Helper()
	if err := ipv6Once(); err != nil {
		t.Skipf("skipping IPv6: the host has no usable ::1 (%v)", err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func listen(t *testing.T, m Mapping, sock Socket) *Listener {
	t.Helper()
	l, err := Listen(m, sock)
	if err != nil {
		t.Fatalf("Listen(%+v): %v", m, err)
	}
	t.Cleanup(func() { l.Close() })
	if l.HostPort() == 0 {
		t.Fatal("HostPort() = 0")
	}
	return l
}

// ---- target servers ----
//
// The TCP target writes the peer address it sees as a first line, then
// echoes until EOF and closes. The UDP target answers every datagram with
// "<peer>|<payload>".

type target struct {
	addr  netip.AddrPort
	close func()
}

func startTarget(t *testing.T, proto Proto, ip netip.Addr) *target {
	t.Helper()
	if proto == TCP {
		ln, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
		if err != nil {
			t.Fatal(err)
		}
		return serveTarget(t, ln, nil)
	}
	pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		t.Fatal(err)
	}
	return serveTarget(t, nil, pc)
}

func serveTarget(t *testing.T, ln *net.TCPListener, pc *net.UDPConn) *target {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
		srv   = &target{}
	)
	wg.Add(1)
	if ln != nil {
		srv.addr = ln.Addr().(*net.TCPAddr).AddrPort()
		go func() {
			defer wg.Done()
			for {
				c, err := ln.AcceptTCP()
				if errors.Is(err, net.ErrClosed) {
					return
				}
				if err != nil { // EMFILE (TestAcceptSurvivesEMFILE)
					time.Sleep(5 * time.Millisecond)
					continue
				}
				mu.Lock()
				conns[c] = true
				mu.Unlock()
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() {
						mu.Lock()
						delete(conns, c)
						mu.Unlock()
						c.Close()
					}()
					fmt.Fprintf(c, "%s\n", c.RemoteAddr())
					buf := make([]byte, 32<<10)
					for {
						n, err := c.Read(buf)
						if n > 0 {
							if _, err := c.Write(buf[:n]); err != nil {
								return
							}
						}
						if err != nil {
							return
						}
					}
				}()
			}
		}()
	} else {
		srv.addr = pc.LocalAddr().(*net.UDPAddr).AddrPort()
		go func() {
			defer wg.Done()
			buf := make([]byte, maxDatagram)
			for {
				n, from, err := pc.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				reply := append([]byte(from.String()+"|"), buf[:n]...)
				pc.WriteToUDPAddrPort(reply, from)
			}
		}()
	}
	srv.close = sync.OnceFunc(func() {
		if ln != nil {
			ln.Close()
		} else {
			pc.Close()
		}
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	t.Cleanup(srv.close)
	return srv
}

// ---- clients ----

// client is a connection to a published port.
type client struct {
	proto Proto
	conn  net.Conn
	seen  netip.AddrPort // TCP: the source the target saw
	rd    *bufio.Reader
}

func dial(t *testing.T, proto Proto, host netip.AddrPort) *client {
	t.Helper()
	c, err := net.DialTimeout(string(proto), host.String(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s %s: %v", proto, host, err)
	}
	t.Cleanup(func() { c.Close() })
	cl := &client{proto: proto, conn: c}
	if proto == TCP {
		cl.rd = bufio.NewReader(c)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := cl.rd.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the target's greeting through %s: %v", host, err)
		}
		c.SetReadDeadline(time.Time{})
		cl.seen = netip.MustParseAddrPort(strings.TrimSpace(line))
	}
	return cl
}

func (c *client) local() netip.AddrPort {
	switch a := c.conn.LocalAddr().(type) {
	case *net.TCPAddr:
		return unmapAP(a.AddrPort())
	case *net.UDPAddr:
		return unmapAP(a.AddrPort())
	}
	panic("unreachable")
}

// exchange sends msg and returns the echo and the source the target saw.
func (c *client) exchange(msg string, timeout time.Duration) (string, netip.AddrPort, error) {
	if _, err := c.conn.Write([]byte(msg)); err != nil {
		return "", netip.AddrPort{}, err
	}
	c.conn.SetReadDeadline(time.Now().Add(timeout))
	defer c.conn.SetReadDeadline(time.Time{})
	if c.proto == TCP {
		buf := make([]byte, len(msg))
		_, err := io.ReadFull(c.rd, buf)
		return string(buf), c.seen, err
	}
	buf := make([]byte, maxDatagram)
	n, err := c.conn.Read(buf)
	if err != nil {
		return "", netip.AddrPort{}, err
	}
	peer, payload, ok := strings.Cut(string(buf[:n]), "|")
	if !ok {
		return "", netip.AddrPort{}, fmt.Errorf("bad reply %q", buf[:n])
	}
	seen, err := netip.ParseAddrPort(peer)
	return payload, unmapAP(seen), err
}

func (c *client) mustExchange(t *testing.T, msg string) netip.AddrPort {
	t.Helper()
	got, seen, err := c.exchange(msg, 5*time.Second)
	if err != nil {
		t.Fatalf("exchange %q: %v", msg, err)
	}
	if got != msg {
		t.Fatalf("echo = %q, want %q", got, msg)
	}
	return seen
}

// ---- the suite ----

func TestPorts(t *testing.T) {
	for _, proto := range []Proto{TCP, UDP} {
		for _, fam := range []int{4, 6} {
			t.Run(fmt.Sprintf("%s%d", proto, fam), func(t *testing.T) { run(t, proto, fam) })
		}
	}
}

func run(t *testing.T, proto Proto, fam int) {
	if fam == 6 {
		requireIPv6(t)
	}
	lo := loopback(fam)

	// targets returns a mapping to fresh target servers: Target on
	// 127.0.0.1 and, for IPv6, Target6 on ::1.
	targets := func(t *testing.T) Mapping {
		m := Mapping{Proto: proto, Target: startTarget(t, proto, lo4).addr, Source: asIs}
		if fam == 6 {
			m.Target6 = startTarget(t, proto, lo6).addr
		}
		return m
	}

	t.Run("Echo", func(t *testing.T) {
		m := targets(t)
		m.HostIP = lo
		l := listen(t, m, localSocket)
		host := netip.AddrPortFrom(lo, l.HostPort())
		c := dial(t, proto, host)
		for i := range 3 {
			// The target of the client's family was reached, from the
			// client's address (its port is taken by the client itself
			// here, so the forwarder fell back to another).
			if seen := c.mustExchange(t, fmt.Sprintf("hello %d", i)); seen.Addr() != lo {
				t.Fatalf("target saw %s, want %s", seen, lo)
			}
		}
		if proto == TCP {
			echoBulk(t, c.conn.(*net.TCPConn), c.rd)
			waitFor(t, "Active() == 0", func() bool { return l.Active() == 0 })
		} else if n := l.Active(); n != 1 {
			t.Fatalf("Active() = %d, want 1 session", n)
		}
	})

	t.Run("AllAddresses", func(t *testing.T) {
		m := targets(t)
		l := listen(t, m, localSocket)
		dsts := []netip.Addr{lo}
		if fam == 4 {
			// Another local address: UDP replies must come from the
			// address the client wrote to (IP_PKTINFO), else the client's
			// connected socket drops them.
			dsts = append(dsts, lo4b)
		}
		for _, dst := range dsts {
			c := dial(t, proto, netip.AddrPortFrom(dst, l.HostPort()))
			if seen := c.mustExchange(t, "all "+dst.String()); familyOf(seen.Addr()) != fam {
				t.Fatalf("target saw %s, want an IPv%d source", seen, fam)
			}
		}
	})

	if fam == 6 {
		t.Run("IPv6Only", func(t *testing.T) {
			m := targets(t)
			m.HostIP = netip.IPv6Unspecified()
			l := listen(t, m, localSocket)
			dial(t, proto, netip.AddrPortFrom(lo6, l.HostPort())).mustExchange(t, "v6")
			v4 := netip.AddrPortFrom(lo4, l.HostPort())
			if proto == TCP {
				if c, err := net.DialTimeout("tcp", v4.String(), time.Second); err == nil {
					c.Close()
					t.Fatalf("[::] listener accepted an IPv4 client")
				}
			} else if _, _, err := dial(t, proto, v4).exchange("v4", 200*time.Millisecond); err == nil {
				t.Fatalf("[::] listener answered an IPv4 client")
			}
		})
	}

	t.Run("Source", func(t *testing.T) {
		m := targets(t)
		var mu sync.Mutex
		var gotClient, gotTarget netip.AddrPort
		m.Source = func(client, target netip.AddrPort) netip.AddrPort {
			mu.Lock()
			gotClient, gotTarget = client, target
			mu.Unlock()
			if fam == 4 {
				return netip.AddrPortFrom(lo4b, client.Port()) // keep the port
			}
			return netip.AddrPortFrom(lo6, 0) // IPv6 has no second loopback address
		}
		// All addresses: IPv4 clients reach a dual-stack socket as
		// IPv4-mapped addresses, and Source must get them unmapped.
		l := listen(t, m, localSocket)
		c := dial(t, proto, netip.AddrPortFrom(lo, l.HostPort()))
		seen := c.mustExchange(t, "who am I")
		mu.Lock()
		defer mu.Unlock()
		if gotClient != c.local() {
			t.Errorf("Source got client %s, want %s", gotClient, c.local())
		}
		if want := map[int]netip.AddrPort{4: m.Target, 6: m.Target6}[fam]; gotTarget != want {
			t.Errorf("Source got target %s, want %s", gotTarget, want)
		}
		want := netip.AddrPortFrom(lo6, seen.Port())
		if fam == 4 {
			want = netip.AddrPortFrom(lo4b, c.local().Port())
		}
		if seen != want {
			t.Errorf("target saw %s, want %s", seen, want)
		}
	})

	if fam == 6 {
		t.Run("FamilyMismatch", func(t *testing.T) {
			// No IPv6 target: IPv6 clients go to the IPv4 one.
			srv := startTarget(t, proto, lo4)
			for _, source := range []func(client, target netip.AddrPort) netip.AddrPort{asIs, nil} {
				l := listen(t, Mapping{Proto: proto, HostIP: lo6, Target: srv.addr, Source: source}, localSocket)
				c := dial(t, proto, netip.AddrPortFrom(lo6, l.HostPort()))
				if seen := c.mustExchange(t, "mismatch"); seen.Addr() != lo4 {
					t.Fatalf("target saw %s, want %s", seen, lo4)
				}
			}
		})
	}

	t.Run("PortInUse", func(t *testing.T) {
		m := targets(t)
		blocker := bindPlain(t, proto, netip.AddrPortFrom(lo, 0))
		port := blocker.port
		for _, hostIP := range []netip.Addr{lo, {}} {
			m.HostIP, m.HostPort = hostIP, port
			l, err := Listen(m, localSocket)
			if err == nil {
				l.Close()
				t.Fatalf("Listen on %s port %d succeeded while the port is taken", hostIP, port)
			}
			if !errors.Is(err, ErrPortInUse) || !errors.Is(err, unix.EADDRINUSE) {
				t.Fatalf("error %v: want ErrPortInUse and EADDRINUSE", err)
			}
			var be *BindError
			if !errors.As(err, &be) || be.Proto != proto {
				t.Fatalf("error %#v is not a *BindError for %s", err, proto)
			}
			shown := netip.AddrPortFrom(netip.IPv4Unspecified(), port)
			if hostIP.IsValid() {
				shown = netip.AddrPortFrom(hostIP, port)
			}
			if want := fmt.Sprintf("Bind for %s failed: port is already allocated", shown); err.Error() != want {
				t.Fatalf("error %q, want %q", err, want)
			}
		}
		// Nothing was left bound by the failed all-addresses Listen: the
		// other family's loopback address is free.
		other := 6
		if fam == 6 {
			other = 4
		}
		if other == 4 || ipv6Once() == nil {
			bindPlain(t, proto, netip.AddrPortFrom(loopback(other), port)).close()
		}
		blocker.close()
		// And the port is usable once released.
		m.HostIP = netip.Addr{}
		l := listen(t, m, localSocket)
		dial(t, proto, netip.AddrPortFrom(lo, l.HostPort())).mustExchange(t, "free now")
	})

	t.Run("CloseReleasesPort", func(t *testing.T) {
		m := targets(t)
		l := listen(t, m, localSocket)
		port := l.HostPort()
		c := dial(t, proto, netip.AddrPortFrom(lo, port))
		c.mustExchange(t, "before close")
		if n := l.Active(); n != 1 {
			t.Fatalf("Active() = %d, want 1", n)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if n := l.Active(); n != 0 {
			t.Fatalf("Active() after Close = %d, want 0", n)
		}
		if proto == TCP {
			// The active connection was closed too.
			c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.rd.ReadByte(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("client read after Close: %v, want EOF or reset", err)
			}
		}
		// The same port at once: nothing lingers.
		m.HostPort = port
		l2 := listen(t, m, localSocket)
		if l2.HostPort() != port {
			t.Fatalf("HostPort() = %d, want %d", l2.HostPort(), port)
		}
		dial(t, proto, netip.AddrPortFrom(lo, port)).mustExchange(t, "after close")
	})

	if proto == TCP {
		t.Run("ShortLivedClients", func(t *testing.T) {
			m := targets(t)
			m.HostIP = lo
			l := listen(t, m, localSocket)
			host := netip.AddrPortFrom(lo, l.HostPort())
			for i := range 50 {
				c, err := net.DialTimeout("tcp", host.String(), 5*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				switch i % 3 {
				case 0:
					c.(*net.TCPConn).SetLinger(0) // reset
				case 1:
					c.Write([]byte("x")) // data, then FIN
				}
				c.Close()
			}
			waitFor(t, "Active() == 0 after short-lived clients", func() bool { return l.Active() == 0 })
		})

		t.Run("Concurrent", func(t *testing.T) { concurrent(t, fam) })
	}

	t.Run("TargetDown", func(t *testing.T) {
		dead := bindPlain(t, proto, netip.AddrPortFrom(lo, 0))
		dead.close()
		m := Mapping{Proto: proto, HostIP: lo, Target: dead.addr, Source: asIs}
		if fam == 6 {
			m.Target6 = dead.addr
			m.Target = startTarget(t, proto, lo4).addr // not used by IPv6 clients
		}
		l := listen(t, m, localSocket)
		host := netip.AddrPortFrom(lo, l.HostPort())
		if proto == TCP {
			// The client is accepted, then reset (which may come before
			// the dialer has noticed its connection is established).
			c, err := net.DialTimeout("tcp", host.String(), 5*time.Second)
			if errors.Is(err, unix.ECONNRESET) {
				waitFor(t, "Active() == 0", func() bool { return l.Active() == 0 })
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("read from a forward to a closed port: %v, want EOF or reset", err)
			}
			waitFor(t, "Active() == 0", func() bool { return l.Active() == 0 })
			return
		}
		// UDP: the session survives the ICMP errors and works once the
		// container listens.
		c := dial(t, proto, host)
		if _, _, err := c.exchange("nobody", 200*time.Millisecond); err == nil {
			t.Fatal("reply from a closed port")
		}
		pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(dead.addr))
		if err != nil {
			t.Skipf("cannot rebind %s: %v", dead.addr, err)
		}
		serveTarget(t, nil, pc)
		c.mustExchange(t, "somebody")
		if n := l.Active(); n != 1 {
			t.Fatalf("Active() = %d, want the same single session", n)
		}
	})

	if proto == UDP {
		t.Run("SessionExpiry", func(t *testing.T) {
			setTunable(t, &UDPIdleTimeout, 300*time.Millisecond)
			m := targets(t)
			m.HostIP = lo
			l := listen(t, m, localSocket)
			c := dial(t, proto, netip.AddrPortFrom(lo, l.HostPort()))
			first := c.mustExchange(t, "0")
			// Traffic keeps the session (and its source port) alive.
			for i := range 6 {
				time.Sleep(100 * time.Millisecond)
				if seen := c.mustExchange(t, fmt.Sprint(i+1)); seen != first {
					t.Fatalf("datagram %d went through a new session (%s, first %s)", i+1, seen, first)
				}
				if n := l.Active(); n != 1 {
					t.Fatalf("Active() = %d, want 1", n)
				}
			}
			start := time.Now()
			waitFor(t, "the idle session to expire", func() bool { return l.Active() == 0 })
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("session expired after %v, timeout 300ms", d)
			}
			c.mustExchange(t, "again")
			if n := l.Active(); n != 1 {
				t.Fatalf("Active() = %d, want a new session", n)
			}
		})

		t.Run("SessionCap", func(t *testing.T) {
			setTunable(t, &MaxUDPSessions, 2)
			m := targets(t)
			m.HostIP = lo
			l := listen(t, m, localSocket)
			host := netip.AddrPortFrom(lo, l.HostPort())
			dial(t, proto, host).mustExchange(t, "one")
			dial(t, proto, host).mustExchange(t, "two")
			if _, _, err := dial(t, proto, host).exchange("three", 300*time.Millisecond); err == nil {
				t.Fatal("a third session was made beyond MaxUDPSessions = 2")
			}
			if n := l.Active(); n != 2 {
				t.Fatalf("Active() = %d, want 2", n)
			}
		})
	}

	t.Run("Transparent", func(t *testing.T) { transparent(t, proto, fam) })
}

func setTunable[T any](t *testing.T, p *T, v T) {
	old := *p
	*p = v
	t.Cleanup(func() { *p = old })
}

// echoBulk sends 1 MiB each way at once, half-closes and expects the
// whole echo, then EOF: FINs cross the forwarder in both directions.
func echoBulk(t *testing.T, c *net.TCPConn, rd *bufio.Reader) {
	t.Helper()
	data := make([]byte, 1<<20)
	rand.Read(data)
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(data)
		if err == nil {
			err = c.CloseWrite()
		}
		werr <- err
	}()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(rd)
	if err != nil {
		t.Fatalf("reading the echo: %v", err)
	}
	if err := <-werr; err != nil {
		t.Fatalf("writing: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("echo of %d bytes differs (got %d bytes)", len(data), len(got))
	}
}

// plain is a socket bound outside the package, to take a port.
type plain struct {
	addr  netip.AddrPort
	port  uint16
	close func()
}

func bindPlain(t *testing.T, proto Proto, a netip.AddrPort) *plain {
	t.Helper()
	var c io.Closer
	var addr netip.AddrPort
	if proto == TCP {
		ln, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(a))
		if err != nil {
			t.Fatalf("binding %s: %v", a, err)
		}
		c, addr = ln, ln.Addr().(*net.TCPAddr).AddrPort()
	} else {
		pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(a))
		if err != nil {
			t.Fatalf("binding %s: %v", a, err)
		}
		c, addr = pc, pc.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	p := &plain{addr: addr, port: addr.Port(), close: sync.OnceFunc(func() { c.Close() })}
	t.Cleanup(p.close)
	return p
}

// concurrent holds 1000 forwarded connections open at once, each echoing
// its own message.
func concurrent(t *testing.T, fam int) {
	n := 1000
	// Per connection: client, accepted, transparent and target sockets,
	// and a splice pipe (two descriptors) for each direction.
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(n*8+256) {
		n = int(lim.Cur-256) / 8
		t.Logf("RLIMIT_NOFILE %d: %d connections only", lim.Cur, n)
	}
	lo := loopback(fam)
	srv := startTarget(t, TCP, lo)
	l := listen(t, Mapping{Proto: TCP, HostIP: lo, Target: srv.addr, Source: asIs}, localSocket)
	host := netip.AddrPortFrom(lo, l.HostPort())

	conns := make([]net.Conn, n)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	var wg sync.WaitGroup
	var failed atomic.Int32
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := func() error {
				c, err := net.DialTimeout("tcp", host.String(), 10*time.Second)
				if err != nil {
					return err
				}
				conns[i] = c
				c.SetDeadline(time.Now().Add(10 * time.Second))
				rd := bufio.NewReader(c)
				if _, err := rd.ReadString('\n'); err != nil {
					return fmt.Errorf("greeting: %w", err)
				}
				msg := fmt.Sprintf("message %d", i)
				if _, err := c.Write([]byte(msg)); err != nil {
					return err
				}
				buf := make([]byte, len(msg))
				if _, err := io.ReadFull(rd, buf); err != nil {
					return fmt.Errorf("echo: %w", err)
				}
				if string(buf) != msg {
					return fmt.Errorf("echo %q, want %q", buf, msg)
				}
				return nil
			}()
			if err != nil {
				failed.Add(1)
				errs <- err
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		t.Fatalf("%d of %d connections failed, first: %v", f, n, <-errs)
	}
	if a := l.Active(); a != n {
		t.Fatalf("Active() = %d with %d connections open", a, n)
	}
	for i, c := range conns {
		c.Close()
		conns[i] = nil
	}
	waitFor(t, "Active() == 0", func() bool { return l.Active() == 0 })
}

// ---- beyond the suite ----

func TestDialTransparent(t *testing.T) {
	ctx := context.Background()
	for _, proto := range []Proto{TCP, UDP} {
		srv := startTarget(t, proto, lo4)
		c, err := DialTransparent(ctx, localSocket, proto, netip.AddrPortFrom(lo4b, 0), srv.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		switch c.(type) {
		case *net.TCPConn:
			if proto != TCP {
				t.Fatalf("%s: got a %T", proto, c)
			}
		case *net.UDPConn:
			if proto != UDP {
				t.Fatalf("%s: got a %T", proto, c)
			}
		default:
			t.Fatalf("%s: got a %T", proto, c)
		}
		cl := &client{proto: proto, conn: c}
		if proto == TCP {
			cl.rd = bufio.NewReader(c)
			line, err := cl.rd.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			cl.seen = netip.MustParseAddrPort(strings.TrimSpace(line))
		}
		if seen := cl.mustExchange(t, "direct"); seen.Addr() != lo4b || seen != cl.local() {
			t.Fatalf("%s: target saw %s, local address %s, want %s", proto, seen, cl.local(), lo4b)
		}
	}

	dead := bindPlain(t, TCP, netip.AddrPortFrom(lo4, 0))
	dead.close()
	_, err := DialTransparent(ctx, localSocket, TCP, netip.AddrPortFrom(lo4, 0), dead.addr)
	var oe *net.OpError
	if !errors.Is(err, unix.ECONNREFUSED) || !errors.As(err, &oe) {
		t.Fatalf("dial to a closed port: %v, want a *net.OpError with ECONNREFUSED", err)
	}

	if _, err := DialTransparent(ctx, localSocket, TCP, netip.AddrPortFrom(lo6, 0), dead.addr); err == nil {
		t.Fatal("dial from IPv6 to IPv4 succeeded")
	}

	if os.Geteuid() != 0 {
		// Unprivileged: no IP_TRANSPARENT, so foreign sources fail, and say why.
		_, err := DialTransparent(ctx, localSocket, TCP, netip.AddrPortFrom(foreign[4], 0), dead.addr)
		if !errors.Is(err, unix.EADDRNOTAVAIL) || !strings.Contains(err.Error(), "IP_TRANSPARENT") {
			t.Fatalf("unprivileged dial from a foreign address: %v", err)
		}
	}
}

// TestDialTransparentTimeout dials a listener whose accept queue is full,
// so the handshake never completes.
func TestDialTransparentTimeout(t *testing.T) {
	fd, err := localSocket(unix.AF_INET, unix.SOCK_STREAM)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: lo4.As4()}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := unix.Getsockname(fd)
	addr := netip.AddrPortFrom(lo4, uint16(sa.(*unix.SockaddrInet4).Port))
	// Fill the queue: dial until one hangs.
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr.String(), 200*time.Millisecond)
		if err != nil {
			break
		}
		defer c.Close()
		if i > 16 {
			t.Skip("the accept queue does not fill")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = DialTransparent(ctx, localSocket, TCP, netip.AddrPort{}, addr)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("dial with a 200ms deadline: %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("dial returned after %v", d)
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err = DialTransparent(ctx, localSocket, TCP, netip.AddrPort{}, addr)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled dial: %v, want Canceled", err)
	}
}

// TestAcceptSurvivesEMFILE runs the process out of descriptors while a
// client waits to be accepted; the connection goes through once they are
// back.
func TestAcceptSurvivesEMFILE(t *testing.T) {
	srv := startTarget(t, TCP, lo4)
	l := listen(t, Mapping{Proto: TCP, HostIP: lo4, Target: srv.addr, Source: asIs}, localSocket)
	host := netip.AddrPortFrom(lo4, l.HostPort())

	// No descriptor may come free while they are exhausted: no GC, whose
	// finalizers close pooled splice pipes (thousands after Concurrent),
	// and earlier garbage swept now, until the count of descriptors holds.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	for n, stable := -1, 0; stable < 3; {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		if len(ents) == n {
			stable++
		} else {
			n, stable = len(ents), 0
		}
	}

	// The client's socket is made first: connecting it needs no descriptor.
	cfd, err := localSocket(unix.AF_INET, unix.SOCK_STREAM)
	if err != nil {
		t.Fatal(err)
	}
	null, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(null)
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	lowered := old
	lowered.Cur = uint64(max(null, cfd) + 64)
	if lowered.Cur > old.Cur {
		t.Skipf("RLIMIT_NOFILE %d is already low", old.Cur)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lowered); err != nil {
		t.Fatal(err)
	}
	var fill []int
	restore := sync.OnceFunc(func() {
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
		for _, fd := range fill {
			unix.Close(fd)
		}
	})
	defer restore()
	for {
		fd, err := unix.FcntlInt(uintptr(null), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			break
		}
		fill = append(fill, fd)
	}
	if err := unix.Connect(cfd, sockaddr(host)); err != nil && err != unix.EINPROGRESS {
		restore()
		t.Fatalf("connect: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for l.loopErrors.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		for { // take any descriptor that came free after all
			fd, err := unix.FcntlInt(uintptr(null), unix.F_DUPFD_CLOEXEC, 0)
			if err != nil {
				break
			}
			fill = append(fill, fd)
		}
	}
	restore()
	f := os.NewFile(uintptr(cfd), "client")
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if l.loopErrors.Load() == 0 {
		t.Fatal("accept never failed: the test did not exhaust descriptors")
	}
	cl := &client{proto: TCP, conn: c, rd: bufio.NewReader(c)}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := cl.rd.ReadString('\n'); err != nil {
		t.Fatalf("after EMFILE: %v", err)
	}
	cl.mustExchange(t, "still here")
}

// TestCloseLeavesNoGoroutines closes listeners with connections and
// sessions open, and checks that every goroutine they started is gone.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	var closers []func()
	for _, proto := range []Proto{TCP, UDP} {
		srv := startTarget(t, proto, lo4)
		l, err := Listen(Mapping{Proto: proto, HostIP: lo4, Target: srv.addr, Source: asIs}, localSocket)
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			c := dial(t, proto, netip.AddrPortFrom(lo4, l.HostPort()))
			c.mustExchange(t, "hi")
			closers = append(closers, func() { c.conn.Close() })
		}
		if n := l.Active(); n != 5 {
			t.Fatalf("%s: Active() = %d, want 5", proto, n)
		}
		l.Close()
		closers = append(closers, srv.close)
	}
	for _, f := range closers {
		f()
	}
	waitFor(t, fmt.Sprintf("goroutines back to %d", before), func() bool { return runtime.NumGoroutine() <= before })
}

// ---- the real thing, as root: foreign sources in a network namespace ----

// nsThread runs functions on a thread in a new network namespace; sockets
// made there stay in it.
type nsThread struct{ reqs chan func() }

func newNetns(t *testing.T) *nsThread {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: makes a network namespace and binds foreign addresses")
	}
	ns := &nsThread{reqs: make(chan func())}
	ready := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			ready <- err
			return
		}
		ready <- nil
		for f := range ns.reqs {
			f()
		}
	}()
	if err := <-ready; err != nil {
		t.Skipf("cannot make a network namespace: %v", err)
	}
	t.Cleanup(func() { close(ns.reqs) })
	return ns
}

func (ns *nsThread) do(f func() error) error {
	errc := make(chan error, 1)
	ns.reqs <- func() { errc <- f() }
	return <-errc
}

func (ns *nsThread) socket(domain, typ int) (fd int, err error) {
	err = ns.do(func() error {
		fd, err = localSocket(domain, typ)
		return err
	})
	return fd, err
}

// transparent publishes a port of a "container" address in a namespace
// whose policy routing, like the infra namespace's, delivers the
// container's replies to foreign addresses locally, and checks that the
// container sees the foreign source chosen by Source, port included.
func transparent(t *testing.T, proto Proto, fam int) {
	ns := newNetns(t)
	ctr := map[int]netip.Addr{4: netip.MustParseAddr("10.0.0.1"), 6: netip.MustParseAddr("fd00:c::1")}
	err := ns.do(func() error {
		h, err := netlink.NewHandle()
		if err != nil {
			return err
		}
		defer h.Close()
		lo, err := h.LinkByName("lo")
		if err != nil {
			return err
		}
		if err := h.LinkSetUp(lo); err != nil {
			return err
		}
		for f, a := range ctr {
			if err := h.AddrAdd(lo, &netlink.Addr{IPNet: ipNet(netip.PrefixFrom(a, a.BitLen())), Flags: unix.IFA_F_NODAD}); err != nil {
				return fmt.Errorf("adding %s: %w", a, err)
			}
			rule := netlink.NewRule()
			rule.Priority, rule.Table, rule.Src = 100, 100, ipNet(netip.PrefixFrom(a, a.BitLen()))
			rule.Family = map[int]int{4: unix.AF_INET, 6: unix.AF_INET6}[f]
			if err := h.RuleAdd(rule); err != nil {
				return fmt.Errorf("rule from %s: %w", a, err)
			}
			route := &netlink.Route{Type: unix.RTN_LOCAL, Table: 100, LinkIndex: lo.Attrs().Index, Scope: netlink.SCOPE_HOST,
				Dst: ipNet(netip.PrefixFrom(netip.IPv4Unspecified(), 0))}
			if f == 6 {
				route.Dst = ipNet(netip.PrefixFrom(netip.IPv6Unspecified(), 0))
			}
			if err := h.RouteAdd(route); err != nil {
				return fmt.Errorf("local route for replies to foreign addresses: %w", err)
			}
		}
		// IPv6 adds an address's local route from a work queue, even with
		// IFA_F_NODAD: wait for it, or the first packets find no route.
		for _, a := range ctr {
			for i := 0; ; i++ {
				rs, err := h.RouteGet(a.AsSlice())
				if err == nil && len(rs) > 0 && rs[0].Type == unix.RTN_LOCAL {
					break
				}
				if i == 500 {
					return fmt.Errorf("no local route to %s", a)
				}
				time.Sleep(2 * time.Millisecond)
			}
		}
		return nil
	})
	if err != nil {
		t.Skipf("cannot set up the namespace: %v", err)
	}
	var srv *target
	err = ns.do(func() error {
		a := netip.AddrPortFrom(ctr[fam], 8080)
		if proto == TCP {
			ln, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(a))
			if err != nil {
				return err
			}
			srv = serveTarget(t, ln, nil)
		} else {
			pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(a))
			if err != nil {
				return err
			}
			srv = serveTarget(t, nil, pc)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m := Mapping{Proto: proto, HostIP: loopback(fam), Target: srv.addr, Source: func(client, target netip.AddrPort) netip.AddrPort {
		return netip.AddrPortFrom(foreign[familyOf(target.Addr())], client.Port())
	}}
	if fam == 6 {
		m.Target, m.Target6 = netip.AddrPortFrom(ctr[4], 8080), srv.addr
	}
	l := listen(t, m, ns.socket)
	c := dial(t, proto, netip.AddrPortFrom(loopback(fam), l.HostPort()))
	for i := range 3 {
		if seen, want := c.mustExchange(t, fmt.Sprint("through the namespace ", i)), netip.AddrPortFrom(foreign[fam], c.local().Port()); seen != want {
			t.Fatalf("container saw %s, want %s", seen, want)
		}
	}
	if proto == TCP {
		echoBulk(t, c.conn.(*net.TCPConn), c.rd)
	}
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// BenchmarkTCP measures throughput through a TCP mapping, both ways at
// once (the target echoes).
func BenchmarkTCP(b *testing.B) {
	ln, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(netip.AddrPortFrom(lo4, 0)))
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.AcceptTCP()
			if err != nil {
				return
			}
			go func() { defer c.Close(); c.ReadFrom(c) }()
		}
	}()
	l, err := Listen(Mapping{Proto: TCP, HostIP: lo4, Target: ln.Addr().(*net.TCPAddr).AddrPort()}, localSocket)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", netip.AddrPortFrom(lo4, l.HostPort()).String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	chunk := make([]byte, 1<<20)
	b.SetBytes(int64(len(chunk)))
	b.ResetTimer()
	done := make(chan error, 1)
	go func() {
		_, err := io.CopyN(io.Discard, c, int64(b.N)*int64(len(chunk)))
		done <- err
	}()
	for range b.N {
		if _, err := c.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
