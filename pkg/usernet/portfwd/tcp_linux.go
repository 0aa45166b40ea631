package portfwd

import (
	"errors"
	"net"
	"time"
)

// tcpConn is one forwarded connection: the accepted client and, once
// connected, the transparent connection to the container.
type tcpConn struct {
	client *net.TCPConn
	target *net.TCPConn // set under Listener.mu
}

// acceptLoop accepts clients until the listener closes. Accept errors
// other than closing (EMFILE, ENFILE, ENOBUFS...) are retried after a
// growing pause, so a published port never dies of a transient shortage.
func (l *Listener) acceptLoop() {
	defer l.wg.Done()
	var delay time.Duration
	for {
		c, err := l.tcp.AcceptTCP()
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
		tc := &tcpConn{client: c}
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			c.Close()
			return
		}
		l.conns[tc] = struct{}{}
		l.wg.Add(1)
		l.mu.Unlock()
		go l.serveTCP(tc)
	}
}

// serveTCP connects an accepted client to the container and relays
// between them until both sides are done.
func (l *Listener) serveTCP(tc *tcpConn) {
	defer l.wg.Done()
	defer func() {
		l.mu.Lock()
		delete(l.conns, tc)
		l.mu.Unlock()
	}()

	ra, _ := tc.client.RemoteAddr().(*net.TCPAddr)
	if ra == nil {
		tc.client.Close()
		return
	}
	c, err := l.dial(unmapAP(ra.AddrPort()))
	if err != nil {
		// Refused, unreachable or timed out: reset the client, as it
		// would have been reset had it reached the container directly.
		tc.client.SetLinger(0)
		tc.client.Close()
		return
	}
	target := c.(*net.TCPConn)

	l.mu.Lock()
	closed := l.closed
	if !closed {
		tc.target = target
	}
	l.mu.Unlock()
	if closed {
		target.Close()
		tc.client.Close()
		return
	}
	relay(tc.client, target)
}

// relay copies both ways between a and b, passing a FIN on (CloseWrite)
// when a side ends its stream, and returns when both directions are done,
// having closed both connections. A failed direction (a reset, a write to
// a dead peer, or Listener.Close) resets both sides, which also ends the
// other direction.
//
// Both ends are *net.TCPConn, so TCPConn.ReadFrom moves the data with
// splice(2), without copying it through user space.
func relay(a, b *net.TCPConn) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		half(b, a)
	}()
	half(a, b)
	<-done
	a.Close()
	b.Close()
}

// half copies src to dst until src's EOF, then closes dst for writing.
func half(dst, src *net.TCPConn) {
	if _, err := dst.ReadFrom(src); err != nil {
		src.SetLinger(0)
		dst.SetLinger(0)
		src.Close()
		dst.Close()
		return
	}
	dst.CloseWrite()
}
