package netstack

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// ICMP echo is relayed through unprivileged ping sockets
// (socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP) and the ICMPv6 equivalent), one
// per echo flow (container address, echo identifier, destination). The kernel
// gives every ping socket its own identifier, so replies are matched to the
// flow by the socket they arrive on and the container's identifier is put
// back before the reply is written to the link.
//
// Echo requests to the stack's own addresses are left to gVisor, which
// answers them itself. Everything else addressed to a foreign address is
// consumed here, before gVisor could answer it: the stack never claims a
// destination is alive unless the host got a reply from it.

// icmpIdleTimeout is how long an echo flow keeps its ping socket without
// requests (a variable for tests).
var icmpIdleTimeout = 30 * time.Second

const (
	maxICMPFlows = 1024
	echoHdrLen   = 8 // type, code, checksum, identifier, sequence
)

type pingKey struct {
	src   netip.Addr // container address
	ident uint16     // the container's echo identifier
	dst   netip.Addr // destination as the container addressed it
}

type icmpState struct {
	mu           sync.Mutex
	flows        map[pingKey]*pingFlow
	deniedLogged atomic.Bool
}

func (st *icmpState) init() { st.flows = make(map[pingKey]*pingFlow) }

// pingFlow is one echo flow with its host ping socket.
type pingFlow struct {
	s    *Stack
	key  pingKey
	conn *net.UDPConn
	rc   interface {
		Write(func(uintptr) bool) error
	}
	target netip.Addr // host address that is pinged
	start  time.Time
	last   atomic.Int64 // time.Since(start) of the last request

	closeOnce sync.Once
}

func (f *pingFlow) close() { f.closeOnce.Do(func() { f.conn.Close() }) }

// handleICMP4 is the stack-wide default handler for ICMPv4 packets that no
// endpoint claimed; gVisor calls it for echo requests (and echo replies).
// Returning true stops gVisor from answering.
func (s *Stack) handleICMP4(_ stack.TransportEndpointID, pkt *stack.PacketBuffer) bool {
	ip := header.IPv4(pkt.NetworkHeader().Slice())
	if len(ip) < header.IPv4MinimumSize {
		return true
	}
	dst := ip.DestinationAddress()
	if s.isOwnAddr(dst) {
		return false // gVisor answers pings to its own address
	}
	h := header.ICMPv4(pkt.TransportHeader().Slice())
	if len(h) < header.ICMPv4MinimumSize || h.Type() != header.ICMPv4Echo || h.Code() != 0 {
		return true
	}
	// gVisor hands echo requests with bad checksums to handlers too.
	if checksum.Checksum(h, pkt.Data().Checksum()) != 0xffff {
		return true
	}
	s.forwardEcho(toNetip(ip.SourceAddress()), toNetip(dst), h.Ident(), h.Sequence(), pkt)
	return true
}

// handleICMP6 is handleICMP4 for ICMPv6 (gVisor has verified the checksum).
func (s *Stack) handleICMP6(_ stack.TransportEndpointID, pkt *stack.PacketBuffer) bool {
	ip := header.IPv6(pkt.NetworkHeader().Slice())
	if len(ip) < header.IPv6MinimumSize {
		return true
	}
	dst := ip.DestinationAddress()
	if s.isOwnAddr(dst) {
		return false
	}
	h := header.ICMPv6(pkt.TransportHeader().Slice())
	if len(h) < header.ICMPv6EchoMinimumSize || h.Type() != header.ICMPv6EchoRequest || h.Code() != 0 {
		return true
	}
	s.forwardEcho(toNetip(ip.SourceAddress()), toNetip(dst), h.Ident(), h.Sequence(), pkt)
	return true
}

// forwardEcho sends one echo request of the container through the flow's
// ping socket. It runs on the packet path and never blocks.
func (s *Stack) forwardEcho(src, dst netip.Addr, ident, seq uint16, pkt *stack.PacketBuffer) {
	if !s.unicastDst(dst) {
		return
	}
	key := pingKey{src: src, ident: ident, dst: dst}
	f := s.pingFlow(key)
	if f == nil {
		return
	}
	f.last.Store(int64(time.Since(f.start)))

	// Echo request as the host family wants it; the kernel fills in the
	// identifier and the checksum.
	th := pkt.TransportHeader().Slice()
	extra := th[min(len(th), echoHdrLen):] // transport header bytes past the echo header, if any
	msg := make([]byte, echoHdrLen, echoHdrLen+len(extra)+pkt.Data().Size())
	if f.target.Is4() {
		msg[0] = byte(header.ICMPv4Echo)
	} else {
		msg[0] = byte(header.ICMPv6EchoRequest)
	}
	binary.BigEndian.PutUint16(msg[6:], seq)
	msg = append(msg, extra...)
	msg = append(msg, pkt.Data().AsRange().ToSlice()...)

	var sa unix.Sockaddr
	if f.target.Is4() {
		sa = &unix.SockaddrInet4{Addr: f.target.As4()}
	} else {
		sa = &unix.SockaddrInet6{Addr: f.target.As16()}
	}
	var serr error
	if err := f.rc.Write(func(fd uintptr) bool {
		serr = unix.Sendto(int(fd), msg, unix.MSG_DONTWAIT, sa)
		return true // never wait: drop when the socket is full
	}); err != nil {
		serr = err
	}
	if serr != nil {
		s.logf("netstack: icmp echo %v -> %v (host %v): %v", src, dst, f.target, serr)
		return
	}
	s.st.echoSent.Add(1)
}

// pingFlow returns the flow for key, creating it (and its ping socket) if
// needed. It returns nil if the echo must be dropped.
func (s *Stack) pingFlow(key pingKey) *pingFlow {
	st := &s.icmp
	st.mu.Lock()
	defer st.mu.Unlock()
	if f := st.flows[key]; f != nil {
		return f
	}
	if len(st.flows) >= maxICMPFlows {
		s.st.limitDrops.Add(1)
		return nil
	}
	src := netip.AddrPortFrom(key.src, key.ident)
	dst := netip.AddrPortFrom(key.dst, 0)
	host, err := s.outbound(ProtoICMP, src, dst)
	if err != nil {
		s.st.refused.Add(1)
		s.logf("netstack: icmp echo %v -> %v refused: %v", key.src, key.dst, err)
		return nil
	}
	conn, err := openPingSocket(host.Addr().Is6())
	if err != nil {
		if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
			s.st.echoDenied.Add(1)
			if !st.deniedLogged.Swap(true) {
				s.logf("netstack: ping from containers needs sysctl net.ipv4.ping_group_range to include gid %d (it is %q); "+
					"ICMP echo requests from containers are dropped until then", os.Getegid(), pingGroupRange())
			}
			return nil
		}
		s.st.dialFailed.Add(1)
		s.logf("netstack: icmp echo %v -> %v: ping socket: %v", key.src, key.dst, err)
		return nil
	}
	rc, err := conn.SyscallConn()
	if err != nil {
		conn.Close()
		return nil
	}
	f := &pingFlow{s: s, key: key, conn: conn, rc: rc, target: host.Addr(), start: time.Now()}
	fc := s.register(f.close)
	if fc == nil {
		conn.Close()
		return nil
	}
	st.flows[key] = f
	s.st.totalICMP.Add(1)
	s.st.activeICMP.Add(1)
	go func() {
		f.readReplies()
		f.close()
		st.mu.Lock()
		if st.flows[key] == f {
			delete(st.flows, key)
		}
		st.mu.Unlock()
		s.st.activeICMP.Add(-1)
		s.unregister(fc)
	}()
	return f
}

// readReplies writes the echo replies arriving on the ping socket back to
// the container until the flow is idle for icmpIdleTimeout or closed.
func (f *pingFlow) readReplies() {
	buf := make([]byte, 1<<16)
	for {
		f.conn.SetReadDeadline(f.start.Add(time.Duration(f.last.Load()) + icmpIdleTimeout))
		n, _, err := f.conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				if time.Since(f.start)-time.Duration(f.last.Load()) >= icmpIdleTimeout {
					return
				}
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // e.g. an ICMP error queued on the socket
		}
		if n < echoHdrLen {
			continue
		}
		m := buf[:n]
		if (f.target.Is4() && m[0] != byte(header.ICMPv4EchoReply)) ||
			(f.target.Is6() && m[0] != byte(header.ICMPv6EchoReply)) || m[1] != 0 {
			continue
		}
		seq := binary.BigEndian.Uint16(m[6:8])
		if err := f.s.writeEchoReply(f.key, seq, m[echoHdrLen:]); err != nil {
			f.s.logf("netstack: icmp echo reply %v -> %v: %v", f.key.dst, f.key.src, err)
			continue
		}
		f.s.st.echoReceived.Add(1)
	}
}

// writeEchoReply sends an echo reply from key.dst to the container.
func (s *Stack) writeEchoReply(key pingKey, seq uint16, payload []byte) error {
	netProto := ipv4.ProtocolNumber
	var local, remote tcpip.Address
	if key.src.Is4() {
		local, remote = tcpip.AddrFrom4(key.dst.As4()), tcpip.AddrFrom4(key.src.As4())
	} else {
		netProto = ipv6.ProtocolNumber
		local, remote = tcpip.AddrFrom16(key.dst.As16()), tcpip.AddrFrom16(key.src.As16())
	}
	r, terr := s.ipstack.FindRoute(nicID, local, remote, netProto, false)
	if terr != nil {
		return errors.New(terr.String())
	}
	defer r.Release()
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{
		ReserveHeaderBytes: int(r.MaxHeaderLength()) + echoHdrLen,
		Payload:            buffer.MakeWithData(payload),
	})
	defer pkt.DecRef()
	var proto tcpip.TransportProtocolNumber
	if netProto == ipv4.ProtocolNumber {
		proto = header.ICMPv4ProtocolNumber
		h := header.ICMPv4(pkt.TransportHeader().Push(echoHdrLen))
		h.SetType(header.ICMPv4EchoReply)
		h.SetCode(0)
		h.SetIdent(key.ident)
		h.SetSequence(seq)
		h.SetChecksum(0)
		h.SetChecksum(^checksum.Checksum(h, pkt.Data().Checksum()))
	} else {
		proto = header.ICMPv6ProtocolNumber
		h := header.ICMPv6(pkt.TransportHeader().Push(echoHdrLen))
		h.SetType(header.ICMPv6EchoReply)
		h.SetCode(0)
		h.SetIdent(key.ident)
		h.SetSequence(seq)
		h.SetChecksum(0)
		h.SetChecksum(header.ICMPv6Checksum(header.ICMPv6ChecksumParams{
			Header:      h,
			Src:         r.LocalAddress(),
			Dst:         r.RemoteAddress(),
			PayloadCsum: pkt.Data().Checksum(),
			PayloadLen:  pkt.Data().Size(),
		}))
	}
	pkt.TransportProtocolNumber = proto
	if terr := r.WritePacket(stack.NetworkHeaderParams{Protocol: proto, TTL: r.DefaultTTL()}, pkt); terr != nil {
		return errors.New(terr.String())
	}
	return nil
}

// openPingSocket opens an unprivileged ICMP (or ICMPv6) datagram socket.
func openPingSocket(v6 bool) (*net.UDPConn, error) {
	family, proto := unix.AF_INET, unix.IPPROTO_ICMP
	if v6 {
		family, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	f := os.NewFile(uintptr(fd), "ping")
	c, err := net.FilePacketConn(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	uc, ok := c.(*net.UDPConn)
	if !ok {
		c.Close()
		return nil, errors.New("ping socket is not a datagram socket")
	}
	return uc, nil
}

func pingGroupRange() string {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ping_group_range")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b)), " ")
}
