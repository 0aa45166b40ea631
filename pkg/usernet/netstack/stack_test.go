package netstack

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The tests build the real picture: a fresh network namespace (the "infra
// netns") with a TAP rrun-tap0 (10.0.2.100/24, fd72:7275:6e00:2::100/64,
// default routes via the stack), and the Stack serving the other end of the
// TAP from the test process's own (host) namespace.
//
// Only the goroutine of testNS runs in the new netns (it is locked to its
// thread), so sockets that must live in the netns are created through
// testNS.do; everything else, including every socket the Stack opens, lives
// in the host netns.

const tapName = "rrun-tap0"

var (
	tapAddr    = netip.MustParsePrefix("10.0.2.100/24")
	stackAddr  = netip.MustParsePrefix("10.0.2.2/24")
	tapAddr6   = netip.MustParsePrefix("fd72:7275:6e00:2::100/64")
	stackAddr6 = netip.MustParsePrefix("fd72:7275:6e00:2::2/64")

	// containerAddr is put on lo in the netns to play a container behind
	// the infra netns (traffic from it is routed, not originated, by the
	// TAP's address).
	containerAddr = netip.MustParseAddr("172.17.0.2")
	// foreignAddr / foreignAddr6 stand for "somewhere on the internet"; the
	// test's Outbound maps them to the host's loopback.
	foreignAddr  = netip.MustParseAddr("192.0.2.1")
	foreignAddr6 = netip.MustParseAddr("2001:db8::1")
	// smallMTUAddr is routed with a 1500-byte path MTU, like a container
	// behind a 1500-byte bridge: 1460-byte segments, or TCP
	// super-segments with VnetHdr.
	smallMTUAddr = netip.MustParseAddr("192.0.2.15")
)

// refusedPort is refused by the test's Outbound.
const refusedPort = 9

type testNS struct {
	work chan func()
	quit chan struct{}
}

// newTestNS starts a goroutine locked to a thread that unshared its network
// namespace. The thread is never unlocked, so it dies with the goroutine.
func newTestNS(t *testing.T) *testNS {
	t.Helper()
	ns := &testNS{work: make(chan func()), quit: make(chan struct{})}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- nil
		for {
			select {
			case f := <-ns.work:
				f()
			case <-ns.quit:
				return
			}
		}
	}()
	if err := <-errc; err != nil {
		if errors.Is(err, unix.EPERM) {
			t.Skipf("unshare(CLONE_NEWNET): %v: needs CAP_SYS_ADMIN/CAP_NET_ADMIN (run as root, CI does)", err)
		}
		t.Fatalf("unshare(CLONE_NEWNET): %v", err)
	}
	t.Cleanup(ns.close)
	return ns
}

// close ends the netns goroutine (and its thread); idempotent.
func (ns *testNS) close() {
	select {
	case <-ns.quit:
	default:
		close(ns.quit)
	}
}

// do runs f in the test netns and waits for it.
func (ns *testNS) do(f func()) {
	done := make(chan struct{})
	ns.work <- func() { defer close(done); f() }
	<-done
}

type flowRec struct {
	proto    Proto
	src, dst netip.AddrPort
}

type env struct {
	t     *testing.T
	ns    *testNS
	stack *Stack

	mu    sync.Mutex
	flows []flowRec
	logs  []string
}

func (e *env) recorded() []flowRec {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]flowRec(nil), e.flows...)
}

func (e *env) logged(substr string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, l := range e.logs {
		if strings.Contains(l, substr) {
			return true
		}
	}
	return false
}

// outbound is the test's policy: the stack's own address and the "foreign"
// addresses map to the host's loopback, refusedPort is refused, everything
// else is dialled as is.
func (e *env) outbound(p Proto, src, dst netip.AddrPort) (netip.AddrPort, error) {
	e.mu.Lock()
	e.flows = append(e.flows, flowRec{p, src, dst})
	e.mu.Unlock()
	if dst.Port() == refusedPort && p != ProtoICMP {
		return netip.AddrPort{}, errors.New("refused by test policy")
	}
	switch dst.Addr() {
	case stackAddr.Addr(), foreignAddr, smallMTUAddr:
		return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), dst.Port()), nil
	case stackAddr6.Addr(), foreignAddr6:
		return netip.AddrPortFrom(netip.IPv6Loopback(), dst.Port()), nil
	}
	return dst, nil
}

type envOpts struct {
	vnetHdr bool
	udpIdle time.Duration
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for a TAP in a test netns; run as root (CI does)")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skipf("needs /dev/net/tun: %v", err)
	}
}

// newEnv creates the netns, the TAP and a started Stack.
func newEnv(t *testing.T, o envOpts) *env {
	t.Helper()
	requireRoot(t)
	e := &env{t: t, ns: newTestNS(t)}
	var fd int
	var err error
	e.ns.do(func() { fd, err = setupTAP(o.vnetHdr) })
	if errors.Is(err, unix.EPERM) {
		t.Skipf("setting up TAP: %v (no CAP_NET_ADMIN here?)", err)
	}
	if err != nil {
		t.Fatalf("setting up TAP: %v", err)
	}
	e.stack, err = Start(Config{
		FD:       fd,
		Addr:     stackAddr,
		Peer:     tapAddr.Addr(),
		Addr6:    stackAddr6,
		Peer6:    tapAddr6.Addr(),
		Outbound: e.outbound,
		Logf: func(format string, args ...any) {
			msg := fmt.Sprintf(format, args...)
			e.mu.Lock()
			e.logs = append(e.logs, msg)
			e.mu.Unlock()
			t.Log(msg)
		},
		VnetHdr:        o.vnetHdr,
		UDPIdleTimeout: o.udpIdle,
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { e.stack.Close() })
	return e
}

// setupTAP runs in the netns: lo up, the TAP with addresses and routes, and
// containerAddr on lo.
func setupTAP(vnet bool) (int, error) {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return -1, err
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return -1, err
	}
	if err := netlink.AddrAdd(lo, &netlink.Addr{IPNet: prefixNet(netip.PrefixFrom(containerAddr, 32))}); err != nil {
		return -1, err
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	ifr, err := unix.NewIfreq(tapName)
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	flags := uint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if vnet {
		flags |= unix.IFF_VNET_HDR
	}
	ifr.SetUint16(flags)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("TUNSETIFF: %w", err)
	}
	fail := func(err error) (int, error) { unix.Close(fd); return -1, err }
	tap, err := netlink.LinkByName(tapName)
	if err != nil {
		return fail(err)
	}
	if err := netlink.LinkSetMTU(tap, DefaultMTU); err != nil {
		return fail(err)
	}
	if err := netlink.AddrAdd(tap, &netlink.Addr{IPNet: prefixNet(tapAddr)}); err != nil {
		return fail(err)
	}
	if err := netlink.AddrAdd(tap, &netlink.Addr{IPNet: prefixNet(tapAddr6), Flags: unix.IFA_F_NODAD}); err != nil {
		return fail(err)
	}
	if err := netlink.LinkSetUp(tap); err != nil {
		return fail(err)
	}
	if err := netlink.RouteAdd(&netlink.Route{LinkIndex: tap.Attrs().Index, Gw: stackAddr.Addr().AsSlice()}); err != nil {
		return fail(fmt.Errorf("default route: %w", err))
	}
	if err := netlink.RouteAdd(&netlink.Route{
		LinkIndex: tap.Attrs().Index,
		Dst:       prefixNet(netip.PrefixFrom(smallMTUAddr, 32)),
		Gw:        stackAddr.Addr().AsSlice(),
		MTU:       1500,
	}); err != nil {
		return fail(fmt.Errorf("route with mtu 1500: %w", err))
	}
	if err := netlink.RouteAdd(&netlink.Route{
		LinkIndex: tap.Attrs().Index,
		Dst:       &net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)},
		Gw:        stackAddr6.Addr().AsSlice(),
	}); err != nil {
		return fail(fmt.Errorf("default route v6: %w", err))
	}
	return fd, nil
}

func prefixNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// dial connects from the netns (optionally from a given local address).
func (e *env) dial(network, addr string, local net.Addr) (net.Conn, error) {
	var c net.Conn
	var err error
	e.ns.do(func() {
		d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: local}
		c, err = d.Dial(network, addr)
	})
	return c, err
}

// tcpEchoServer listens on the host loopback and echoes each connection,
// half-closing after the client's EOF.
func tcpEchoServer(t *testing.T, network, addr string) *net.TCPListener {
	t.Helper()
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
				c.(*net.TCPConn).CloseWrite()
			}()
		}
	}()
	return l.(*net.TCPListener)
}

// echoRoundTrip sends size random bytes over c, half-closes, and checks that
// exactly the same bytes come back followed by EOF.
func echoRoundTrip(t *testing.T, c net.Conn, size int) {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	c.SetDeadline(time.Now().Add(20 * time.Second))
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(data)
		if err == nil {
			err = c.(*net.TCPConn).CloseWrite()
		}
		werr <- err
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading echo: %v (got %d of %d bytes)", err, len(got), size)
	}
	if err := <-werr; err != nil {
		t.Fatalf("writing: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("echo mismatch: got %d bytes, want %d (equal prefix %d)", len(got), size, commonPrefix(got, data))
	}
}

func commonPrefix(a, b []byte) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

func portOf(a net.Addr) uint16 { return uint16(a.(*net.TCPAddr).Port) }

// waitFor polls cond until it holds or the timeout expires.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (stats %+v)", what, lastStats)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var lastStats Stats

func (e *env) statsCond(f func(Stats) bool) func() bool {
	return func() bool { lastStats = e.stack.Stats(); return f(lastStats) }
}

func TestTCP(t *testing.T) {
	for _, vnet := range []bool{false, true} {
		t.Run(fmt.Sprintf("vnethdr=%v", vnet), func(t *testing.T) {
			e := newEnv(t, envOpts{vnetHdr: vnet})
			l := tcpEchoServer(t, "tcp4", "127.0.0.1:0")
			port := portOf(l.Addr())

			// (1)+(2): from the TAP's own address to 10.0.2.2:port, which
			// Outbound maps to 127.0.0.1:port; a few MB both ways.
			c, err := e.dial("tcp4", netip.AddrPortFrom(stackAddr.Addr(), port).String(), nil)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			echoRoundTrip(t, c, 4<<20)
			cport := portOf(c.LocalAddr())
			c.Close()
			want := flowRec{ProtoTCP, netip.AddrPortFrom(tapAddr.Addr(), cport), netip.AddrPortFrom(stackAddr.Addr(), port)}
			if got := e.recorded(); len(got) != 1 || got[0] != want {
				t.Fatalf("Outbound calls = %+v, want [%+v]", got, want)
			}

			// A routed "container" source towards a foreign address: replies
			// must go back via the next hop 10.0.2.100.
			c, err = e.dial("tcp4", netip.AddrPortFrom(foreignAddr, port).String(),
				&net.TCPAddr{IP: containerAddr.AsSlice()})
			if err != nil {
				t.Fatalf("dial from container address: %v", err)
			}
			echoRoundTrip(t, c, 1<<20)
			cport = portOf(c.LocalAddr())
			c.Close()
			want = flowRec{ProtoTCP, netip.AddrPortFrom(containerAddr, cport), netip.AddrPortFrom(foreignAddr, port)}
			if got := e.recorded(); len(got) != 2 || got[1] != want {
				t.Fatalf("Outbound calls = %+v, want second %+v", got, want)
			}

			// Through a 1500-byte path (GSO/TSO in both directions with
			// VnetHdr).
			c, err = e.dial("tcp4", netip.AddrPortFrom(smallMTUAddr, port).String(), nil)
			if err != nil {
				t.Fatalf("dial over small-MTU path: %v", err)
			}
			echoRoundTrip(t, c, 2<<20)
			c.Close()

			// IPv6.
			l6 := tcpEchoServer(t, "tcp6", "[::1]:0")
			port6 := portOf(l6.Addr())
			c, err = e.dial("tcp6", netip.AddrPortFrom(stackAddr6.Addr(), port6).String(), nil)
			if err != nil {
				t.Fatalf("dial v6: %v", err)
			}
			echoRoundTrip(t, c, 1<<20)
			c.Close()

			// Flows end with both sides.
			waitFor(t, "TCP flows to end", 5*time.Second, e.statsCond(func(s Stats) bool {
				return s.ActiveTCP == 0 && s.TotalTCP == 4
			}))
		})
	}
}

func TestTCPRefused(t *testing.T) {
	e := newEnv(t, envOpts{})
	// (3) Refused by Outbound: RST.
	start := time.Now()
	_, err := e.dial("tcp4", netip.AddrPortFrom(foreignAddr, refusedPort).String(), nil)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial refused flow: err = %v, want ECONNREFUSED", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("refusal took %v", d)
	}
	// Allowed by Outbound but nothing listens on the host: RST as well.
	l, _ := net.Listen("tcp4", "127.0.0.1:0")
	closedPort := portOf(l.Addr())
	l.Close()
	_, err = e.dial("tcp4", netip.AddrPortFrom(stackAddr.Addr(), closedPort).String(), nil)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial closed host port: err = %v, want ECONNREFUSED", err)
	}
	s := e.stack.Stats()
	if s.Refused != 1 || s.DialFailed != 1 || s.ActiveTCP != 0 {
		t.Fatalf("stats = %+v, want Refused=1 DialFailed=1 ActiveTCP=0", s)
	}
}

func TestTCPResetAndClose(t *testing.T) {
	e := newEnv(t, envOpts{})
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	port := portOf(l.Addr())

	// Host side resets: the container sees a reset.
	c, err := e.dial("tcp4", netip.AddrPortFrom(stackAddr.Addr(), port).String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := <-accepted
	hc.(*net.TCPConn).SetLinger(0)
	hc.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after host reset: %v, want ECONNRESET", err)
	}
	c.Close()

	// The container half-closes, the host keeps its side open, then the
	// container resets: the flow must end and the host see the reset.
	c, err = e.dial("tcp4", netip.AddrPortFrom(stackAddr.Addr(), port).String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	hc = <-accepted
	c.(*net.TCPConn).CloseWrite()
	hc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := hc.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("host read after container half-close: %d, %v; want EOF", n, err)
	}
	c.(*net.TCPConn).SetLinger(0)
	c.Close()
	waitFor(t, "half-closed flow to end after reset", 5*time.Second, e.statsCond(func(s Stats) bool { return s.ActiveTCP == 0 }))
	// The host side was reset (it already had the FIN, so reads say EOF;
	// writes fail).
	hc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := hc.Write([]byte("x")); !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("host write after container reset: %v, want EPIPE/ECONNRESET", err)
	}
	hc.Close()

	// Close tears active flows down: the host side sees the end.
	c, err = e.dial("tcp4", netip.AddrPortFrom(stackAddr.Addr(), port).String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	hc = <-accepted
	defer hc.Close()
	waitFor(t, "flow to be active", 5*time.Second, e.statsCond(func(s Stats) bool { return s.ActiveTCP == 1 }))
	if err := e.stack.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	hc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := hc.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("host side after Close: %v, want EOF/reset", err)
	}
	if s := e.stack.Stats(); s.ActiveTCP != 0 {
		t.Fatalf("ActiveTCP after Close = %d", s.ActiveTCP)
	}
}

// udpEchoServer echoes datagrams on the host loopback.
func udpEchoServer(t *testing.T, network, addr string) *net.UDPConn {
	t.Helper()
	pc, err := net.ListenPacket(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1<<16)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(buf[:n], from)
		}
	}()
	return pc.(*net.UDPConn)
}

func TestUDP(t *testing.T) {
	for _, vnet := range []bool{false, true} {
		t.Run(fmt.Sprintf("vnethdr=%v", vnet), func(t *testing.T) { testUDP(t, vnet) })
	}
}

func testUDP(t *testing.T, vnet bool) {
	e := newEnv(t, envOpts{udpIdle: 300 * time.Millisecond, vnetHdr: vnet})
	srv := udpEchoServer(t, "udp4", "127.0.0.1:0")
	port := uint16(srv.LocalAddr().(*net.UDPAddr).Port)

	// (4) Round trips, including a large datagram (IP fragments on the way
	// nowhere: MTU is 65520, so it is one frame).
	c, err := e.dial("udp4", netip.AddrPortFrom(stackAddr.Addr(), port).String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i, size := range []int{1, 100, 1400, 9000, 60000} {
		msg := make([]byte, size)
		rand.Read(msg)
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(msg); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		buf := make([]byte, 1<<16)
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if !bytes.Equal(buf[:n], msg) {
			t.Fatalf("datagram %d: got %d bytes, want %d", i, n, size)
		}
	}
	cport := uint16(c.LocalAddr().(*net.UDPAddr).Port)
	want := flowRec{ProtoUDP, netip.AddrPortFrom(tapAddr.Addr(), cport), netip.AddrPortFrom(stackAddr.Addr(), port)}
	if got := e.recorded(); len(got) != 1 || got[0] != want {
		t.Fatalf("Outbound calls = %+v, want [%+v] (one flow for all datagrams)", got, want)
	}

	// IPv6, from a second flow.
	srv6 := udpEchoServer(t, "udp6", "[::1]:0")
	port6 := uint16(srv6.LocalAddr().(*net.UDPAddr).Port)
	c6, err := e.dial("udp6", netip.AddrPortFrom(foreignAddr6, port6).String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c6.Close()
	c6.SetDeadline(time.Now().Add(5 * time.Second))
	c6.Write([]byte("hello6"))
	buf := make([]byte, 100)
	if n, err := c6.Read(buf); err != nil || string(buf[:n]) != "hello6" {
		t.Fatalf("v6 echo: %q, %v", buf[:n], err)
	}

	// Refused: ICMP port unreachable, seen as ECONNREFUSED by a connected
	// UDP socket.
	cr, err := e.dial("udp4", netip.AddrPortFrom(foreignAddr, refusedPort).String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cr.Close()
	cr.SetDeadline(time.Now().Add(5 * time.Second))
	cr.Write([]byte("x"))
	if _, err := cr.Read(buf); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("refused UDP flow: read err = %v, want ECONNREFUSED", err)
	}

	// Flows expire when idle (UDPIdleTimeout is 300ms here).
	waitFor(t, "UDP flows to expire", 5*time.Second, e.statsCond(func(s Stats) bool {
		return s.ActiveUDP == 0 && s.TotalUDP == 2
	}))
	// And a new datagram on the old 4-tuple makes a new flow.
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("again"))
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "again" {
		t.Fatalf("after expiry: %q, %v", buf[:n], err)
	}
	if s := e.stack.Stats(); s.TotalUDP != 3 || s.ActiveUDP != 1 {
		t.Fatalf("stats after re-use = %+v", s)
	}
}

func TestMalformedFrames(t *testing.T) {
	e := newEnv(t, envOpts{})
	l := tcpEchoServer(t, "tcp4", "127.0.0.1:0")
	port := portOf(l.Addr())

	// Learn the netns end's MAC, so the frames look like the real thing.
	var tapMAC net.HardwareAddr
	var ifindex int
	e.ns.do(func() {
		link, err := netlink.LinkByName(tapName)
		if err == nil {
			tapMAC = link.Attrs().HardwareAddr
			ifindex = link.Attrs().Index
		}
	})
	if ifindex == 0 {
		t.Fatal("no TAP in netns")
	}
	frames := hostileFrames(net.HardwareAddr(stackMAC), tapMAC, port)

	// (5) Write them raw into the TAP (an AF_PACKET socket in the netns
	// transmits on rrun-tap0, which the stack reads). Repeat a few times.
	var sendErr error
	sent := 0
	e.ns.do(func() {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			sendErr = err
			return
		}
		defer unix.Close(fd)
		sa := &unix.SockaddrLinklayer{Ifindex: ifindex, Protocol: htons(unix.ETH_P_ALL)}
		for round := 0; round < 3; round++ {
			for _, f := range frames {
				if err := unix.Sendto(fd, f, 0, sa); err == nil {
					sent++
				}
			}
		}
	})
	if sendErr != nil {
		t.Fatalf("AF_PACKET: %v", sendErr)
	}
	if sent < 3*(len(frames)-2) { // the kernel may refuse the runts
		t.Fatalf("only %d of %d hostile frames sent", sent, 3*len(frames))
	}
	waitFor(t, "hostile frames to be read", 5*time.Second, e.statsCond(func(s Stats) bool {
		return s.RxFrames >= uint64(sent)
	}))
	if s := e.stack.Stats(); s.Malformed == 0 {
		t.Fatalf("no malformed packets counted: %+v", s)
	}
	// The stack still serves.
	c, err := e.dial("tcp4", netip.AddrPortFrom(stackAddr.Addr(), port).String(), nil)
	if err != nil {
		t.Fatalf("dial after hostile frames: %v", err)
	}
	echoRoundTrip(t, c, 256<<10)
	c.Close()
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// hostileFrames builds malformed frames towards the stack.
func hostileFrames(dstMAC, srcMAC net.HardwareAddr, port uint16) [][]byte {
	eth := func(etype uint16, payload []byte) []byte {
		b := make([]byte, 14, 14+len(payload))
		copy(b[0:], dstMAC)
		copy(b[6:], srcMAC)
		binary.BigEndian.PutUint16(b[12:], etype)
		return append(b, payload...)
	}
	src4 := tapAddr.Addr().As4()
	dst4 := stackAddr.Addr().As4()
	ipv4 := func(proto byte, ihl int, totalLen int, payload []byte, fragOff uint16) []byte {
		h := make([]byte, 20)
		h[0] = 0x40 | byte(ihl&0xf)
		binary.BigEndian.PutUint16(h[2:], uint16(totalLen))
		binary.BigEndian.PutUint16(h[6:], fragOff)
		h[8] = 64
		h[9] = proto
		copy(h[12:], src4[:])
		copy(h[16:], dst4[:])
		binary.BigEndian.PutUint16(h[10:], ^csum(h, 0))
		return append(h, payload...)
	}
	tcpSyn := func(opts []byte) []byte {
		hl := 20 + len(opts)
		t := make([]byte, hl)
		binary.BigEndian.PutUint16(t[0:], 40000)
		binary.BigEndian.PutUint16(t[2:], port)
		binary.BigEndian.PutUint32(t[4:], 12345)
		t[12] = byte(hl/4) << 4
		t[13] = 0x02 // SYN
		binary.BigEndian.PutUint16(t[14:], 65535)
		copy(t[20:], opts)
		// Pseudo-header checksum so that the options are actually parsed.
		ph := make([]byte, 12)
		copy(ph[0:], src4[:])
		copy(ph[4:], dst4[:])
		ph[9] = 6
		binary.BigEndian.PutUint16(ph[10:], uint16(len(t)))
		binary.BigEndian.PutUint16(t[16:], ^csum(t, csum(ph, 0)))
		return t
	}
	var frames [][]byte
	add := func(f []byte) { frames = append(frames, f) }

	add([]byte{1, 2, 3, 4, 5})                                                   // runt, shorter than an Ethernet header
	add(eth(0x0800, nil)[:13])                                                   // one byte short of a header
	add(eth(0x0800, nil))                                                        // IPv4 ethertype, nothing after it
	add(eth(0x0800, []byte{0x45, 0}))                                            // truncated IPv4 header
	add(eth(0x0800, ipv4(6, 5, 1000, make([]byte, 20), 0)))                      // total length beyond the frame
	add(eth(0x0800, ipv4(6, 15, 20, nil, 0)))                                    // IHL beyond the packet
	add(eth(0x0800, ipv4(6, 2, 40, make([]byte, 20), 0)))                        // IHL < 5
	add(eth(0x0800, ipv4(6, 5, 10, make([]byte, 20), 0)))                        // total length < header
	add(eth(0x0800, ipv4(6, 5, 28, make([]byte, 8), 0)))                         // TCP header cut short
	add(eth(0x0800, ipv4(1, 5, 22, []byte{8, 0}, 0)))                            // ICMP echo cut short
	add(eth(0x0800, ipv4(17, 5, 28, []byte{0, 53, 0, 53, 0xff, 0xff, 0, 0}, 0))) // UDP length beyond packet
	add(eth(0x0800, ipv4(1, 5, 28, make([]byte, 8), 0x1fff)))                    // fragment at the 64 KiB edge
	for _, opts := range [][]byte{
		{2, 0, 0, 0},                // MSS option with length 0
		{3, 255, 0, 0},              // window scale, length past the end
		{8, 1, 0, 0},                // timestamp, length 1
		{4, 2, 5, 0xff, 0, 0, 0, 0}, // SACK-permitted, then a SACK block with length past the end
		{1, 1, 1, 30},               // NOPs, then an option with no length byte
		{2, 4, 0, 0, 3, 3, 200, 0},  // MSS 0, window scale 200
	} {
		t := tcpSyn(opts)
		add(eth(0x0800, ipv4(6, 5, 20+len(t), t, 0)))
	}
	add(eth(0x86dd, []byte{0x60, 0, 0, 0, 0xff, 0xff, 6, 64})) // truncated IPv6 header
	v6 := make([]byte, 40)
	v6[0] = 0x60
	binary.BigEndian.PutUint16(v6[4:], 5000) // payload length beyond the frame
	v6[6] = 58
	copy(v6[8:], tapAddr6.Addr().AsSlice())
	copy(v6[24:], stackAddr6.Addr().AsSlice())
	add(eth(0x86dd, append(v6, 128, 0, 0, 0)))
	v6b := append([]byte(nil), v6...)
	binary.BigEndian.PutUint16(v6b[4:], 8)
	v6b[6] = 0 // hop-by-hop header with a length running past the packet
	add(eth(0x86dd, append(v6b, 58, 200, 0, 0, 0, 0, 0, 0)))
	add(eth(0x0806, []byte{0, 1, 8, 0, 6, 4, 0, 1})) // truncated ARP
	add(eth(0x0806, bytes.Repeat([]byte{0xff}, 28))) // ARP with nonsense sizes
	add(eth(0x8100, []byte{0, 1, 0x08, 0, 0x45}))    // VLAN tag
	junk := make([]byte, 1500)
	rand.Read(junk)
	add(eth(0x0800, junk))
	return frames
}

// csum is the Internet checksum (ones' complement sum) of b added to initial.
func csum(b []byte, initial uint16) uint16 {
	s := uint32(initial)
	for len(b) >= 2 {
		s += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// pinger sends echo requests from the netns over a raw socket and collects
// the replies for one identifier.
type pinger struct {
	fd    int
	v6    bool
	ident uint16
}

func (e *env) newPinger(t *testing.T, v6 bool) *pinger {
	t.Helper()
	p := &pinger{v6: v6, ident: uint16(os.Getpid()&0x7fff) + 77}
	var err error
	e.ns.do(func() {
		if v6 {
			p.fd, err = unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMPV6)
		} else {
			p.fd, err = unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMP)
		}
	})
	if err != nil {
		t.Fatalf("raw ICMP socket: %v", err)
	}
	t.Cleanup(func() { unix.Close(p.fd) })
	return p
}

// ping sends one echo request with seq and payload to dst and waits up to
// timeout for the matching reply; it returns the reply's source address.
func (p *pinger) ping(t *testing.T, dst netip.Addr, seq uint16, payload []byte, timeout time.Duration) (netip.Addr, bool) {
	t.Helper()
	msg := make([]byte, 8+len(payload))
	if p.v6 {
		msg[0] = 128
	} else {
		msg[0] = 8
	}
	binary.BigEndian.PutUint16(msg[4:], p.ident)
	binary.BigEndian.PutUint16(msg[6:], seq)
	copy(msg[8:], payload)
	var sa unix.Sockaddr
	if p.v6 {
		sa = &unix.SockaddrInet6{Addr: dst.As16()} // the kernel fills in the ICMPv6 checksum
	} else {
		binary.BigEndian.PutUint16(msg[2:], ^csum(msg, 0))
		sa = &unix.SockaddrInet4{Addr: dst.As4()}
	}
	if err := unix.Sendto(p.fd, msg, 0, sa); err != nil {
		t.Fatalf("sendto %v: %v", dst, err)
	}
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 1<<16)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return netip.Addr{}, false
		}
		tv := unix.NsecToTimeval(left.Nanoseconds())
		unix.SetsockoptTimeval(p.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
		n, from, err := unix.Recvfrom(p.fd, buf, 0)
		if err != nil {
			if err == unix.EAGAIN || err == unix.EINTR {
				continue
			}
			t.Fatalf("recvfrom: %v", err)
		}
		m := buf[:n]
		if !p.v6 {
			if n < 20 || int(m[0]&0xf)*4 > n {
				continue
			}
			m = m[int(m[0]&0xf)*4:] // raw IPv4 sockets deliver the IP header
		}
		if len(m) < 8 || binary.BigEndian.Uint16(m[4:]) != p.ident || binary.BigEndian.Uint16(m[6:]) != seq {
			continue
		}
		if (p.v6 && m[0] != 129) || (!p.v6 && m[0] != 0) {
			continue // our own request looped back, or something else
		}
		if !bytes.Equal(m[8:], payload) {
			t.Fatalf("echo reply payload mismatch")
		}
		if !p.v6 && csum(m, 0) != 0xffff {
			t.Fatalf("echo reply with bad checksum")
		}
		switch a := from.(type) {
		case *unix.SockaddrInet4:
			return netip.AddrFrom4(a.Addr), true
		case *unix.SockaddrInet6:
			return netip.AddrFrom16(a.Addr), true
		}
		return netip.Addr{}, true
	}
}

// setPingGroupRange writes the host's net.ipv4.ping_group_range and
// restores the original value at the end of the test. It returns false if
// the sysctl cannot be changed here (e.g. read-only /proc/sys).
func setPingGroupRange(t *testing.T, val string) bool {
	t.Helper()
	const path = "/proc/sys/net/ipv4/ping_group_range"
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Logf("cannot read %s: %v", path, err)
		return false
	}
	if err := os.WriteFile(path, []byte(val), 0o644); err != nil {
		t.Logf("cannot write %s: %v", path, err)
		return false
	}
	t.Cleanup(func() {
		// Restore only if nobody else changed it meanwhile.
		cur, _ := os.ReadFile(path)
		if strings.Join(strings.Fields(string(cur)), " ") != strings.Join(strings.Fields(val), " ") {
			t.Logf("%s changed by someone else to %q; not restoring %q", path, bytes.TrimSpace(cur), bytes.TrimSpace(orig))
			return
		}
		if err := os.WriteFile(path, bytes.TrimSpace(orig), 0o644); err != nil {
			t.Errorf("restoring %s: %v", path, err)
		}
	})
	return true
}

// pingSocketsPermitted reports whether this process may open ping sockets.
func pingSocketsPermitted() bool {
	c, err := openPingSocket(false)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func TestICMPEcho(t *testing.T) {
	for _, vnet := range []bool{false, true} {
		t.Run(fmt.Sprintf("vnethdr=%v", vnet), func(t *testing.T) { testICMPEcho(t, vnet) })
	}
}

func testICMPEcho(t *testing.T, vnet bool) {
	e := newEnv(t, envOpts{vnetHdr: vnet})
	payload := []byte("rrun ping payload 0123456789")
	p4 := e.newPinger(t, false)
	p6 := e.newPinger(t, true)

	// The stack's own addresses are answered by gVisor, whatever the host
	// allows.
	if from, ok := p4.ping(t, stackAddr.Addr(), 1, payload, 2*time.Second); !ok || from != stackAddr.Addr() {
		t.Fatalf("ping 10.0.2.2: ok=%v from=%v", ok, from)
	}
	if from, ok := p6.ping(t, stackAddr6.Addr(), 1, payload, 2*time.Second); !ok || from != stackAddr6.Addr() {
		t.Fatalf("ping fd72:7275:6e00:2::2: ok=%v from=%v", ok, from)
	}

	gid := os.Getegid()
	canSet := setPingGroupRange(t, "1 0")
	permitted := false // with canSet: deny first, then permit
	if !canSet {
		permitted = pingSocketsPermitted()
		t.Logf("cannot change net.ipv4.ping_group_range; ping sockets permitted for gid %d: %v", gid, permitted)
	}

	if !permitted {
		// (6a) Ping sockets not permitted on the host: no reply, no fake,
		// and a clear log line.
		if _, ok := p4.ping(t, foreignAddr, 2, payload, 500*time.Millisecond); ok {
			t.Fatal("got an echo reply although ping sockets are not permitted (faked reply)")
		}
		if _, ok := p6.ping(t, foreignAddr6, 2, payload, 300*time.Millisecond); ok {
			t.Fatal("got an ICMPv6 echo reply although ping sockets are not permitted (faked reply)")
		}
		if s := e.stack.Stats(); s.ICMPDenied < 2 || s.ICMPEchoSent != 0 {
			t.Fatalf("stats = %+v, want ICMPDenied>=2, ICMPEchoSent=0", s)
		}
		if !e.logged(fmt.Sprintf("net.ipv4.ping_group_range to include gid %d", gid)) {
			t.Fatal("missing log about net.ipv4.ping_group_range")
		}
		if !canSet {
			return
		}
		permitted = setPingGroupRange(t, fmt.Sprintf("%d %d", gid, gid))
		if !permitted {
			t.Fatal("could set ping_group_range once but not twice")
		}
	}

	// (6b) Permitted: the echo goes through a host ping socket (to
	// 127.0.0.1 / ::1, per Outbound) and the reply comes from the address
	// the container pinged.
	before := e.stack.Stats()
	for seq := uint16(3); seq < 6; seq++ {
		from, ok := p4.ping(t, foreignAddr, seq, payload, 2*time.Second)
		if !ok || from != foreignAddr {
			t.Fatalf("ping %v seq %d: ok=%v from=%v", foreignAddr, seq, ok, from)
		}
	}
	from, ok := p6.ping(t, foreignAddr6, 3, payload, 2*time.Second)
	if !ok || from != foreignAddr6 {
		t.Fatalf("ping %v: ok=%v from=%v", foreignAddr6, ok, from)
	}
	waitFor(t, "echo counters", 2*time.Second, e.statsCond(func(s Stats) bool {
		return s.ICMPEchoSent-before.ICMPEchoSent == 4 && s.ICMPEchoReceived-before.ICMPEchoReceived == 4 && s.ActiveICMP == 2
	}))
	want := flowRec{ProtoICMP, netip.AddrPortFrom(tapAddr.Addr(), p4.ident), netip.AddrPortFrom(foreignAddr, 0)}
	found := false
	for _, f := range e.recorded() {
		found = found || f == want
	}
	if !found {
		t.Fatalf("ICMP Outbound calls = %+v, want %+v among them", e.recorded(), want)
	}
}

func TestStartValidation(t *testing.T) {
	out := func(Proto, netip.AddrPort, netip.AddrPort) (netip.AddrPort, error) { return netip.AddrPort{}, nil }
	for name, cfg := range map[string]Config{
		"no outbound":   {FD: -1, Addr: stackAddr, Peer: tapAddr.Addr()},
		"v6 addr":       {FD: -1, Addr: stackAddr6, Peer: tapAddr.Addr(), Outbound: out},
		"peer outside":  {FD: -1, Addr: stackAddr, Peer: netip.MustParseAddr("10.9.9.9"), Outbound: out},
		"peer6 missing": {FD: -1, Addr: stackAddr, Peer: tapAddr.Addr(), Addr6: stackAddr6, Outbound: out},
	} {
		if _, err := Start(cfg); err == nil {
			t.Errorf("%s: Start succeeded", name)
		}
	}
	// Not a TAP: refused, and the fd is consumed.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	fd, err := unix.Dup(int(r.Fd()))
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Start(Config{FD: fd, Addr: stackAddr, Peer: tapAddr.Addr(), Outbound: out}); err == nil {
		t.Fatal("Start on a pipe succeeded")
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); !errors.Is(err, unix.EBADF) {
		t.Fatalf("fd still open after failed Start (err %v)", err)
	}
}

func TestNoLeaks(t *testing.T) {
	requireRoot(t)
	defer func(d time.Duration) { icmpIdleTimeout = d }(icmpIdleTimeout)
	icmpIdleTimeout = 200 * time.Millisecond
	doPing := setPingGroupRange(t, fmt.Sprintf("%d %d", os.Getegid(), os.Getegid())) || pingSocketsPermitted()

	base0 := runtime.NumGoroutine()
	l := tcpEchoServer(t, "tcp4", "127.0.0.1:0")
	u := udpEchoServer(t, "udp4", "127.0.0.1:0")
	e := newEnv(t, envOpts{udpIdle: 200 * time.Millisecond})
	p := e.newPinger(t, false)
	time.Sleep(50 * time.Millisecond)
	base1 := runtime.NumGoroutine()

	// Some flows of each kind, run to completion.
	for i := 0; i < 5; i++ {
		c, err := e.dial("tcp4", netip.AddrPortFrom(stackAddr.Addr(), portOf(l.Addr())).String(), nil)
		if err != nil {
			t.Fatal(err)
		}
		echoRoundTrip(t, c, 64<<10)
		c.Close()
		uc, err := e.dial("udp4", netip.AddrPortFrom(foreignAddr, uint16(u.LocalAddr().(*net.UDPAddr).Port)).String(), nil)
		if err != nil {
			t.Fatal(err)
		}
		uc.SetDeadline(time.Now().Add(5 * time.Second))
		uc.Write([]byte("x"))
		if _, err := uc.Read(make([]byte, 10)); err != nil {
			t.Fatalf("udp: %v", err)
		}
		uc.Close()
		if _, ok := p.ping(t, foreignAddr, uint16(i), []byte("leak?"), 2*time.Second); doPing && !ok {
			t.Fatal("no echo reply")
		}
	}
	// A connection the container resets right away (possibly while the
	// handshake is still in progress): no flow may stay behind.
	c, err := e.dial("tcp4", netip.AddrPortFrom(stackAddr.Addr(), portOf(l.Addr())).String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).SetLinger(0)
	c.Close()

	waitFor(t, "all flows to end", 5*time.Second, e.statsCond(func(s Stats) bool {
		return s.ActiveTCP == 0 && s.ActiveUDP == 0 && s.ActiveICMP == 0 &&
			s.TotalTCP >= 5 && s.TotalUDP == 5 && (s.TotalICMP >= 1 || !doPing)
	}))
	waitFor(t, "flow goroutines to exit", 5*time.Second, func() bool { return runtime.NumGoroutine() <= base1 })

	// Close releases everything the stack started.
	if err := e.stack.Close(); err != nil {
		t.Fatal(err)
	}
	e.ns.close()
	l.Close()
	u.Close()
	waitFor(t, "stack goroutines to exit", 5*time.Second, func() bool { return runtime.NumGoroutine() <= base0 })
}

// TestCloseDuringDial closes the stack while a host dial is hanging (the
// host listener's accept queue is full, so its SYNs go unanswered).
func TestCloseDuringDial(t *testing.T) {
	e := newEnv(t, envOpts{})
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := unix.Getsockname(fd)
	port := uint16(sa.(*unix.SockaddrInet4).Port)
	// Fill the accept queue.
	for i := 0; i < 2; i++ {
		d := net.Dialer{Timeout: 200 * time.Millisecond}
		if c, err := d.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			defer c.Close()
		}
	}
	errc := make(chan error, 1)
	go func() {
		_, err := e.dial("tcp4", netip.AddrPortFrom(stackAddr.Addr(), port).String(), nil)
		errc <- err
	}()
	time.Sleep(300 * time.Millisecond) // the stack is now dialling
	start := time.Now()
	if err := e.stack.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %v with a dial in flight", d)
	}
	if err := <-errc; err == nil {
		t.Fatal("dial through a closed stack succeeded")
	}
}

func TestMACAddress(t *testing.T) {
	hw, err := net.ParseMAC(MACAddress)
	if err != nil {
		t.Fatal(err)
	}
	if string(hw) != string(stackMAC) {
		t.Fatalf("MACAddress %s != stackMAC %v", MACAddress, stackMAC)
	}
	if hw[0]&1 != 0 || hw[0]&2 == 0 {
		t.Fatalf("%s must be a locally administered unicast address", MACAddress)
	}
}
