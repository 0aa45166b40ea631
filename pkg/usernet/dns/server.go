package dns

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"

	mdns "github.com/miekg/dns"
)

// Records answers names local to one network.
type Records interface {
	// Lookup returns the addresses of a container name, network alias or id
	// prefix on this network (both families); ok=false when the name is not
	// local (then the query is forwarded). name is lower-case and has no
	// trailing dot: implementations compare case-insensitively (keep their
	// keys lower-cased).
	Lookup(name string) (addrs []netip.Addr, ok bool)
	// LookupAddr returns names for a container address on this network
	// (PTR), ok=false if unknown (then the query is forwarded). Names may be
	// given with or without the trailing dot.
	LookupAddr(addr netip.Addr) (names []string, ok bool)
}

// Server is the DNS resolver of one network. Set its fields, then call
// ServePacket and ServeStream (each as often as there are sockets, e.g. one
// per gateway address, concurrently); do not change the fields or copy the
// Server once serving has begun.
type Server struct {
	// Records answers local names; may be nil (the default bridge network:
	// no name resolution, as docker), then every query is forwarded.
	Records Records
	// Search are the host's search domains: a query for "name.<domain>"
	// that is not local itself is answered as "name" when <domain> is one
	// of these.
	Search []string
	// Upstreams are the host's resolvers, tried in order; a zero port
	// means 53.
	Upstreams []netip.AddrPort
	// Timeout bounds each attempt at one upstream (UDP, then TCP when
	// truncated); default 2 s.
	Timeout time.Duration
	// MaxConcurrent caps the forwards in flight (across all sockets) so a
	// flood cannot exhaust file descriptors; queries beyond it get
	// SERVFAIL at once. Default 256.
	MaxConcurrent int
	// Logf, if set, receives the server's (rate-limited) log lines.
	Logf func(string, ...any)

	idleTimeout time.Duration // TCP connection idle timeout; tests shorten it

	once    sync.Once
	sem     chan struct{} // forwards in flight
	conns   chan struct{} // TCP connections open
	logMu   sync.Mutex
	logLast map[string]time.Time
}

const (
	defaultTimeout       = 2 * time.Second
	defaultMaxConcurrent = 256
	defaultIdleTimeout   = 10 * time.Second
	maxStreamConns       = 256
	localTTL             = 600
	ourUDPSize           = 1232 // advertised in our own EDNS0 replies
	logInterval          = 30 * time.Second
)

func (s *Server) init() {
	s.once.Do(func() {
		n := s.MaxConcurrent
		if n <= 0 {
			n = defaultMaxConcurrent
		}
		s.sem = make(chan struct{}, n)
		s.conns = make(chan struct{}, maxStreamConns)
		s.logLast = map[string]time.Time{}
	})
}

func (s *Server) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return defaultTimeout
}

func (s *Server) idle() time.Duration {
	if s.idleTimeout > 0 {
		return s.idleTimeout
	}
	return defaultIdleTimeout
}

// logf logs at most once per logInterval per kind; kind "" is not limited.
// A kind starting with "once:" is logged only once in the Server's life.
func (s *Server) logf(kind, format string, args ...any) {
	if s.Logf == nil {
		return
	}
	if kind != "" {
		s.logMu.Lock()
		last, seen := s.logLast[kind]
		now := time.Now()
		skip := seen && (strings.HasPrefix(kind, "once:") || now.Sub(last) < logInterval)
		if !skip {
			s.logLast[kind] = now
		}
		s.logMu.Unlock()
		if skip {
			return
		}
	}
	s.Logf(format, args...)
}

// ServePacket answers DNS over UDP on pc until pc is closed (then it returns
// nil) or fails for good.
func (s *Server) ServePacket(pc net.PacketConn) error {
	s.init()
	buf := make([]byte, 65535)
	var backoff time.Duration
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			if !temporary(err) {
				return err
			}
			backoff = nextBackoff(backoff)
			s.logf("read", "dns: read: %v", err)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if n < headerLen {
			continue
		}
		raw := append([]byte(nil), buf[:n]...)
		s.handle(raw, true, func(b []byte) { _, _ = pc.WriteTo(b, from) }, nil)
	}
}

// ServeStream answers DNS over TCP on ln until ln is closed (then it returns
// nil, having closed the connections it accepted) or fails for good. A
// connection may carry several length-prefixed queries, answered as they
// complete; it is closed after 10 s without a query.
func (s *Server) ServeStream(ln net.Listener) error {
	s.init()
	var (
		mu    sync.Mutex
		open  = map[net.Conn]struct{}{}
		wg    sync.WaitGroup
		delay time.Duration
	)
	defer func() {
		mu.Lock()
		for c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			if !temporary(err) {
				return err
			}
			delay = nextBackoff(delay)
			s.logf("accept", "dns: accept: %v", err)
			time.Sleep(delay)
			continue
		}
		delay = 0
		select {
		case s.conns <- struct{}{}:
		default:
			s.logf("conns", "dns: more than %d TCP connections, refusing", maxStreamConns)
			c.Close()
			continue
		}
		mu.Lock()
		open[c] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveConn(c)
			mu.Lock()
			delete(open, c)
			mu.Unlock()
			<-s.conns
		}()
	}
}

func (s *Server) serveConn(c net.Conn) {
	var (
		wmu      sync.Mutex
		inflight sync.WaitGroup
	)
	defer c.Close()
	defer inflight.Wait() // answer what was asked before closing
	send := func(b []byte) {
		out := make([]byte, 2+len(b))
		binary.BigEndian.PutUint16(out, uint16(len(b)))
		copy(out[2:], b)
		wmu.Lock()
		defer wmu.Unlock()
		_ = c.SetWriteDeadline(time.Now().Add(s.idle()))
		_, _ = c.Write(out)
	}
	var hdr [2]byte
	for {
		_ = c.SetReadDeadline(time.Now().Add(s.idle()))
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		msg := make([]byte, binary.BigEndian.Uint16(hdr[:]))
		if _, err := io.ReadFull(c, msg); err != nil {
			return
		}
		if len(msg) < headerLen {
			continue
		}
		s.handle(msg, false, send, &inflight)
	}
}

const headerLen = 12

// handle answers one query (raw, at least a header long). Local answers and
// errors are sent before it returns; forwards run in a goroutine, counted in
// wg when given.
func (s *Server) handle(raw []byte, udp bool, send func([]byte), wg *sync.WaitGroup) {
	defer func() {
		if r := recover(); r != nil {
			s.logf("panic", "dns: panic answering a query: %v", r)
		}
	}()
	if raw[2]&0x80 != 0 { // a response: never answer one (no loops)
		return
	}
	req := new(mdns.Msg)
	if err := req.Unpack(raw); err != nil {
		send(formErr(raw))
		return
	}
	if req.Opcode != mdns.OpcodeQuery {
		s.sendMsg(send, s.errReply(req, mdns.RcodeNotImplemented), req, udp)
		return
	}
	if len(req.Question) != 1 {
		s.sendMsg(send, s.errReply(req, mdns.RcodeFormatError), req, udp)
		return
	}
	if resp := s.local(req); resp != nil {
		s.sendMsg(send, resp, req, udp)
		return
	}
	if len(s.Upstreams) == 0 {
		s.logf("once:noupstream", "dns: no upstream resolvers: answering SERVFAIL to queries that are not local")
		s.sendMsg(send, s.errReply(req, mdns.RcodeServerFailure), req, udp)
		return
	}
	select {
	case s.sem <- struct{}{}:
	default:
		s.logf("busy", "dns: more than %d queries in flight: answering SERVFAIL", cap(s.sem))
		s.sendMsg(send, s.errReply(req, mdns.RcodeServerFailure), req, udp)
		return
	}
	if wg != nil {
		wg.Add(1)
	}
	go func() {
		defer func() {
			<-s.sem
			if wg != nil {
				wg.Done()
			}
		}()
		defer func() {
			if r := recover(); r != nil {
				s.logf("panic", "dns: panic forwarding a query: %v", r)
			}
		}()
		b := s.forward(raw, req)
		if b == nil {
			s.sendMsg(send, s.errReply(req, mdns.RcodeServerFailure), req, udp)
			return
		}
		if udp {
			if size := udpSize(req); len(b) > size {
				b = truncate(b, size)
			}
		}
		send(b)
	}()
}

// udpSize is what a UDP reply to req may weigh: the client's EDNS0 buffer
// size, 512 without EDNS0.
func udpSize(req *mdns.Msg) int {
	size := mdns.MinMsgSize
	if opt := req.IsEdns0(); opt != nil && int(opt.UDPSize()) > size {
		size = int(opt.UDPSize())
	}
	return size
}

// sendMsg packs resp (truncating it to the client's size over UDP) and sends it.
func (s *Server) sendMsg(send func([]byte), resp, req *mdns.Msg, udp bool) {
	if udp {
		resp.Truncate(udpSize(req))
	}
	resp.Compress = true
	b, err := resp.Pack()
	if err != nil {
		s.logf("pack", "dns: packing a reply to %s: %v", req.Question, err)
		b, err = s.errReply(req, mdns.RcodeServerFailure).Pack()
		if err != nil {
			return
		}
	}
	send(b)
}

// reply starts an answer to req: same id, question, RD and CD; RA set; an
// OPT record when req had one, with its DO bit.
func (s *Server) reply(req *mdns.Msg) *mdns.Msg {
	resp := new(mdns.Msg)
	resp.SetReply(req)
	resp.RecursionAvailable = true
	if opt := req.IsEdns0(); opt != nil {
		resp.SetEdns0(ourUDPSize, opt.Do())
	}
	return resp
}

func (s *Server) errReply(req *mdns.Msg, rcode int) *mdns.Msg {
	resp := s.reply(req)
	resp.Rcode = rcode
	return resp
}

// formErr is a header-only FORMERR answer to a query that does not parse.
func formErr(raw []byte) []byte {
	b := make([]byte, headerLen)
	copy(b[:2], raw[:2])                    // id
	b[2] = 0x80 | raw[2]&0x78 | raw[2]&0x01 // QR, opcode, RD
	b[3] = byte(mdns.RcodeFormatError)
	return b
}

// truncate shrinks an upstream answer to size for a UDP client, setting TC.
func truncate(b []byte, size int) []byte {
	m := new(mdns.Msg)
	if err := m.Unpack(b); err == nil {
		m.Truncate(size)
		if out, err := m.Pack(); err == nil && len(out) <= size {
			return out
		}
	}
	// Cannot parse it: header and question only, TC set.
	end := questionEnd(b)
	if end < 0 || end > size || binary.BigEndian.Uint16(b[4:]) != 1 {
		end = headerLen
	}
	out := append([]byte(nil), b[:end]...)
	out[2] |= 0x02 // TC
	if end == headerLen {
		binary.BigEndian.PutUint16(out[4:], 0)
	}
	for i := 6; i < headerLen; i++ {
		out[i] = 0 // no answer, authority or additional records
	}
	return out
}

func temporary(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, e := range []error{syscall.EINTR, syscall.EAGAIN, syscall.EMFILE, syscall.ENFILE,
		syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED, syscall.ECONNRESET, syscall.ECONNREFUSED} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func nextBackoff(d time.Duration) time.Duration {
	if d == 0 {
		return 5 * time.Millisecond
	}
	if d *= 2; d > time.Second {
		d = time.Second
	}
	return d
}
