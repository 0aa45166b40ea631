package usernet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/rrun/rrun/pkg/usernet/dns"
)

// bridge is a network's live side in the infra namespace: its Linux
// bridge, addresses in use and DNS server.
type bridge struct {
	net  Network
	link netlink.Link
	used map[netip.Addr]string // address → endpoint key
	// names for the DNS server, guarded by mu (the server reads them
	// from its own goroutines).
	mu      sync.RWMutex
	records map[*Endpoint]struct{}
	dnsUDP  net.PacketConn
	dnsTCP  net.Listener
}

// ensureBridge brings up a network's bridge, routing and DNS server;
// the caller holds in.mu.
func (in *Infra) ensureBridge(n Network) (*bridge, error) {
	if b, ok := in.bridges[n.Index]; ok {
		if b.net.ID != n.ID || b.net.Subnet != n.Subnet {
			// The network was removed and another took its number.
			in.dropBridge(b)
		} else {
			b.net = n
			in.publishNetworks()
			return b, nil
		}
	}
	for _, b := range in.bridges {
		if b.net.Subnet.Overlaps(n.Subnet) {
			return nil, fmt.Errorf("subnet %s of network %s overlaps network %s (%s)", n.Subnet, n.Name, b.net.Name, b.net.Subnet)
		}
	}
	b := &bridge{net: n, used: map[netip.Addr]string{}, records: map[*Endpoint]struct{}{}}
	name := n.bridgeName()
	link, err := in.h.LinkByName(name)
	if err != nil {
		if err := in.h.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name, MTU: MTU}}); err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("creating bridge %s: %w", name, err)
		}
		if link, err = in.h.LinkByName(name); err != nil {
			return nil, err
		}
	}
	b.link = link
	if err := in.configureBridge(b); err != nil {
		return nil, fmt.Errorf("network %s: %w", n.Name, err)
	}
	if err := in.startDNS(b); err != nil {
		return nil, fmt.Errorf("network %s: DNS server: %w", n.Name, err)
	}
	in.bridges[n.Index] = b
	in.publishNetworks()
	return b, nil
}

// configureBridge gives the bridge its gateway addresses and a routing
// table of its own: its subnet, and the stack as the way out unless the
// network is internal. Traffic to another network's subnet falls to the
// stack too, which refuses it: networks stay apart without a firewall.
func (in *Infra) configureBridge(b *bridge) error {
	h, n := in.h, b.net
	for _, a := range []struct {
		gw netip.Addr
		p  netip.Prefix
	}{{n.Gateway, n.Subnet}, {n.Gateway6, n.Subnet6}} {
		if !a.p.IsValid() {
			continue
		}
		if err := addAddr(h, b.link, netip.PrefixFrom(a.gw, a.p.Bits())); err != nil {
			return err
		}
	}
	if err := h.LinkSetUp(b.link); err != nil {
		return err
	}
	tap, err := h.LinkByName(tapName)
	if err != nil {
		return err
	}
	for _, r := range []struct {
		p  netip.Prefix
		gw netip.Addr
	}{{n.Subnet, n.Gateway}, {n.Subnet6, n.Gateway6}} {
		if !r.p.IsValid() {
			continue
		}
		if err := h.RouteReplace(&netlink.Route{LinkIndex: b.link.Attrs().Index, Dst: ipNet(r.p.Masked()), Table: n.table(), Scope: netlink.SCOPE_LINK}); err != nil {
			return fmt.Errorf("route to %s: %w", r.p, err)
		}
		family, gw := unix.AF_INET, stackAddr
		if r.p.Addr().Is6() {
			family, gw = unix.AF_INET6, stackAddr6
		}
		def := &netlink.Route{LinkIndex: tap.Attrs().Index, Gw: gw.AsSlice(), Table: n.table(), Family: family}
		if n.Internal {
			// Nowhere to go, and no falling through to the main table.
			all := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
			if family == unix.AF_INET6 {
				all = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
			}
			def = &netlink.Route{Dst: ipNet(all), Table: n.table(), Family: family, Type: unix.RTN_UNREACHABLE}
		}
		if err := h.RouteReplace(def); err != nil {
			return fmt.Errorf("default route of %s: %w", n.Name, err)
		}
		rule := netlink.NewRule()
		rule.Priority, rule.Family, rule.Table, rule.IifName = ruleBridge, family, n.table(), b.link.Attrs().Name
		_ = h.RuleDel(rule)
		if err := h.RuleAdd(rule); err != nil {
			return fmt.Errorf("routing rule for %s: %w", n.Name, err)
		}
	}
	return nil
}

// dropBridge removes a bridge with its rules and table; the caller holds
// in.mu and has disconnected its endpoints.
func (in *Infra) dropBridge(b *bridge) {
	b.closeDNS()
	for _, family := range []int{unix.AF_INET, unix.AF_INET6} {
		rule := netlink.NewRule()
		rule.Priority, rule.Family, rule.Table, rule.IifName = ruleBridge, family, b.net.table(), b.link.Attrs().Name
		_ = in.h.RuleDel(rule)
	}
	_ = in.h.LinkDel(b.link) // takes its routes along
	delete(in.bridges, b.net.Index)
	in.publishNetworks()
}

// RemoveNetwork tears down a network's bridge once no endpoint uses it.
func (in *Infra) RemoveNetwork(index int) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	b, ok := in.bridges[index]
	if !ok {
		return nil
	}
	if len(b.used) > 0 {
		return fmt.Errorf("network %s has active endpoints", b.net.Name)
	}
	in.dropBridge(b)
	return nil
}

// startDNS serves the network's names on its gateway, port 53, from
// sockets made in the infra namespace; upstream queries leave from the
// host's namespace, so a loopback resolver there works.
func (in *Infra) startDNS(b *bridge) error {
	hostCfg, err := dns.HostConfig(in.cfg.ResolvConf)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		in.cfg.Logf("reading %s: %v", in.cfg.ResolvConf, err)
	}
	srv := &dns.Server{Upstreams: hostCfg.Nameservers, Search: hostCfg.Search, Logf: in.cfg.Logf}
	if b.net.Names {
		srv.Records = b
	}
	addr := netip.AddrPortFrom(b.net.Gateway, 53)
	if b.dnsUDP, err = in.listenPacket(addr); err != nil {
		return err
	}
	if b.dnsTCP, err = in.listenStream(addr); err != nil {
		b.closeDNS()
		return err
	}
	go func() { _ = srv.ServePacket(b.dnsUDP) }()
	go func() { _ = srv.ServeStream(b.dnsTCP) }()
	return nil
}

func (b *bridge) closeDNS() {
	if b.dnsUDP != nil {
		b.dnsUDP.Close()
	}
	if b.dnsTCP != nil {
		b.dnsTCP.Close()
	}
}

// listenPacket binds a UDP socket in the infra namespace.
func (in *Infra) listenPacket(a netip.AddrPort) (net.PacketConn, error) {
	f, err := in.boundSocket(unix.SOCK_DGRAM, a)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return net.FilePacketConn(f)
}

// listenStream binds and listens on a TCP socket in the infra namespace.
func (in *Infra) listenStream(a netip.AddrPort) (net.Listener, error) {
	f, err := in.boundSocket(unix.SOCK_STREAM, a)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := unix.Listen(int(f.Fd()), 128); err != nil {
		return nil, err
	}
	return net.FileListener(f)
}

func (in *Infra) boundSocket(typ int, a netip.AddrPort) (*os.File, error) {
	domain := unix.AF_INET
	var sa unix.Sockaddr = &unix.SockaddrInet4{Port: int(a.Port()), Addr: a.Addr().As4()}
	if a.Addr().Is6() {
		domain = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: int(a.Port()), Addr: a.Addr().As16()}
	}
	fd, err := in.sockets.Socket(domain, typ)
	if err != nil {
		return nil, err
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("binding %s: %w", a, err)
	}
	return os.NewFile(uintptr(fd), a.String()), nil
}

// Lookup answers the network's DNS server: container names, aliases and
// id prefixes (at least 12 characters, as docker).
func (b *bridge) Lookup(name string) ([]netip.Addr, bool) {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	b.mu.RLock()
	defer b.mu.RUnlock()
	var addrs []netip.Addr
	found := false
	for ep := range b.records {
		if ep.answers(name) {
			found = true
			addrs = append(addrs, ep.addrs()...)
		}
	}
	return addrs, found
}

// LookupAddr names a container address of the network.
func (b *bridge) LookupAddr(a netip.Addr) ([]string, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for ep := range b.records {
		if ep.IP == a || ep.IP6 == a {
			return []string{ep.cfg.Name + "." + b.net.Name}, true
		}
	}
	return nil, false
}
