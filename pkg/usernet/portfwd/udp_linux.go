package portfwd

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// maxDatagram is the largest UDP payload (IPv6 jumbograms aside).
const maxDatagram = 65535

// bufPool holds datagram buffers. Session readers take one only when a
// datagram is ready (see session.recv), so thousands of idle sessions do
// not pin 64 KiB each.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, maxDatagram)
	return &b
}}

// session is one UDP client: a transparent socket connected to the
// container, bound to the source chosen for the client.
type session struct {
	key    netip.AddrPort // the client, unmapped; key of Listener.sessions
	client netip.AddrPort // the client as the host socket reports it
	conn   *net.UDPConn
	raw    syscall.RawConn
	last   atomic.Int64 // time.UnixNano of the last datagram either way
	reply  atomic.Pointer[replyFrom]
}

// replyFrom makes replies leave from the host address the client wrote
// to, which on a multi-homed host need not be the one routing would pick
// (a client's connected socket drops replies from any other).
type replyFrom struct {
	local   netip.Addr
	ifindex int
	oob     []byte // IP_PKTINFO/IPV6_PKTINFO control message; nil: none
}

func (s *session) touch() { s.last.Store(time.Now().UnixNano()) }

// enablePktinfo asks for the destination address of every datagram the
// wildcard-bound host socket receives, so replies can come from it. A dual
// stack socket gets IPV6_PKTINFO for IPv4 datagrams too (as IPv4-mapped
// addresses) and accepts it back for them. Failure only loses that
// refinement.
func (l *Listener) enablePktinfo() {
	rc, err := l.udp.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		domain, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN)
		if err != nil {
			return
		}
		if domain == unix.AF_INET {
			err = unix.SetsockoptInt(int(fd), unix.SOL_IP, unix.IP_PKTINFO, 1)
		} else {
			err = unix.SetsockoptInt(int(fd), unix.SOL_IPV6, unix.IPV6_RECVPKTINFO, 1)
		}
		if err == nil {
			l.pktinfo = domain
		}
	})
}

// udpLoop reads the host socket until the listener closes and hands each
// datagram to its client's session, creating sessions as clients appear.
func (l *Listener) udpLoop() {
	defer l.wg.Done()
	_ = l.udp.SetReadBuffer(1 << 20) // best effort, capped by net.core.rmem_max
	buf := make([]byte, maxDatagram)
	oob := make([]byte, 128)
	var delay time.Duration
	for {
		n, oobn, _, from, err := l.udp.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			l.loopErrors.Add(1)
			delay = backoff(delay)
			if !l.pause(delay) {
				return
			}
			continue
		}
		delay = 0
		s := l.sessionFor(from)
		if s == nil {
			continue // closing, too many sessions, or no way to the container
		}
		if l.pktinfo != 0 {
			s.noteLocal(l.pktinfo, oob[:oobn])
		}
		if _, err := s.conn.Write(buf[:n]); errors.Is(err, unix.ECONNREFUSED) {
			// The error was an earlier datagram's (ICMP port unreachable
			// from the container); this one was not sent yet.
			s.conn.Write(buf[:n])
		}
	}
}

// sessionFor returns the live session of a client, marked active, or a
// new one; nil when none can be had and the datagram must be dropped.
func (l *Listener) sessionFor(from netip.AddrPort) *session {
	key := unmapAP(from)
	l.mu.Lock()
	s := l.sessions[key]
	if s != nil {
		// Under the lock, so that expiry (which checks under it too)
		// cannot close a session that was just handed a datagram.
		s.touch()
	}
	refuse := l.closed || len(l.sessions) >= l.maxSessions
	l.mu.Unlock()
	if s != nil {
		return s
	}
	if refuse {
		return nil
	}

	c, err := l.dial(key)
	if err != nil {
		return nil
	}
	uc := c.(*net.UDPConn)
	raw, err := uc.SyscallConn()
	if err != nil {
		uc.Close()
		return nil
	}
	s = &session{key: key, client: from, conn: uc, raw: raw}
	s.touch()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		uc.Close()
		return nil
	}
	l.sessions[key] = s
	l.wg.Add(1)
	go l.serveSession(s)
	return s
}

// serveSession relays the container's datagrams back to the client, from
// the host socket, until the session has been idle for the idle timeout
// or is closed.
func (l *Listener) serveSession(s *session) {
	defer l.wg.Done()
	defer func() {
		l.mu.Lock()
		if l.sessions[s.key] == s {
			delete(l.sessions, s.key)
		}
		l.mu.Unlock()
		s.conn.Close()
	}()
	for {
		last := time.Unix(0, s.last.Load())
		if time.Since(last) >= l.idle && l.expire(s) {
			return
		}
		s.conn.SetReadDeadline(time.Unix(0, s.last.Load()).Add(l.idle))
		bp, n, err := s.recv()
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			continue // the loop checks whether the session is idle
		case errors.Is(err, unix.ECONNREFUSED):
			continue // ICMP port unreachable: the container's port is closed for now
		default:
			return // closed
		}
		s.touch()
		var oob []byte
		if r := s.reply.Load(); r != nil {
			oob = r.oob
		}
		if _, _, err := l.udp.WriteMsgUDPAddrPort((*bp)[:n], oob, s.client); err != nil && oob != nil {
			// The client wrote to an address we cannot reply from (a
			// subnet broadcast): let routing choose.
			l.udp.WriteMsgUDPAddrPort((*bp)[:n], nil, s.client)
		}
		bufPool.Put(bp)
	}
}

// expire removes an idle session, unless a datagram has just renewed it
// (both under the listener's lock, see sessionFor); it reports whether the
// session is gone.
func (l *Listener) expire(s *session) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Since(time.Unix(0, s.last.Load())) < l.idle {
		return false
	}
	if l.sessions[s.key] == s {
		delete(l.sessions, s.key)
	}
	// Closed under the lock: a new session of the same client may then
	// bind the same source port.
	s.conn.Close()
	return true
}

// recv reads one datagram from the container into a pooled buffer,
// taking the buffer only once a datagram is there. It honours the read
// deadline of s.conn.
func (s *session) recv() (*[]byte, int, error) {
	var (
		bp   *[]byte
		n    int
		rerr error
	)
	err := s.raw.Read(func(fd uintptr) bool {
		b := bufPool.Get().(*[]byte)
		for {
			n, rerr = unix.Read(int(fd), *b)
			if rerr != unix.EINTR {
				break
			}
		}
		if rerr == unix.EAGAIN {
			bufPool.Put(b)
			return false
		}
		if rerr != nil {
			bufPool.Put(b)
			rerr = os.NewSyscallError("read", rerr)
			return true
		}
		bp = b
		return true
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return nil, 0, err
	}
	return bp, n, nil
}

// noteLocal records from a datagram's IP_PKTINFO/IPV6_PKTINFO control
// message the host address the client wrote to.
func (s *session) noteLocal(family int, oob []byte) {
	local, ifindex, ok := parsePktinfo(oob)
	if !ok {
		return
	}
	if r := s.reply.Load(); r != nil && r.local == local && r.ifindex == ifindex {
		return
	}
	s.reply.Store(&replyFrom{local: local, ifindex: ifindex, oob: pktinfoOOB(family, local, ifindex)})
}

// parsePktinfo returns the local address of a received datagram: for
// IP_PKTINFO the "specific destination" (the host's unicast address even
// for a broadcast), for IPV6_PKTINFO the destination.
func parsePktinfo(oob []byte) (local netip.Addr, ifindex int, ok bool) {
	for len(oob) > 0 {
		h, data, rest, err := unix.ParseOneSocketControlMessage(oob)
		if err != nil {
			return netip.Addr{}, 0, false
		}
		oob = rest
		switch {
		case h.Level == unix.SOL_IP && h.Type == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo:
			// struct in_pktinfo { int ipi_ifindex; in_addr ipi_spec_dst, ipi_addr; }
			ifindex = int(int32(binary.NativeEndian.Uint32(data[0:4])))
			return netip.AddrFrom4([4]byte(data[4:8])), ifindex, true
		case h.Level == unix.SOL_IPV6 && h.Type == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			// struct in6_pktinfo { in6_addr ipi6_addr; unsigned ipi6_ifindex; }
			ifindex = int(binary.NativeEndian.Uint32(data[16:20]))
			return netip.AddrFrom16([16]byte(data[0:16])), ifindex, true
		}
	}
	return netip.Addr{}, 0, false
}

// pktinfoOOB builds the control message that sends a reply from local;
// nil for addresses no reply can come from (multicast, broadcast).
func pktinfoOOB(family int, local netip.Addr, ifindex int) []byte {
	u := local.Unmap()
	if !u.IsValid() || u.IsUnspecified() || u.IsMulticast() || u == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return nil
	}
	if family == unix.AF_INET {
		if !u.Is4() {
			return nil
		}
		return unix.PktInfo4(&unix.Inet4Pktinfo{Spec_dst: u.As4()})
	}
	info := unix.Inet6Pktinfo{Addr: local.As16()}
	if u.Is6() && u.IsLinkLocalUnicast() {
		info.Ifindex = uint32(ifindex)
	}
	return unix.PktInfo6(&info)
}
