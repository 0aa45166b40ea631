package dns

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, 65535); return &b }}

// forward sends the query, as received (same id, EDNS0 and all), to the
// upstreams in order and returns the first usable answer, as received. An
// upstream that times out, errs, or answers SERVFAIL or REFUSED is passed
// over for the next; a truncated UDP answer is asked again over TCP. It
// returns the last SERVFAIL/REFUSED answer when nothing better came, nil
// when no upstream answered at all.
func (s *Server) forward(raw []byte, req *mdns.Msg) []byte {
	var last []byte
	var errs []error
	for _, up := range s.Upstreams {
		if up.Port() == 0 {
			up = netip.AddrPortFrom(up.Addr(), 53)
		}
		b, err := s.exchange("udp", up, raw)
		if err == nil && b[2]&0x02 != 0 { // TC
			tb, terr := s.exchange("tcp", up, raw)
			if terr == nil {
				b = tb
			} else {
				// The truncated answer stays valid: the client may ask
				// us again over TCP.
				errs = append(errs, fmt.Errorf("%s over tcp: %w", up, terr))
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", up, err))
			continue
		}
		switch int(b[3] & 0x0f) {
		case mdns.RcodeServerFailure, mdns.RcodeRefused:
			last = b
			continue
		}
		return b
	}
	if last == nil {
		s.logf("upstream", "dns: no upstream answered %s: %v", req.Question[0].String(), errors.Join(errs...))
	}
	return last
}

// exchange sends one query to one upstream over network ("udp" or "tcp")
// within the Server's timeout, and returns the answer, checked to be a
// response to that query (id and question). Stray datagrams are skipped.
func (s *Server) exchange(network string, up netip.AddrPort, raw []byte) ([]byte, error) {
	deadline := time.Now().Add(s.timeout())
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, network, up.String())
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.SetDeadline(deadline); err != nil {
		return nil, err
	}
	if network == "tcp" {
		out := make([]byte, 2+len(raw))
		binary.BigEndian.PutUint16(out, uint16(len(raw)))
		copy(out[2:], raw)
		if _, err := c.Write(out); err != nil {
			return nil, err
		}
		var hdr [2]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return nil, err
		}
		b := make([]byte, binary.BigEndian.Uint16(hdr[:]))
		if _, err := io.ReadFull(c, b); err != nil {
			return nil, err
		}
		if !answers(b, raw) {
			return nil, errors.New("answer does not match the query")
		}
		return b, nil
	}
	if _, err := c.Write(raw); err != nil {
		return nil, err
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		n, err := c.Read(buf)
		if err != nil {
			return nil, err
		}
		if answers(buf[:n], raw) {
			return append([]byte(nil), buf[:n]...), nil
		}
	}
}

// answers reports whether b is a response to query q: same id, QR set, and
// the same question (name compared case-insensitively, for 0x20
// randomisation), or no question at all in an error answer.
func answers(b, q []byte) bool {
	if len(b) < headerLen || b[0] != q[0] || b[1] != q[1] || b[2]&0x80 == 0 {
		return false
	}
	qd := binary.BigEndian.Uint16(b[4:])
	if qd == 0 {
		return b[3]&0x0f != 0
	}
	end := questionEnd(q)
	if qd != 1 || end < 0 || len(b) < end {
		return false
	}
	nameEnd := end - 4
	return asciiEqualFold(b[headerLen:nameEnd], q[headerLen:nameEnd]) &&
		bytes.Equal(b[nameEnd:end], q[nameEnd:end])
}

// asciiEqualFold compares wire-format names, folding only A-Z (RFC 4343).
func asciiEqualFold(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// questionEnd returns the offset just past the first question of message b
// (uncompressed name, type and class), or -1.
func questionEnd(b []byte) int {
	off := headerLen
	for {
		if off >= len(b) {
			return -1
		}
		l := int(b[off])
		if l == 0 {
			off++
			break
		}
		if l&0xc0 != 0 { // no compression pointer can come first
			return -1
		}
		off += 1 + l
	}
	if off+4 > len(b) {
		return -1
	}
	return off + 4
}
