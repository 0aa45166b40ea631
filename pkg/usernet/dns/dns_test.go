package dns

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// fakeRecords is a network with a few containers.
type fakeRecords struct {
	names map[string][]netip.Addr // lower-case names and aliases
	ids   map[string]string       // full container id → name
	ptr   map[netip.Addr][]string
}

func (f *fakeRecords) Lookup(name string) ([]netip.Addr, bool) {
	if a, ok := f.names[name]; ok {
		return a, true
	}
	var match string
	for id, n := range f.ids {
		if len(name) >= 3 && strings.HasPrefix(id, name) {
			if match != "" {
				return nil, false // ambiguous prefix
			}
			match = n
		}
	}
	if match == "" {
		return nil, false
	}
	return f.names[match], true
}

func (f *fakeRecords) LookupAddr(addr netip.Addr) ([]string, bool) {
	n, ok := f.ptr[addr]
	return n, ok
}

func newRecords() *fakeRecords {
	ip := netip.MustParseAddr
	return &fakeRecords{
		names: map[string][]netip.Addr{
			"web":      {ip("172.18.0.2"), ip("fd00::2")},
			"db":       {ip("172.18.0.3")},
			"multi":    {ip("172.18.0.4"), ip("172.18.0.5"), ip("172.18.0.6")},
			"my.alias": {ip("172.18.0.7")},
			"v6only":   {ip("fd00::8")},
		},
		ids: map[string]string{"abc123def4567890": "web", "abd999": "db"},
		ptr: map[netip.Addr][]string{
			ip("172.18.0.2"): {"web"},
			ip("fd00::2"):    {"web.net1."},
		},
	}
}

// upstream is a fake host resolver on 127.0.0.1, UDP and TCP on one port.
type upstream struct {
	addr     netip.AddrPort
	udp, tcp atomic.Int32
	mu       sync.Mutex
	last     *mdns.Msg
}

func (u *upstream) lastQuery() *mdns.Msg {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last
}

func (u *upstream) count() int { return int(u.udp.Load() + u.tcp.Load()) }

// listenPair binds UDP and TCP on the same 127.0.0.1 port.
func listenPair(t *testing.T) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln
		}
		pc.Close()
	}
	t.Fatal("no free port for UDP and TCP")
	return nil, nil
}

func startUpstream(t *testing.T, answer func(r *mdns.Msg, tcp bool) *mdns.Msg) *upstream {
	t.Helper()
	u := new(upstream)
	h := mdns.HandlerFunc(func(w mdns.ResponseWriter, r *mdns.Msg) {
		tcp := w.LocalAddr().Network() == "tcp"
		if tcp {
			u.tcp.Add(1)
		} else {
			u.udp.Add(1)
		}
		u.mu.Lock()
		u.last = r.Copy()
		u.mu.Unlock()
		if m := answer(r, tcp); m != nil {
			_ = w.WriteMsg(m)
		}
	})
	pc, ln := listenPair(t)
	u.addr = netip.MustParseAddrPort(pc.LocalAddr().String())
	for _, srv := range []*mdns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return u
}

// goodAnswer answers A 1.2.3.4 for any name, echoing EDNS0 (size and DO).
func goodAnswer(r *mdns.Msg, _ bool) *mdns.Msg {
	m := new(mdns.Msg).SetReply(r)
	m.RecursionAvailable = true
	if r.Question[0].Qtype == mdns.TypeA {
		m.Answer = append(m.Answer, aRR(r.Question[0].Name, "1.2.3.4"))
	}
	if opt := r.IsEdns0(); opt != nil {
		m.SetEdns0(opt.UDPSize(), opt.Do())
	}
	return m
}

func aRR(name, ip string) mdns.RR {
	return &mdns.A{Hdr: mdns.RR_Header{Name: name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 60},
		A: net.ParseIP(ip).To4()}
}

// blackhole is an upstream that never answers: a UDP socket nobody reads
// and a TCP listener that never accepts.
func blackhole(t *testing.T) netip.AddrPort {
	pc, ln := listenPair(t)
	t.Cleanup(func() { pc.Close(); ln.Close() })
	return netip.MustParseAddrPort(pc.LocalAddr().String())
}

// closedPort is an upstream where nothing listens (UDP: port unreachable).
func closedPort(t *testing.T) netip.AddrPort {
	pc, ln := listenPair(t)
	addr := netip.MustParseAddrPort(pc.LocalAddr().String())
	pc.Close()
	ln.Close()
	return addr
}

// start serves s on 127.0.0.1 (UDP and TCP, one port) until the test ends,
// then checks that both Serve calls return nil once their sockets close.
func start(t *testing.T, s *Server) string {
	t.Helper()
	pc, ln := listenPair(t)
	errs := make(chan error, 2)
	go func() { errs <- s.ServePacket(pc) }()
	go func() { errs <- s.ServeStream(ln) }()
	t.Cleanup(func() {
		pc.Close()
		ln.Close()
		for range 2 {
			select {
			case err := <-errs:
				if err != nil {
					t.Errorf("Serve returned %v after close, want nil", err)
				}
			case <-time.After(5 * time.Second):
				t.Error("Serve did not return after its socket was closed")
			}
		}
	})
	return pc.LocalAddr().String()
}

func query(t *testing.T, addr, network, name string, qtype uint16) *mdns.Msg {
	t.Helper()
	m := new(mdns.Msg).SetQuestion(name, qtype)
	return exchange(t, addr, network, m)
}

func exchange(t *testing.T, addr, network string, m *mdns.Msg) *mdns.Msg {
	t.Helper()
	c := &mdns.Client{Net: network, Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s over %s: %v", m.Question[0].Name, mdns.TypeToString[m.Question[0].Qtype], network, err)
	}
	if r.Id != m.Id {
		t.Fatalf("answer id %d, query id %d", r.Id, m.Id)
	}
	return r
}

// answers lists the answer section as sorted strings: addresses for A and
// AAAA, names for PTR.
func answerSet(t *testing.T, r *mdns.Msg) []string {
	t.Helper()
	var out []string
	for _, rr := range r.Answer {
		switch rr := rr.(type) {
		case *mdns.A:
			out = append(out, rr.A.String())
		case *mdns.AAAA:
			out = append(out, rr.AAAA.String())
		case *mdns.PTR:
			out = append(out, rr.Ptr)
		default:
			out = append(out, rr.String())
		}
	}
	slices.Sort(out)
	return out
}

func mustReverse(ip string) string {
	s, err := mdns.ReverseAddr(ip)
	if err != nil {
		panic(err)
	}
	return s
}

func TestLocalAndForwarded(t *testing.T) {
	up := startUpstream(t, goodAnswer)
	s := &Server{Records: newRecords(), Search: []string{"example.com."}, Upstreams: []netip.AddrPort{up.addr}}
	addr := start(t, s)
	tests := []struct {
		name      string
		qtype     uint16
		want      []string // nil: NODATA
		forwarded bool
	}{
		{"web.", mdns.TypeA, []string{"172.18.0.2"}, false},
		{"WeB.", mdns.TypeA, []string{"172.18.0.2"}, false},
		{"web.", mdns.TypeAAAA, []string{"fd00::2"}, false},
		{"db.", mdns.TypeAAAA, nil, false},  // NODATA, not forwarded
		{"v6only.", mdns.TypeA, nil, false}, // NODATA, not forwarded
		{"web.", mdns.TypeMX, nil, false},   // other types: NODATA
		{"web.", mdns.TypeTXT, nil, false},  //
		{"my.alias.", mdns.TypeA, []string{"172.18.0.7"}, false},
		{"multi.", mdns.TypeA, []string{"172.18.0.4", "172.18.0.5", "172.18.0.6"}, false},
		{"web.example.com.", mdns.TypeA, []string{"172.18.0.2"}, false},
		{"Web.EXAMPLE.com.", mdns.TypeA, []string{"172.18.0.2"}, false},
		{"abc123.", mdns.TypeA, []string{"172.18.0.2"}, false}, // id prefix
		{"ABC123DEF.", mdns.TypeAAAA, []string{"fd00::2"}, false},
		{mustReverse("172.18.0.2"), mdns.TypePTR, []string{"web."}, false},
		{mustReverse("fd00::2"), mdns.TypePTR, []string{"web.net1."}, false},
		{strings.ToUpper(mustReverse("fd00::2")), mdns.TypePTR, []string{"web.net1."}, false},
		// Not local: forwarded to the upstream, which says 1.2.3.4.
		{"web.other.org.", mdns.TypeA, []string{"1.2.3.4"}, true},
		{"example.com.", mdns.TypeA, []string{"1.2.3.4"}, true},
		{"ab.", mdns.TypeA, []string{"1.2.3.4"}, true}, // too short an id prefix
		{"golang.org.", mdns.TypeA, []string{"1.2.3.4"}, true},
		{mustReverse("172.18.0.99"), mdns.TypePTR, nil, true},
	}
	for _, network := range []string{"udp", "tcp"} {
		for _, tt := range tests {
			t.Run(network+"/"+tt.name+"/"+mdns.TypeToString[tt.qtype], func(t *testing.T) {
				before := up.count()
				r := query(t, addr, network, tt.name, tt.qtype)
				if r.Rcode != mdns.RcodeSuccess {
					t.Fatalf("rcode %s, want NOERROR", mdns.RcodeToString[r.Rcode])
				}
				if got := answerSet(t, r); !reflect.DeepEqual(got, tt.want) {
					t.Errorf("answers %q, want %q", got, tt.want)
				}
				if got := up.count() - before; (got == 1) != tt.forwarded || got > 1 {
					t.Errorf("upstream asked %d times, forwarded=%v wanted", got, tt.forwarded)
				}
				if !tt.forwarded {
					if !r.Authoritative || !r.RecursionAvailable {
						t.Errorf("local answer: AA=%v RA=%v, want both", r.Authoritative, r.RecursionAvailable)
					}
					for _, rr := range r.Answer {
						if rr.Header().Ttl != 600 || rr.Header().Name != tt.name {
							t.Errorf("answer %v: want TTL 600 and the query's name", rr)
						}
					}
				}
			})
		}
	}
}

func TestLocalOrderShuffled(t *testing.T) {
	addr := start(t, &Server{Records: newRecords()})
	orders := map[string]bool{}
	for range 40 {
		r := query(t, addr, "udp", "multi.", mdns.TypeA)
		var o []string
		for _, rr := range r.Answer {
			o = append(o, rr.(*mdns.A).A.String())
		}
		orders[strings.Join(o, ",")] = true
	}
	if len(orders) < 2 {
		t.Errorf("40 answers all in the order %v: want them shuffled", orders)
	}
}

func TestNilRecordsForwardsEverything(t *testing.T) {
	up := startUpstream(t, goodAnswer)
	addr := start(t, &Server{Upstreams: []netip.AddrPort{up.addr}})
	r := query(t, addr, "udp", "web.", mdns.TypeA)
	if got := answerSet(t, r); !reflect.DeepEqual(got, []string{"1.2.3.4"}) || up.count() != 1 {
		t.Errorf("answers %q after %d upstream queries, want the upstream's 1.2.3.4", got, up.count())
	}
}

func TestFailover(t *testing.T) {
	servfail := startUpstream(t, func(r *mdns.Msg, _ bool) *mdns.Msg {
		return new(mdns.Msg).SetRcode(r, mdns.RcodeServerFailure)
	})
	refused := startUpstream(t, func(r *mdns.Msg, _ bool) *mdns.Msg {
		return new(mdns.Msg).SetRcode(r, mdns.RcodeRefused)
	})
	good := startUpstream(t, goodAnswer)
	s := &Server{
		Upstreams: []netip.AddrPort{closedPort(t), blackhole(t), servfail.addr, refused.addr, good.addr},
		Timeout:   300 * time.Millisecond,
	}
	addr := start(t, s)
	t0 := time.Now()
	r := query(t, addr, "udp", "example.org.", mdns.TypeA)
	if got := answerSet(t, r); r.Rcode != mdns.RcodeSuccess || !reflect.DeepEqual(got, []string{"1.2.3.4"}) {
		t.Errorf("rcode %s answers %q, want the last upstream's 1.2.3.4", mdns.RcodeToString[r.Rcode], got)
	}
	if servfail.count() != 1 || refused.count() != 1 || good.count() != 1 {
		t.Errorf("upstreams asked %d, %d, %d times; want once each", servfail.count(), refused.count(), good.count())
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("failover took %v", d)
	}

	// Only failing upstreams: their last failure is passed on.
	s2 := &Server{Upstreams: []netip.AddrPort{servfail.addr, refused.addr}}
	r = query(t, start(t, s2), "udp", "example.org.", mdns.TypeA)
	if r.Rcode != mdns.RcodeRefused {
		t.Errorf("rcode %s, want the last upstream's REFUSED", mdns.RcodeToString[r.Rcode])
	}
}

func TestTruncatedRetriedOverTCP(t *testing.T) {
	const n = 60 // A records: more than 512 bytes
	up := startUpstream(t, func(r *mdns.Msg, tcp bool) *mdns.Msg {
		m := new(mdns.Msg).SetReply(r)
		if !tcp {
			m.Truncated = true
			return m
		}
		for i := range n {
			m.Answer = append(m.Answer, aRR(r.Question[0].Name, fmt.Sprintf("10.0.0.%d", i+1)))
		}
		return m
	})
	addr := start(t, &Server{Upstreams: []netip.AddrPort{up.addr}})

	// A client with a large EDNS0 buffer gets the whole TCP answer over UDP.
	m := new(mdns.Msg).SetQuestion("big.example.", mdns.TypeA)
	m.SetEdns0(4096, false)
	r := exchange(t, addr, "udp", m)
	if r.Truncated || len(r.Answer) != n {
		t.Errorf("TC=%v with %d answers, want the %d from the TCP retry", r.Truncated, len(r.Answer), n)
	}
	if up.udp.Load() != 1 || up.tcp.Load() != 1 {
		t.Errorf("upstream asked %d times over UDP, %d over TCP; want once each", up.udp.Load(), up.tcp.Load())
	}

	// A client without EDNS0 gets at most 512 bytes, with TC set...
	r = query(t, addr, "udp", "big.example.", mdns.TypeA)
	if !r.Truncated || len(r.Answer) >= n {
		t.Errorf("plain UDP client: TC=%v with %d answers, want TC and fewer than %d", r.Truncated, len(r.Answer), n)
	}
	r.Compress = true
	if b, _ := r.Pack(); len(b) > 512 {
		t.Errorf("plain UDP client got %d bytes", len(b))
	}
	// ...and everything when it asks again over TCP.
	r = query(t, addr, "tcp", "big.example.", mdns.TypeA)
	if r.Truncated || len(r.Answer) != n {
		t.Errorf("over TCP: TC=%v with %d answers, want %d", r.Truncated, len(r.Answer), n)
	}
}

func TestAllUpstreamsDown(t *testing.T) {
	var logs atomic.Int32
	s := &Server{
		Records:   newRecords(),
		Upstreams: []netip.AddrPort{blackhole(t), closedPort(t)},
		Timeout:   200 * time.Millisecond,
		Logf:      func(string, ...any) { logs.Add(1) },
	}
	addr := start(t, s)
	for _, network := range []string{"udp", "tcp"} {
		t0 := time.Now()
		r := query(t, addr, network, "example.org.", mdns.TypeA)
		if r.Rcode != mdns.RcodeServerFailure {
			t.Errorf("%s: rcode %s, want SERVFAIL", network, mdns.RcodeToString[r.Rcode])
		}
		if d := time.Since(t0); d > 1500*time.Millisecond {
			t.Errorf("%s: SERVFAIL after %v, want it within about the 200 ms timeout", network, d)
		}
	}
	if logs.Load() != 1 {
		t.Errorf("%d log lines, want 1 (rate-limited)", logs.Load())
	}
	// Local names still work.
	if got := answerSet(t, query(t, addr, "udp", "web.", mdns.TypeA)); !reflect.DeepEqual(got, []string{"172.18.0.2"}) {
		t.Errorf("local answer %q", got)
	}
}

func TestNoUpstreams(t *testing.T) {
	var mu sync.Mutex
	var logs []string
	s := &Server{Records: newRecords(), Logf: func(f string, a ...any) {
		mu.Lock()
		logs = append(logs, fmt.Sprintf(f, a...))
		mu.Unlock()
	}}
	addr := start(t, s)
	for range 3 {
		if r := query(t, addr, "udp", "example.org.", mdns.TypeA); r.Rcode != mdns.RcodeServerFailure {
			t.Errorf("rcode %s, want SERVFAIL", mdns.RcodeToString[r.Rcode])
		}
	}
	if r := query(t, addr, "udp", "db.", mdns.TypeA); len(r.Answer) != 1 {
		t.Errorf("local name without upstreams: %v", r)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logs) != 1 || !strings.Contains(logs[0], "upstream") {
		t.Errorf("logs %q, want one line about upstreams", logs)
	}
}

func TestConcurrencyCap(t *testing.T) {
	got := make(chan struct{}, 10)
	silent := startUpstream(t, func(*mdns.Msg, bool) *mdns.Msg { got <- struct{}{}; return nil })
	s := &Server{Upstreams: []netip.AddrPort{silent.addr}, Timeout: time.Second, MaxConcurrent: 1}
	addr := start(t, s)
	first := make(chan *mdns.Msg, 1)
	go func() {
		c := &mdns.Client{Timeout: 5 * time.Second}
		r, _, _ := c.Exchange(new(mdns.Msg).SetQuestion("slow.example.", mdns.TypeA), addr)
		first <- r
	}()
	<-got // the first query is in flight
	t0 := time.Now()
	r := query(t, addr, "udp", "second.example.", mdns.TypeA)
	if r.Rcode != mdns.RcodeServerFailure || time.Since(t0) > 500*time.Millisecond {
		t.Errorf("over the cap: rcode %s after %v, want an immediate SERVFAIL", mdns.RcodeToString[r.Rcode], time.Since(t0))
	}
	if r := <-first; r == nil || r.Rcode != mdns.RcodeServerFailure {
		t.Errorf("first query: %v, want SERVFAIL after the upstream timeout", r)
	}
	if n := silent.count(); n != 1 {
		t.Errorf("upstream asked %d times, want 1 (the second query over the cap)", n)
	}
}

func TestEDNS0AndIDPreserved(t *testing.T) {
	up := startUpstream(t, goodAnswer)
	addr := start(t, &Server{Upstreams: []netip.AddrPort{up.addr}})
	m := new(mdns.Msg).SetQuestion("example.net.", mdns.TypeA)
	m.Id = 4242
	m.CheckingDisabled = true
	m.SetEdns0(1232, true)
	opt := m.IsEdns0()
	opt.Option = append(opt.Option, &mdns.EDNS0_COOKIE{Code: mdns.EDNS0COOKIE, Cookie: "0123456789abcdef"})
	r := exchange(t, addr, "udp", m)

	q := up.lastQuery()
	if q == nil {
		t.Fatal("upstream saw no query")
	}
	qopt := q.IsEdns0()
	if q.Id != 4242 || !q.CheckingDisabled || qopt == nil || !qopt.Do() || qopt.UDPSize() != 1232 ||
		len(qopt.Option) != 1 || qopt.Option[0].String() != "0123456789abcdef" {
		t.Errorf("upstream saw %v, want the query unchanged (id 4242, CD, EDNS0 1232 DO, cookie)", q)
	}
	if ropt := r.IsEdns0(); ropt == nil || !ropt.Do() || len(r.Answer) != 1 {
		t.Errorf("answer %v, want the upstream's, with its OPT and DO", r)
	}

	// Local answers carry an OPT with the DO bit too.
	s := &Server{Records: newRecords()}
	m = new(mdns.Msg).SetQuestion("web.", mdns.TypeA)
	m.SetEdns0(1232, true)
	r = exchange(t, start(t, s), "udp", m)
	if ropt := r.IsEdns0(); ropt == nil || !ropt.Do() || len(r.Answer) != 1 {
		t.Errorf("local answer %v, want OPT with DO", r)
	}
}

// A spoofed answer with the wrong id is skipped; the real one is forwarded.
func TestUpstreamIDMismatchSkipped(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := new(mdns.Msg)
			if q.Unpack(buf[:n]) != nil {
				continue
			}
			bad := new(mdns.Msg).SetReply(q)
			bad.Id++
			bad.Answer = []mdns.RR{aRR(q.Question[0].Name, "6.6.6.6")}
			other := new(mdns.Msg).SetReply(q)
			other.Question[0].Name = "evil.example."
			other.Answer = []mdns.RR{aRR("evil.example.", "6.6.6.7")}
			good := new(mdns.Msg).SetReply(q)
			good.Answer = []mdns.RR{aRR(q.Question[0].Name, "7.7.7.7")}
			for _, m := range []*mdns.Msg{bad, other, good} {
				b, _ := m.Pack()
				_, _ = pc.WriteTo(b, from)
			}
		}
	}()
	addr := start(t, &Server{Upstreams: []netip.AddrPort{netip.MustParseAddrPort(pc.LocalAddr().String())}})
	r := query(t, addr, "udp", "www.example.", mdns.TypeA)
	if got := answerSet(t, r); !reflect.DeepEqual(got, []string{"7.7.7.7"}) {
		t.Errorf("answers %q, want the one matching id and question (7.7.7.7)", got)
	}
}

func TestMalformedPackets(t *testing.T) {
	up := startUpstream(t, goodAnswer)
	addr := start(t, &Server{Records: newRecords(), Upstreams: []netip.AddrPort{up.addr}})
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A query header whose question is cut short: FORMERR, same id.
	bad := []byte{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'w'}
	if _, err := c.Write(bad); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		b := make([]byte, rng.IntN(600))
		for j := range b {
			b[j] = byte(rng.UintN(256))
		}
		if i%2 == 0 && len(b) >= 12 {
			b[2] &^= 0x80 // a query, so that parsing is attempted
		}
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
		if i%50 == 49 { // the server still answers (and the socket buffer drains)
			if r := query(t, addr, "udp", "web.", mdns.TypeA); len(r.Answer) != 1 {
				t.Fatalf("after %d bad packets: %v", i+1, r)
			}
		}
	}
	buf := make([]byte, 65535)
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	found := false
	for !found {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("no FORMERR for a cut query: %v", err)
		}
		r := new(mdns.Msg)
		found = r.Unpack(buf[:n]) == nil && r.Id == 0x1234 && r.Response && r.Rcode == mdns.RcodeFormatError
	}
	// A response sent to the server is never answered.
	resp := new(mdns.Msg).SetQuestion("web.", mdns.TypeA)
	resp.Response = true
	resp.Id = 0x5555
	b, _ := resp.Pack()
	_, _ = c.Write(b)

	// The server still works.
	for _, name := range []string{"web.", "example.org."} {
		if r := query(t, addr, "udp", name, mdns.TypeA); len(r.Answer) != 1 {
			t.Errorf("after garbage, %s: %v", name, r)
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	for {
		n, err := c.Read(buf)
		if err != nil {
			break
		}
		if binary.BigEndian.Uint16(buf[:n]) == 0x5555 {
			t.Error("the server answered a response")
		}
	}

	// Over TCP: garbage in a frame gets FORMERR, and the connection goes on.
	tc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	frame := append([]byte{0, byte(len(bad))}, bad...)
	q := new(mdns.Msg).SetQuestion("web.", mdns.TypeA)
	qb, _ := q.Pack()
	frame = append(frame, byte(len(qb)>>8), byte(len(qb)))
	frame = append(frame, qb...)
	if _, err := tc.Write(frame); err != nil {
		t.Fatal(err)
	}
	_ = tc.SetReadDeadline(time.Now().Add(3 * time.Second))
	for i, want := range []int{mdns.RcodeFormatError, mdns.RcodeSuccess} {
		var l [2]byte
		if _, err := io.ReadFull(tc, l[:]); err != nil {
			t.Fatalf("TCP answer %d: %v", i, err)
		}
		b := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(tc, b); err != nil {
			t.Fatal(err)
		}
		r := new(mdns.Msg)
		if err := r.Unpack(b); err != nil || r.Rcode != want {
			t.Errorf("TCP answer %d: %v %v, want rcode %s", i, r, err, mdns.RcodeToString[want])
		}
	}
}

func TestStreamSeveralQueriesAndIdle(t *testing.T) {
	up := startUpstream(t, goodAnswer)
	s := &Server{Records: newRecords(), Upstreams: []netip.AddrPort{up.addr}, idleTimeout: 300 * time.Millisecond}
	addr := start(t, s)
	conn, err := (&mdns.Client{Net: "tcp"}).Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))

	// Pipelined: three queries written, then three answers read (any order).
	want := map[uint16]string{}
	for i, name := range []string{"web.", "example.org.", "db."} {
		m := new(mdns.Msg).SetQuestion(name, mdns.TypeA)
		m.Id = uint16(100 + i)
		want[m.Id] = name
		if err := conn.WriteMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		r, err := conn.ReadMsg()
		if err != nil {
			t.Fatal(err)
		}
		if name, ok := want[r.Id]; !ok || len(r.Question) != 1 || r.Question[0].Name != name || len(r.Answer) != 1 {
			t.Errorf("answer %v does not answer one of the queries", r)
		}
		delete(want, r.Id)
	}
	// Sequential on the same connection.
	m := new(mdns.Msg).SetQuestion("multi.", mdns.TypeA)
	if err := conn.WriteMsg(m); err != nil {
		t.Fatal(err)
	}
	if r, err := conn.ReadMsg(); err != nil || len(r.Answer) != 3 {
		t.Fatalf("fourth query: %v %v", r, err)
	}
	// Idle: the server closes the connection.
	t0 := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := conn.ReadMsg(); err == nil {
		t.Error("read an unasked-for message")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Errorf("the server kept an idle connection open past %v", time.Since(t0))
	}
}

func TestArpaAddr(t *testing.T) {
	tests := []struct {
		name string
		want string // "" for not an address
	}{
		{"4.3.2.1.in-addr.arpa.", "1.2.3.4"},
		{"4.3.2.1.IN-ADDR.ARPA", "1.2.3.4"},
		{"255.0.0.10.in-addr.arpa.", "10.0.0.255"},
		{mustReverse("fd00::2"), "fd00::2"},
		{mustReverse("2001:db8::abcd:1"), "2001:db8::abcd:1"},
		{"3.2.1.in-addr.arpa.", ""},
		{"5.4.3.2.1.in-addr.arpa.", ""},
		{"256.3.2.1.in-addr.arpa.", ""},
		{"04.3.2.1.in-addr.arpa.", ""},
		{"0/25.3.2.1.in-addr.arpa.", ""},
		{"x.3.2.1.in-addr.arpa.", ""},
		{"1.0.ip6.arpa.", ""},
		{strings.Replace(mustReverse("fd00::2"), "2.", "g.", 1), ""},
		{"web.", ""},
	}
	for _, tt := range tests {
		got, ok := arpaAddr(tt.name)
		if (tt.want == "") == ok || ok && got.String() != tt.want {
			t.Errorf("arpaAddr(%q) = %v, %v; want %q", tt.name, got, ok, tt.want)
		}
	}
}

func TestHostConfig(t *testing.T) {
	tests := []struct {
		name, conf string
		want       Config
	}{
		{
			name: "systemd-resolved and friends",
			conf: `# This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).
; another comment style
nameserver 127.0.0.53
nameserver 2001:4860:4860::8888   # inline comment
nameserver fe80::1%eth0
nameserver not-an-address
nameserver
domain old.example
search corp.example.com example.com
options edns0 trust-ad
options ndots:2
unknown directive
`,
			want: Config{
				Nameservers: []netip.AddrPort{
					netip.MustParseAddrPort("127.0.0.53:53"),
					netip.MustParseAddrPort("[2001:4860:4860::8888]:53"),
					netip.MustParseAddrPort("[fe80::1%eth0]:53"),
				},
				Search:  []string{"corp.example.com", "example.com"},
				Options: []string{"edns0", "trust-ad", "ndots:2"},
			},
		},
		{
			name: "domain after search wins",
			conf: "search a.example b.example\ndomain c.example\nnameserver 10.0.0.1\n",
			want: Config{Nameservers: []netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:53")}, Search: []string{"c.example"}},
		},
		{name: "empty", conf: "", want: Config{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "resolv.conf")
			if err := os.WriteFile(p, []byte(tt.conf), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := HostConfig(p)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("HostConfig = %+v\nwant %+v", got, tt.want)
			}
		})
	}
	if _, err := HostConfig(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("HostConfig of a missing file: no error")
	}
}

func TestContainerResolvConf(t *testing.T) {
	tests := []struct {
		ns              []netip.Addr
		search, options []string
		want            string
	}{
		{
			ns:      []netip.Addr{netip.MustParseAddr("172.18.0.1")},
			search:  []string{"corp.example.com", "example.com"},
			options: []string{"ndots:0", "edns0", "trust-ad"},
			want: "# Generated by rrun.\n" +
				"nameserver 172.18.0.1\n" +
				"search corp.example.com example.com\n" +
				"options ndots:0 edns0 trust-ad\n",
		},
		{
			ns:   []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("2001:db8::1")},
			want: "# Generated by rrun.\nnameserver 10.0.0.1\nnameserver 2001:db8::1\n",
		},
	}
	for _, tt := range tests {
		if got := string(ContainerResolvConf(tt.ns, tt.search, tt.options)); got != tt.want {
			t.Errorf("ContainerResolvConf(%v, %q, %q) =\n%s\nwant\n%s", tt.ns, tt.search, tt.options, got, tt.want)
		}
	}
}
