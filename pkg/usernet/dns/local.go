package dns

import (
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"

	mdns "github.com/miekg/dns"
)

// local answers req from Records, or returns nil when the name is not local
// (then the query is forwarded).
func (s *Server) local(req *mdns.Msg) *mdns.Msg {
	if s.Records == nil {
		return nil
	}
	q := req.Question[0]
	if q.Qclass != mdns.ClassINET && q.Qclass != mdns.ClassANY {
		return nil
	}
	if q.Qtype == mdns.TypePTR {
		if addr, ok := arpaAddr(q.Name); ok {
			names, ok := s.Records.LookupAddr(addr)
			if !ok {
				return nil
			}
			resp := s.localReply(req)
			for _, n := range names {
				if n == "" {
					continue
				}
				resp.Answer = append(resp.Answer, &mdns.PTR{
					Hdr: mdns.RR_Header{Name: q.Name, Rrtype: mdns.TypePTR, Class: mdns.ClassINET, Ttl: localTTL},
					Ptr: mdns.Fqdn(n),
				})
			}
			return resp
		}
	}
	addrs, ok := s.lookup(q.Name)
	if !ok {
		return nil
	}
	resp := s.localReply(req) // NODATA unless an address fits below
	for _, a := range addrs {
		switch {
		case q.Qtype == mdns.TypeA && a.Unmap().Is4():
			resp.Answer = append(resp.Answer, &mdns.A{
				Hdr: mdns.RR_Header{Name: q.Name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: localTTL},
				A:   a.Unmap().AsSlice(),
			})
		case q.Qtype == mdns.TypeAAAA && a.Is6() && !a.Is4In6():
			resp.Answer = append(resp.Answer, &mdns.AAAA{
				Hdr:  mdns.RR_Header{Name: q.Name, Rrtype: mdns.TypeAAAA, Class: mdns.ClassINET, Ttl: localTTL},
				AAAA: a.WithZone("").AsSlice(),
			})
		}
	}
	rand.Shuffle(len(resp.Answer), func(i, j int) { resp.Answer[i], resp.Answer[j] = resp.Answer[j], resp.Answer[i] })
	return resp
}

func (s *Server) localReply(req *mdns.Msg) *mdns.Msg {
	resp := s.reply(req)
	resp.Authoritative = true
	return resp
}

// lookup asks Records for qname (any case, with or without the trailing
// dot); failing that, for its first label when the rest is one of the search
// domains.
func (s *Server) lookup(qname string) ([]netip.Addr, bool) {
	name := strings.ToLower(strings.TrimSuffix(qname, "."))
	if name == "" {
		return nil, false
	}
	if addrs, ok := s.Records.Lookup(name); ok {
		return addrs, true
	}
	host, rest, found := strings.Cut(name, ".")
	if !found || host == "" {
		return nil, false
	}
	for _, d := range s.Search {
		if strings.EqualFold(strings.TrimSuffix(d, "."), rest) {
			return s.Records.Lookup(host)
		}
	}
	return nil, false
}

// arpaAddr parses a reverse name: d.c.b.a.in-addr.arpa (four decimal labels)
// or the 32 nibbles of an ip6.arpa name. Anything else (classless
// delegations, partial names) is not an address.
func arpaAddr(qname string) (netip.Addr, bool) {
	name := strings.ToLower(strings.TrimSuffix(qname, "."))
	if v4, ok := strings.CutSuffix(name, ".in-addr.arpa"); ok {
		labels := strings.Split(v4, ".")
		if len(labels) != 4 {
			return netip.Addr{}, false
		}
		var b [4]byte
		for i, l := range labels {
			if l == "" || len(l) > 3 || (len(l) > 1 && l[0] == '0') {
				return netip.Addr{}, false
			}
			n, err := strconv.Atoi(l)
			if err != nil || n < 0 || n > 255 {
				return netip.Addr{}, false
			}
			b[3-i] = byte(n)
		}
		return netip.AddrFrom4(b), true
	}
	if v6, ok := strings.CutSuffix(name, ".ip6.arpa"); ok {
		labels := strings.Split(v6, ".")
		if len(labels) != 32 {
			return netip.Addr{}, false
		}
		var b [16]byte
		for i, l := range labels {
			if len(l) != 1 {
				return netip.Addr{}, false
			}
			n, err := strconv.ParseUint(l, 16, 8)
			if err != nil {
				return netip.Addr{}, false
			}
			j := 31 - i // nibble index from the most significant
			if j%2 == 0 {
				b[j/2] |= byte(n) << 4
			} else {
				b[j/2] |= byte(n)
			}
		}
		return netip.AddrFrom16(b), true
	}
	return netip.Addr{}, false
}
