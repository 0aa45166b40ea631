package netstack

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// Proto names the transport protocol of a flow passed to Config.Outbound.
type Proto string

// Protocols of flows passed to Config.Outbound.
const (
	// ProtoTCP is a TCP connection; src and dst carry the ports.
	ProtoTCP Proto = "tcp"
	// ProtoUDP is a UDP flow (one container addr:port to one dst addr:port).
	ProtoUDP Proto = "udp"
	// ProtoICMP is an ICMP / ICMPv6 echo flow. The src port is the echo
	// identifier the container chose, the dst port is 0; the port of the
	// returned address is ignored.
	ProtoICMP Proto = "icmp"
)

// DefaultMTU is the MTU used when Config.MTU is 0. It must match the MTU of
// the TAP device in the infra netns.
const DefaultMTU = 65520

// DefaultUDPIdleTimeout is how long a UDP flow may stay idle (no datagram in
// either direction) before its host socket is closed.
const DefaultUDPIdleTimeout = 60 * time.Second

// Config configures Start.
type Config struct {
	// FD is the TAP file descriptor (opened with IFF_TAP|IFF_NO_PI, plus
	// IFF_VNET_HDR if and only if VnetHdr is set), already configured and up.
	// Start always takes ownership, even when it fails: the stack uses it
	// until Close, and Close (or a failing Start) closes it. The caller must
	// not close, read or write it afterwards. Start makes it non-blocking.
	FD int
	// MTU is the IP MTU of the link; it must equal the TAP device's MTU.
	// 0 means DefaultMTU (65520). Frames are at most MTU+14 bytes.
	MTU uint32
	// Addr is the stack's own address on the link and the link's prefix,
	// e.g. 10.0.2.2/24. Required, IPv4. In promiscuous mode the stack also
	// answers ARP (and NDP) for the other addresses of the prefix, so flows to
	// e.g. 10.0.2.3 reach Outbound like any other destination.
	Addr netip.Prefix
	// Peer is the infra netns end of the link (the next hop towards every
	// container address), e.g. 10.0.2.100. Required, IPv4.
	Peer netip.Addr
	// Addr6 is the optional IPv6 equivalent of Addr, e.g.
	// fd72:7275:6e00:2::2/64. An invalid (zero) prefix disables IPv6.
	Addr6 netip.Prefix
	// Peer6 is the IPv6 next hop towards the containers, e.g.
	// fd72:7275:6e00:2::100. Required when Addr6 is valid.
	Peer6 netip.Addr
	// Outbound decides, for each new flow a container starts, where to
	// connect on the host: it returns the host address to dial (usually dst
	// itself; e.g. 10.0.2.2:80 may be mapped to 127.0.0.1:80 or to the host's
	// own IP) or an error to refuse the flow (TCP: RST; UDP: ICMP port
	// unreachable; ICMP echo: dropped). src is the container's address as seen
	// on the link (for traffic from the infra netns itself that is Peer).
	// Called once per flow (a refused UDP or ICMP flow is asked again on its
	// next packet), concurrently from many goroutines. For UDP and ICMP it
	// runs on the packet path, so it must be quick (no blocking I/O); Close
	// waits for calls in progress. Required.
	Outbound func(proto Proto, src, dst netip.AddrPort) (netip.AddrPort, error)
	// Logf, if set, receives debug and warning messages (one line each,
	// without trailing newline), concurrently from many goroutines.
	Logf func(format string, args ...any)
	// VnetHdr says the TAP was opened with IFF_VNET_HDR (recommended). The
	// stack then enables checksum and TCP segmentation offload on the TAP
	// (TUNSETOFFLOAD) and exchanges virtio-net headers with the kernel: no
	// TCP/UDP checksums are computed or verified in software, and TCP moves
	// as 64 KiB super-segments in both directions even when the containers'
	// path MTU is small (e.g. 1500-byte bridges), instead of one frame per
	// MSS. It must match how the TAP was opened (checked with TUNGETIFF).
	VnetHdr bool
	// UDPIdleTimeout is how long a UDP flow may be idle before it is dropped.
	// 0 means DefaultUDPIdleTimeout (60s). Flows to port 53 use at most 10s.
	UDPIdleTimeout time.Duration
}

// Stats are counters of a Stack, mostly useful for tests and debugging.
type Stats struct {
	// ActiveTCP is the number of TCP flows currently relayed.
	ActiveTCP int64
	// ActiveUDP is the number of UDP flows that currently have a host socket.
	ActiveUDP int64
	// ActiveICMP is the number of echo flows that currently have a ping socket.
	ActiveICMP int64
	// TotalTCP counts TCP flows accepted (host dial succeeded) since Start.
	TotalTCP uint64
	// TotalUDP counts UDP flows created since Start.
	TotalUDP uint64
	// TotalICMP counts echo flows (ping sockets) created since Start.
	TotalICMP uint64
	// Refused counts flows refused by Config.Outbound (all protocols).
	Refused uint64
	// DialFailed counts TCP flows that Outbound allowed but whose host dial
	// failed (answered with a RST), and UDP/ICMP host socket failures.
	DialFailed uint64
	// LimitDrops counts new flows dropped because a concurrency limit was hit.
	LimitDrops uint64
	// ICMPEchoSent counts echo requests sent through host ping sockets.
	ICMPEchoSent uint64
	// ICMPEchoReceived counts echo replies received on host ping sockets and
	// written back to containers.
	ICMPEchoReceived uint64
	// ICMPDenied counts echo requests dropped because the host does not
	// permit ping sockets for our group (net.ipv4.ping_group_range).
	ICMPDenied uint64
	// Malformed counts frames/packets dropped as malformed: by the link
	// endpoint (runt frames) and by gVisor's IP/TCP/UDP/ICMP validation.
	Malformed uint64
	// RxFrames and TxFrames count frames read from / written to the TAP.
	RxFrames, TxFrames uint64
	// TxErrors counts frames that could not be written to the TAP.
	TxErrors uint64
}

const nicID tcpip.NICID = 1

// Stack is a running user-mode network stack attached to a TAP fd.
type Stack struct {
	cfg     Config
	logf    func(format string, args ...any)
	ipstack *stack.Stack
	link    *tapLink
	ctx     context.Context
	cancel  context.CancelFunc

	addr4, addr6 tcpip.Address // own addresses (addr6 zero when no IPv6)

	mu     sync.Mutex
	closed bool
	flows  map[*flowCloser]struct{}
	wg     sync.WaitGroup // flow goroutines

	udpIdle time.Duration

	icmp icmpState

	closeOnce sync.Once
	closeErr  error

	st struct {
		activeTCP, activeUDP, activeICMP   atomic.Int64
		totalTCP, totalUDP, totalICMP      atomic.Uint64
		refused, dialFailed, limitDrops    atomic.Uint64
		echoSent, echoReceived, echoDenied atomic.Uint64
	}
}

// flowCloser is registered by every flow so that Close can tear it down.
type flowCloser struct{ close func() }

// Start builds the stack on cfg.FD and starts serving. cfg.FD is owned by
// the stack from here on, also when Start fails (it is then closed).
func Start(cfg Config) (*Stack, error) {
	s, err := start(cfg)
	if err != nil {
		if s == nil || s.link == nil {
			// The link endpoint never wrapped the fd; close it here.
			if cfg.FD >= 0 {
				unix.Close(cfg.FD)
			}
		}
		return nil, err
	}
	return s, nil
}

// start does the work of Start. On failure after the link endpoint took the
// fd, it closes the fd and returns the (unusable) Stack with s.link set.
func start(cfg Config) (*Stack, error) {
	if cfg.MTU == 0 {
		cfg.MTU = DefaultMTU
	}
	if cfg.MTU < 1280 || cfg.MTU > 65535-header.EthernetMinimumSize {
		return nil, fmt.Errorf("netstack: MTU %d out of range [1280, %d]", cfg.MTU, 65535-header.EthernetMinimumSize)
	}
	if !cfg.Addr.IsValid() || !cfg.Addr.Addr().Is4() {
		return nil, fmt.Errorf("netstack: Addr %v must be an IPv4 prefix", cfg.Addr)
	}
	if !cfg.Peer.Is4() || !cfg.Addr.Contains(cfg.Peer) {
		return nil, fmt.Errorf("netstack: Peer %v must be an IPv4 address inside %v", cfg.Peer, cfg.Addr)
	}
	if cfg.Addr6.IsValid() {
		if !cfg.Addr6.Addr().Is6() || cfg.Addr6.Addr().Is4In6() {
			return nil, fmt.Errorf("netstack: Addr6 %v must be an IPv6 prefix", cfg.Addr6)
		}
		if !cfg.Peer6.Is6() || !cfg.Addr6.Contains(cfg.Peer6) {
			return nil, fmt.Errorf("netstack: Peer6 %v must be an IPv6 address inside %v", cfg.Peer6, cfg.Addr6)
		}
	}
	if cfg.Outbound == nil {
		return nil, errors.New("netstack: Outbound is required")
	}
	if cfg.FD < 0 {
		return nil, fmt.Errorf("netstack: bad FD %d", cfg.FD)
	}
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	s := &Stack{
		cfg:     cfg,
		logf:    logf,
		flows:   make(map[*flowCloser]struct{}),
		udpIdle: cfg.UDPIdleTimeout,
	}
	if s.udpIdle <= 0 {
		s.udpIdle = DefaultUDPIdleTimeout
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())

	link, err := newTapLink(cfg.FD, cfg.MTU, cfg.VnetHdr, logf)
	if err != nil {
		s.cancel()
		return nil, err
	}
	s.link = link
	// From here on link owns the fd; failures close it through link.close.

	netProtos := []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol}
	transProtos := []stack.TransportProtocolFactory{tcp.NewProtocolCUBIC, udp.NewProtocol, icmp.NewProtocol4}
	if cfg.Addr6.IsValid() {
		netProtos = append(netProtos, ipv6.NewProtocolWithOptions(ipv6.Options{
			// The link has exactly two ends, both configured statically:
			// no DAD delay, no SLAAC, no router discovery.
			DADConfigs: stack.DADConfigurations{DupAddrDetectTransmits: 0},
			NDPConfigs: ipv6.NDPConfigurations{},
		}))
		transProtos = append(transProtos, icmp.NewProtocol6)
	}
	ips := stack.New(stack.Options{
		NetworkProtocols:   netProtos,
		TransportProtocols: transProtos,
		HandleLocal:        false,
	})
	s.ipstack = ips
	fail := func(format string, args ...any) (*Stack, error) {
		ips.Close()
		link.close()
		ips.Wait()
		ips.Destroy()
		s.cancel()
		return s, fmt.Errorf("netstack: "+format, args...)
	}

	// TCP tuning: large buffers (auto-tuned by receive buffer moderation),
	// SACK, CUBIC. These are upper bounds; a flow only uses what it needs.
	for _, opt := range []tcpip.SettableTransportProtocolOption{
		ptr(tcpip.TCPSACKEnabled(true)),
		ptr(tcpip.TCPModerateReceiveBufferOption(true)),
		&tcpip.TCPReceiveBufferSizeRangeOption{Min: tcp.MinBufferSize, Default: tcpRcvBufDefault, Max: tcpBufMax},
		&tcpip.TCPSendBufferSizeRangeOption{Min: tcp.MinBufferSize, Default: tcpSndBufDefault, Max: tcpBufMax},
		ptr(tcpip.TCPTimeWaitTimeoutOption(5 * time.Second)),
	} {
		if err := ips.SetTransportProtocolOption(tcp.ProtocolNumber, opt); err != nil {
			return fail("setting TCP option %T: %v", opt, err)
		}
	}

	// Handlers and everything they read are set up before the NIC exists:
	// creating it starts the link's read loop.
	s.addr4 = tcpip.AddrFrom4(cfg.Addr.Addr().As4())
	if cfg.Addr6.IsValid() {
		s.addr6 = tcpip.AddrFrom16(cfg.Addr6.Addr().As16())
	}
	s.icmp.init()
	tcpFwd := tcp.NewForwarder(ips, 0, tcpMaxInFlight, s.handleTCP)
	ips.SetTransportProtocolHandler(tcp.ProtocolNumber, tcpFwd.HandlePacket)
	udpFwd := udp.NewForwarder(ips, s.handleUDP)
	ips.SetTransportProtocolHandler(udp.ProtocolNumber, udpFwd.HandlePacket)
	ips.SetTransportProtocolHandler(icmp.ProtocolNumber4, s.handleICMP4)
	if cfg.Addr6.IsValid() {
		ips.SetTransportProtocolHandler(icmp.ProtocolNumber6, s.handleICMP6)
	}

	// Disabled until configured: frames read meanwhile are dropped.
	if err := ips.CreateNICWithOptions(nicID, link, stack.NICOptions{Name: "tap", Disabled: true}); err != nil {
		return fail("creating NIC: %v", err)
	}
	// Promiscuous: accept packets for any destination address (the flows
	// containers start towards the world). Spoofing: send replies from those
	// addresses.
	if err := ips.SetPromiscuousMode(nicID, true); err != nil {
		return fail("promiscuous mode: %v", err)
	}
	if err := ips.SetSpoofing(nicID, true); err != nil {
		return fail("spoofing: %v", err)
	}

	if err := ips.AddProtocolAddress(nicID, tcpip.ProtocolAddress{
		Protocol:          ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: s.addr4, PrefixLen: cfg.Addr.Bits()},
	}, stack.AddressProperties{}); err != nil {
		return fail("adding %v: %v", cfg.Addr, err)
	}
	routes := []tcpip.Route{
		{Destination: tcpip.AddressWithPrefix{Address: s.addr4, PrefixLen: cfg.Addr.Bits()}.Subnet(), NIC: nicID},
		{Destination: header.IPv4EmptySubnet, Gateway: tcpip.AddrFrom4(cfg.Peer.As4()), NIC: nicID},
	}
	if cfg.Addr6.IsValid() {
		if err := ips.AddProtocolAddress(nicID, tcpip.ProtocolAddress{
			Protocol:          ipv6.ProtocolNumber,
			AddressWithPrefix: tcpip.AddressWithPrefix{Address: s.addr6, PrefixLen: cfg.Addr6.Bits()},
		}, stack.AddressProperties{}); err != nil {
			return fail("adding %v: %v", cfg.Addr6, err)
		}
		routes = append(routes,
			tcpip.Route{Destination: tcpip.AddressWithPrefix{Address: s.addr6, PrefixLen: cfg.Addr6.Bits()}.Subnet(), NIC: nicID},
			tcpip.Route{Destination: header.IPv6EmptySubnet, Gateway: tcpip.AddrFrom16(cfg.Peer6.As16()), NIC: nicID},
		)
	}
	ips.SetRouteTable(routes)

	if err := ips.EnableNIC(nicID); err != nil {
		return fail("enabling NIC: %v", err)
	}
	return s, nil
}

// Tunables.
const (
	tcpMaxInFlight   = 1024             // concurrent TCP handshakes (host dials) in progress
	tcpDialTimeout   = 30 * time.Second // host dial timeout before answering RST
	tcpRcvBufDefault = 1 << 20
	tcpSndBufDefault = 1 << 20
	tcpBufMax        = 8 << 20
	maxUDPFlows      = 4096
	dnsIdleTimeout   = 10 * time.Second
)

func ptr[T any](v T) *T { return &v }

// Close stops the stack: it closes the host sockets of all active flows,
// stops gVisor, waits for its goroutines and closes the TAP fd. It is safe to
// call more than once. It waits for Outbound calls in progress, so it must
// not be called while holding a lock that Outbound takes.
func (s *Stack) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		flows := make([]*flowCloser, 0, len(s.flows))
		for f := range s.flows {
			flows = append(flows, f)
		}
		s.mu.Unlock()
		s.cancel()
		for _, f := range flows {
			f.close()
		}
		s.ipstack.Close()
		s.wg.Wait()
		s.closeErr = s.link.close()
		s.ipstack.Wait()
		s.ipstack.Destroy()
	})
	return s.closeErr
}

// enter registers a goroutine that Close must wait for (call s.wg.Done when
// it ends); it returns false if the stack is closing.
func (s *Stack) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// register adds a flow's teardown function; it returns nil if the stack is
// closing (the caller must then tear the flow down itself).
func (s *Stack) register(close func()) *flowCloser {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	f := &flowCloser{close: close}
	s.flows[f] = struct{}{}
	s.wg.Add(1)
	return f
}

func (s *Stack) unregister(f *flowCloser) {
	s.mu.Lock()
	delete(s.flows, f)
	s.mu.Unlock()
	s.wg.Done()
}

// Stats returns a snapshot of the counters.
func (s *Stack) Stats() Stats {
	gs := s.ipstack.Stats()
	malformed := s.link.rxRunt.Load() +
		gs.IP.MalformedPacketsReceived.Value() +
		gs.IP.MalformedFragmentsReceived.Value() +
		gs.TCP.InvalidSegmentsReceived.Value() +
		gs.TCP.ChecksumErrors.Value() +
		gs.UDP.MalformedPacketsReceived.Value() +
		gs.UDP.ChecksumErrors.Value() +
		gs.ICMP.V4.PacketsReceived.Invalid.Value() +
		gs.ICMP.V6.PacketsReceived.Invalid.Value() +
		gs.NICs.MalformedL4RcvdPackets.Value()
	return Stats{
		ActiveTCP:        s.st.activeTCP.Load(),
		ActiveUDP:        s.st.activeUDP.Load(),
		ActiveICMP:       s.st.activeICMP.Load(),
		TotalTCP:         s.st.totalTCP.Load(),
		TotalUDP:         s.st.totalUDP.Load(),
		TotalICMP:        s.st.totalICMP.Load(),
		Refused:          s.st.refused.Load(),
		DialFailed:       s.st.dialFailed.Load(),
		LimitDrops:       s.st.limitDrops.Load(),
		ICMPEchoSent:     s.st.echoSent.Load(),
		ICMPEchoReceived: s.st.echoReceived.Load(),
		ICMPDenied:       s.st.echoDenied.Load(),
		Malformed:        malformed,
		RxFrames:         s.link.rxFrames.Load(),
		TxFrames:         s.link.txFrames.Load(),
		TxErrors:         s.link.txErrors.Load(),
	}
}

// isOwnAddr reports whether a is one of the stack's own addresses.
func (s *Stack) isOwnAddr(a tcpip.Address) bool {
	return a == s.addr4 || (s.addr6.Len() != 0 && a == s.addr6)
}

// toNetip converts a gVisor address to netip.
func toNetip(a tcpip.Address) netip.Addr {
	switch a.Len() {
	case 4:
		return netip.AddrFrom4(a.As4())
	case 16:
		return netip.AddrFrom16(a.As16())
	}
	return netip.Addr{}
}

// outbound calls cfg.Outbound and normalises the result.
func (s *Stack) outbound(p Proto, src, dst netip.AddrPort) (netip.AddrPort, error) {
	h, err := s.cfg.Outbound(p, src, dst)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if !h.Addr().IsValid() {
		return netip.AddrPort{}, fmt.Errorf("Outbound returned invalid address for %s %v->%v", p, src, dst)
	}
	return netip.AddrPortFrom(h.Addr().Unmap(), h.Port()), nil
}
