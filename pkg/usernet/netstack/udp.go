package netstack

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// datagramBufPool holds buffers big enough for any UDP payload; a flow takes
// one only while a datagram is being moved.
var datagramBufPool = sync.Pool{New: func() any { b := make([]byte, 1<<16); return &b }}

// handleUDP is the gVisor UDP forwarder handler: it runs on the packet path
// for every datagram that matches no existing flow endpoint. Returning false
// makes gVisor answer with ICMP port unreachable.
func (s *Stack) handleUDP(r *udp.ForwarderRequest) bool {
	id := r.ID()
	src := netip.AddrPortFrom(toNetip(id.RemoteAddress), id.RemotePort)
	dst := netip.AddrPortFrom(toNetip(id.LocalAddress), id.LocalPort)
	if !s.unicastDst(dst.Addr()) {
		return true // broadcast/multicast: not a flow, drop silently
	}
	if s.st.activeUDP.Load() >= maxUDPFlows {
		s.st.limitDrops.Add(1)
		return true
	}
	host, err := s.outbound(ProtoUDP, src, dst)
	if err != nil {
		s.st.refused.Add(1)
		s.logf("netstack: udp %v -> %v refused: %v", src, dst, err)
		return false
	}
	hc, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(host))
	if err != nil {
		s.st.dialFailed.Add(1)
		s.logf("netstack: udp %v -> %v (host %v): %v", src, dst, host, err)
		return true
	}
	var wq waiter.Queue
	ep, terr := r.CreateEndpoint(&wq)
	if terr != nil {
		hc.Close()
		s.logf("netstack: udp %v -> %v: endpoint: %v", src, dst, terr)
		return true
	}
	idle := s.udpIdle
	if dst.Port() == 53 && idle > dnsIdleTimeout {
		idle = dnsIdleTimeout
	}
	f := &udpFlow{s: s, ep: ep, wq: &wq, hc: hc, idle: idle, start: time.Now()}
	fc := s.register(f.close)
	if fc == nil {
		f.close()
		return true
	}
	s.st.totalUDP.Add(1)
	s.st.activeUDP.Add(1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f.containerToHost()
	}()
	go func() {
		f.hostToContainer()
		f.close()
		s.st.activeUDP.Add(-1)
		s.unregister(fc)
	}()
	return true
}

// unicastDst reports whether a flow towards a may be forwarded: not
// multicast, not a broadcast, not unspecified.
func (s *Stack) unicastDst(a netip.Addr) bool {
	if !a.IsValid() || a.IsUnspecified() || a.IsMulticast() {
		return false
	}
	if a.Is4() {
		if a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			return false
		}
		// Directed broadcast of the link's subnet.
		p := s.cfg.Addr.Masked()
		b := p.Addr().As4()
		hostBits := 32 - p.Bits()
		for i := 3; i >= 0 && hostBits > 0; i-- {
			n := min(hostBits, 8)
			b[i] |= byte(1<<n - 1)
			hostBits -= n
		}
		if p.Bits() < 31 && a == netip.AddrFrom4(b) {
			return false
		}
	}
	return true
}

// udpFlow relays one UDP flow: datagrams from the container (gVisor endpoint
// bound to dst and connected to the container's src) go out through a
// connected host socket, and replies come back the same way.
type udpFlow struct {
	s     *Stack
	ep    tcpip.Endpoint
	wq    *waiter.Queue
	hc    *net.UDPConn
	idle  time.Duration
	start time.Time
	last  atomic.Int64 // time of the last datagram, as time.Since(start)

	closeOnce sync.Once
}

func (f *udpFlow) touch() { f.last.Store(int64(time.Since(f.start))) }

func (f *udpFlow) close() {
	f.closeOnce.Do(func() {
		f.hc.Close()
		f.ep.Close()
	})
}

func (f *udpFlow) containerToHost() {
	entry, notify := waiter.NewChannelEntry(waiter.ReadableEvents | waiter.EventHUp | waiter.EventErr)
	f.wq.EventRegister(&entry)
	defer f.wq.EventUnregister(&entry)
	for {
		bp := datagramBufPool.Get().(*[]byte)
		w := tcpip.SliceWriter(*bp)
		res, err := f.ep.Read(&w, tcpip.ReadOptions{})
		switch err.(type) {
		case nil:
		case *tcpip.ErrWouldBlock:
			datagramBufPool.Put(bp)
			<-notify
			continue
		default: // closed
			datagramBufPool.Put(bp)
			f.close()
			return
		}
		f.touch()
		_, werr := f.hc.Write((*bp)[:res.Count])
		datagramBufPool.Put(bp)
		if werr != nil && errors.Is(werr, net.ErrClosed) {
			f.close()
			return
		}
		// Other write errors (e.g. ECONNREFUSED left over from an earlier
		// datagram): the datagram is lost, the flow goes on.
	}
}

// hostToContainer relays replies and enforces the idle timeout: it returns
// when the flow was idle for f.idle or was closed.
func (f *udpFlow) hostToContainer() {
	rc, err := f.hc.SyscallConn()
	if err != nil {
		return
	}
	for {
		f.hc.SetReadDeadline(f.start.Add(time.Duration(f.last.Load()) + f.idle))
		var (
			bp   *[]byte
			n    int
			rerr error
		)
		err := rc.Read(func(fd uintptr) bool {
			bp = datagramBufPool.Get().(*[]byte)
			for {
				n, rerr = unix.Read(int(fd), *bp)
				if rerr != unix.EINTR {
					break
				}
			}
			if rerr == unix.EAGAIN {
				datagramBufPool.Put(bp)
				bp = nil
				return false
			}
			return true
		})
		if err != nil {
			if bp != nil {
				datagramBufPool.Put(bp)
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				if time.Since(f.start)-time.Duration(f.last.Load()) >= f.idle {
					return
				}
				continue
			}
			return
		}
		if rerr != nil {
			datagramBufPool.Put(bp)
			if rerr == unix.ECONNREFUSED {
				// An earlier datagram drew a port unreachable from
				// the host side; keep the flow until idle.
				continue
			}
			return
		}
		f.touch()
		var r bytes.Reader
		r.Reset((*bp)[:n])
		_, terr := f.ep.Write(&r, tcpip.WriteOptions{})
		datagramBufPool.Put(bp)
		if terr != nil {
			switch terr.(type) {
			case *tcpip.ErrClosedForSend, *tcpip.ErrInvalidEndpointState:
				return
			}
			// Other errors (no route yet, buffer full): drop the datagram.
		}
	}
}
