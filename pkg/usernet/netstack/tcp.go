package netstack

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// Keepalive on the container side of relayed TCP connections, so that a flow
// whose container vanished without a RST (netns torn down) is eventually
// dropped even when the host side stays idle.
const (
	tcpKeepaliveIdle     = 2 * time.Minute
	tcpKeepaliveInterval = 30 * time.Second
	tcpKeepaliveCount    = 4
)

// relayBufSize is the copy buffer per direction of a TCP flow: large enough
// that a burst of 64 KiB segments moves with few syscalls. Buffers are taken
// from a pool only once data is ready to be read, so idle flows hold none.
const relayBufSize = 256 << 10

var relayBufPool = sync.Pool{New: func() any { b := make([]byte, relayBufSize); return &b }}

// handleTCP runs (on its own goroutine, started by the tcp.Forwarder) for
// every SYN that does not belong to an existing connection.
func (s *Stack) handleTCP(r *tcp.ForwarderRequest) {
	if !s.enter() {
		r.Complete(false) // closing: just release the request
		return
	}
	defer s.wg.Done()
	id := r.ID()
	src := netip.AddrPortFrom(toNetip(id.RemoteAddress), id.RemotePort)
	dst := netip.AddrPortFrom(toNetip(id.LocalAddress), id.LocalPort)

	host, err := s.outbound(ProtoTCP, src, dst)
	if err != nil {
		s.st.refused.Add(1)
		s.logf("netstack: tcp %v -> %v refused: %v", src, dst, err)
		r.Complete(true)
		return
	}

	// Dial first, complete the handshake with the container afterwards: a
	// host that refuses becomes a RST to the container, like a direct
	// connection would.
	ctx, cancel := context.WithTimeout(s.ctx, tcpDialTimeout)
	d := net.Dialer{}
	c, err := d.DialContext(ctx, "tcp", host.String())
	cancel()
	if err != nil {
		s.st.dialFailed.Add(1)
		s.logf("netstack: tcp %v -> %v (host %v): %v", src, dst, host, err)
		r.Complete(true)
		return
	}
	hc := c.(*net.TCPConn)

	var wq waiter.Queue
	ep, terr := r.CreateEndpoint(&wq)
	r.Complete(false)
	if terr != nil {
		// The container gave up (RST) or the handshake failed.
		s.logf("netstack: tcp %v -> %v: handshake: %v", src, dst, terr)
		hc.SetLinger(0)
		hc.Close()
		return
	}
	so := ep.SocketOptions()
	so.SetKeepAlive(true)
	idle := tcpip.KeepaliveIdleOption(tcpKeepaliveIdle)
	intvl := tcpip.KeepaliveIntervalOption(tcpKeepaliveInterval)
	ep.SetSockOpt(&idle)
	ep.SetSockOpt(&intvl)
	ep.SetSockOptInt(tcpip.KeepaliveCountOption, tcpKeepaliveCount)

	gc := gonet.NewTCPConn(&wq, ep)
	f := &tcpFlow{s: s, gc: gc, ep: ep, hc: hc, h2cDone: make(chan struct{})}
	fc := s.register(f.abort)
	if fc == nil {
		f.abort()
		return
	}
	s.st.totalTCP.Add(1)
	s.st.activeTCP.Add(1)
	defer func() {
		s.st.activeTCP.Add(-1)
		s.unregister(fc)
	}()
	f.relay(&wq)
}

// tcpFlow relays one TCP connection between the container (gVisor endpoint)
// and the host socket.
type tcpFlow struct {
	s  *Stack
	gc *gonet.TCPConn
	ep tcpip.Endpoint
	hc *net.TCPConn

	h2cDone   chan struct{} // closed when hostToContainer has returned
	h2cEOF    atomic.Bool   // the host sent EOF (set before the FIN goes to the container)
	abortOnce sync.Once
}

// abort tears both sides down with RSTs.
func (f *tcpFlow) abort() {
	f.abortOnce.Do(func() {
		f.hc.SetLinger(0)
		f.hc.Close()
		f.ep.Abort()
	})
}

// relay copies both ways until both directions are finished. EOF on one side
// becomes a half-close (FIN) on the other; an error (RST, timeout) on either
// side aborts both.
func (f *tcpFlow) relay(wq *waiter.Queue) {
	done := make(chan bool, 1)
	go func() {
		ok := f.hostToContainer()
		close(f.h2cDone)
		done <- ok
	}()
	ok1 := f.containerToHost(wq)
	ok2 := <-done
	if ok1 && ok2 {
		f.hc.Close()
		f.gc.Close()
		return
	}
	f.abort()
}

// containerToHost moves bytes from the gVisor endpoint to the host socket.
func (f *tcpFlow) containerToHost(wq *waiter.Queue) bool {
	entry, notify := waiter.NewChannelEntry(waiter.ReadableEvents | waiter.EventHUp | waiter.EventErr)
	wq.EventRegister(&entry)
	defer wq.EventUnregister(&entry)
	for {
		bp := relayBufPool.Get().(*[]byte)
		w := tcpip.SliceWriter(*bp)
		res, err := f.ep.Read(&w, tcpip.ReadOptions{})
		switch err.(type) {
		case nil:
		case *tcpip.ErrWouldBlock:
			relayBufPool.Put(bp)
			<-notify
			continue
		case *tcpip.ErrClosedForReceive:
			relayBufPool.Put(bp)
			f.hc.CloseWrite()
			// The container half-closed. Keep watching its side while
			// host->container is still open: if the container dies
			// (reset, keepalive timeout) nothing else would notice until
			// the host sends something.
			for {
				select {
				case <-notify:
				case <-f.h2cDone:
					return true
				}
				if f.h2cEOF.Load() {
					return true // the flow is finishing normally
				}
				if te, ok := f.ep.(*tcp.Endpoint); ok {
					if st := te.EndpointState(); st == tcp.StateError || st == tcp.StateClose {
						f.abort() // reset or keepalive timeout
						return false
					}
				}
			}
		default:
			relayBufPool.Put(bp)
			f.abort()
			return false
		}
		f.ep.ModerateRecvBuf(res.Count)
		_, werr := f.hc.Write((*bp)[:res.Count])
		relayBufPool.Put(bp)
		if werr != nil {
			f.abort()
			return false
		}
	}
}

// hostToContainer moves bytes from the host socket to the gVisor endpoint.
func (f *tcpFlow) hostToContainer() bool {
	rc, err := f.hc.SyscallConn()
	if err != nil {
		f.abort()
		return false
	}
	for {
		var (
			bp   *[]byte
			n    int
			rerr error
		)
		err := rc.Read(func(fd uintptr) bool {
			bp = relayBufPool.Get().(*[]byte)
			for {
				n, rerr = unix.Read(int(fd), *bp)
				if rerr != unix.EINTR {
					break
				}
			}
			if rerr == unix.EAGAIN {
				relayBufPool.Put(bp)
				bp = nil
				return false // wait until readable, without holding a buffer
			}
			return true
		})
		if err == nil && rerr != nil {
			err = rerr
		}
		if err != nil || n <= 0 {
			if bp != nil {
				relayBufPool.Put(bp)
			}
			if err == nil && n == 0 { // EOF
				f.h2cEOF.Store(true)
				f.gc.CloseWrite()
				return true
			}
			f.abort()
			return false
		}
		_, werr := f.gc.Write((*bp)[:n])
		relayBufPool.Put(bp)
		if werr != nil {
			f.abort()
			return false
		}
	}
}
