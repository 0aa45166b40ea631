package usernet

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/rrun/rrun/pkg/usernet/netstack"
	"github.com/rrun/rrun/pkg/usernet/portfwd"
)

// EndpointConfig asks for a container's attachment to one network.
type EndpointConfig struct {
	ContainerID string
	Name        string   // container name, resolvable on the network
	Aliases     []string // --network-alias
	Network     Network
	IfName      string     // eth0 for the first network
	IP          netip.Addr // --ip; zero = allocate
	IP6         netip.Addr // --ip6; zero = allocate
	MAC         net.HardwareAddr
	// DefaultRoute makes this network the container's way out.
	DefaultRoute bool
	Ports        []Port
}

// Port is one published port.
type Port struct {
	Proto    string     `json:"proto"` // tcp, udp
	HostIP   netip.Addr `json:"hostIP,omitzero"`
	HostPort uint16     `json:"hostPort"` // 0 = any free port
	// HostPortEnd, when above HostPort, makes HostPort-HostPortEnd a range
	// to take the first free port of, as docker does with -p 8000-8010:80.
	HostPortEnd   uint16 `json:"hostPortEnd,omitempty"`
	ContainerPort uint16 `json:"containerPort"`
}

// Endpoint is a container's attachment, as inspect shows it.
type Endpoint struct {
	cfg      EndpointConfig
	IP       netip.Addr       `json:"ip"`
	IP6      netip.Addr       `json:"ip6,omitzero"`
	MAC      net.HardwareAddr `json:"mac"`
	Gateway  netip.Addr       `json:"gateway"`
	Gateway6 netip.Addr       `json:"gateway6,omitzero"`
	Bits     int              `json:"bits"`
	Bits6    int              `json:"bits6,omitzero"`
	// Ports are the published ports with the host ports actually bound.
	Ports     []Port `json:"ports,omitempty"`
	HostIface string `json:"hostIface"`
	listeners []*portfwd.Listener
}

func endpointKey(id string, index int) string { return fmt.Sprintf("%s/%d", id, index) }

// answers says whether a DNS name is this endpoint's.
func (ep *Endpoint) answers(name string) bool {
	if strings.EqualFold(ep.cfg.Name, name) || (len(name) >= 12 && strings.HasPrefix(ep.cfg.ContainerID, name)) {
		return true
	}
	for _, a := range ep.cfg.Aliases {
		if strings.EqualFold(a, name) {
			return true
		}
	}
	return false
}

func (ep *Endpoint) addrs() []netip.Addr {
	addrs := []netip.Addr{ep.IP}
	if ep.IP6.IsValid() {
		addrs = append(addrs, ep.IP6)
	}
	return addrs
}

func (ep *Endpoint) closePorts() {
	for _, l := range ep.listeners {
		l.Close()
	}
	ep.listeners = nil
}

// Connect attaches the container whose network namespace is held at nsPath
// to a network: a veth from the network's bridge, addresses, routes,
// DNS records and published ports. On error nothing is left behind.
func (in *Infra) Connect(nsPath string, cfg EndpointConfig) (*Endpoint, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	key := endpointKey(cfg.ContainerID, cfg.Network.Index)
	if _, ok := in.endpoints[key]; ok {
		return nil, fmt.Errorf("container is already connected to network %s", cfg.Network.Name)
	}
	b, err := in.ensureBridge(cfg.Network)
	if err != nil {
		return nil, err
	}
	ep := &Endpoint{cfg: cfg, Gateway: b.net.Gateway, Bits: b.net.Subnet.Bits()}
	if err := in.connect(nsPath, b, ep, key); err != nil {
		in.release(b, ep)
		return nil, err
	}
	in.register(b, ep, key)
	return ep, nil
}

// register makes a connected endpoint known, to Disconnect and to its
// network's DNS server; the caller holds in.mu.
func (in *Infra) register(b *bridge, ep *Endpoint, key string) {
	in.endpoints[key] = ep
	b.mu.Lock()
	b.records[ep] = struct{}{}
	b.mu.Unlock()
}

// connect takes ep's addresses and makes its interfaces and ports; on
// error, release undoes what was done.
func (in *Infra) connect(nsPath string, b *bridge, ep *Endpoint, key string) (err error) {
	cfg := ep.cfg
	if ep.IP, err = allocate(b, b.net.Subnet, b.net.Gateway, cfg.IP); err != nil {
		return err
	}
	b.used[ep.IP] = key
	if b.net.Subnet6.IsValid() {
		ep.Gateway6, ep.Bits6 = b.net.Gateway6, b.net.Subnet6.Bits()
		if ep.IP6, err = allocate(b, b.net.Subnet6, b.net.Gateway6, cfg.IP6); err != nil {
			return err
		}
		b.used[ep.IP6] = key
	}
	ep.MAC = cfg.MAC
	if ep.MAC == nil {
		ep.MAC = MACFor(ep.IP)
	}
	if err := in.plumb(nsPath, b, ep); err != nil {
		return err
	}
	return in.publish(b, ep)
}

// allocate picks want, or the lowest free address of the subnet.
func allocate(b *bridge, p netip.Prefix, gw, want netip.Addr) (netip.Addr, error) {
	if want.IsValid() {
		switch {
		case !p.Contains(want):
			return netip.Addr{}, fmt.Errorf("invalid address %s: it does not belong to the network's subnet %s", want, p)
		case want == gw:
			return netip.Addr{}, fmt.Errorf("address %s is the network's gateway", want)
		case b.used[want] != "":
			return netip.Addr{}, fmt.Errorf("address %s is already in use", want)
		}
		return want, nil
	}
	for a := p.Masked().Addr().Next(); p.Contains(a); a = a.Next() {
		if a == gw || b.used[a] != "" {
			continue
		}
		if a.Is4() && !p.Contains(a.Next()) {
			break // the broadcast address
		}
		return a, nil
	}
	return netip.Addr{}, fmt.Errorf("no free address left in network %s (%s)", b.net.Name, p)
}

// plumb makes the veth pair, one end on the bridge and the other in the
// container's namespace, configured there.
func (in *Infra) plumb(nsPath string, b *bridge, ep *Endpoint) error {
	ns, err := os.Open(nsPath)
	if err != nil {
		return fmt.Errorf("opening the container's network namespace: %w", err)
	}
	defer ns.Close()
	ifName := ep.cfg.IfName
	if ifName == "" {
		ifName = "eth0"
	}
	ep.HostIface = "veth" + randomHex(4)[:7]
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: ep.HostIface, MTU: MTU, MasterIndex: b.link.Attrs().Index},
		PeerName:      ifName,
		PeerNamespace: netlink.NsFd(int(ns.Fd())),
	}
	if err := in.h.LinkAdd(veth); err != nil {
		return fmt.Errorf("creating veth for %s: %w", b.net.Name, err)
	}
	host, err := in.h.LinkByName(ep.HostIface)
	if err == nil {
		err = in.h.LinkSetUp(host)
	}
	if err != nil {
		return err
	}
	return InNS(nsPath, func() error {
		h, err := netlink.NewHandle()
		if err != nil {
			return err
		}
		defer h.Close()
		if lo, err := h.LinkByName("lo"); err == nil {
			_ = h.LinkSetUp(lo)
		}
		link, err := h.LinkByName(ifName)
		if err != nil {
			return err
		}
		if err := h.LinkSetHardwareAddr(link, ep.MAC); err != nil {
			return err
		}
		// Never autoconfigure from router advertisements: addresses are ours.
		_ = os.WriteFile("/proc/sys/net/ipv6/conf/"+ifName+"/accept_ra", []byte("0"), 0o644)
		if err := addAddr(h, link, netip.PrefixFrom(ep.IP, ep.Bits)); err != nil {
			return err
		}
		if ep.IP6.IsValid() {
			if err := addAddr(h, link, netip.PrefixFrom(ep.IP6, ep.Bits6)); err != nil {
				return err
			}
		}
		if err := h.LinkSetUp(link); err != nil {
			return err
		}
		if !ep.cfg.DefaultRoute || b.net.Internal {
			return nil
		}
		for _, gw := range []netip.Addr{ep.Gateway, ep.Gateway6} {
			if gw.IsValid() {
				if err := h.RouteReplace(&netlink.Route{LinkIndex: link.Attrs().Index, Gw: gw.AsSlice()}); err != nil {
					return fmt.Errorf("default route via %s: %w", gw, err)
				}
			}
		}
		return nil
	})
}

// publish binds the endpoint's host ports and routes the container's
// replies from each published port back to the forwarder's transparent
// sockets (see portReplyTable).
func (in *Infra) publish(b *bridge, ep *Endpoint) error {
	for _, p := range ep.cfg.Ports {
		m := portfwd.Mapping{
			Proto:    portfwd.Proto(p.Proto),
			HostIP:   p.HostIP,
			HostPort: p.HostPort,
			Target:   netip.AddrPortFrom(ep.IP, p.ContainerPort),
			Source:   in.sourceFor(b),
		}
		if ep.IP6.IsValid() {
			m.Target6 = netip.AddrPortFrom(ep.IP6, p.ContainerPort)
		}
		l, err := portfwd.Listen(m, in.sockets.Socket)
		for errors.Is(err, portfwd.ErrPortInUse) && m.HostPort != 0 && m.HostPort < p.HostPortEnd {
			m.HostPort++
			l, err = portfwd.Listen(m, in.sockets.Socket)
		}
		if err != nil {
			return err
		}
		p.HostPortEnd = 0
		ep.listeners = append(ep.listeners, l)
		p.HostPort = l.HostPort()
		ep.Ports = append(ep.Ports, p)
		for _, a := range ep.addrs() {
			if err := in.h.RuleAdd(portRule(b, a, p)); err != nil && !errors.Is(err, unix.EEXIST) {
				return fmt.Errorf("routing replies of port %d: %w", p.ContainerPort, err)
			}
		}
	}
	return nil
}

func portRule(b *bridge, a netip.Addr, p Port) *netlink.Rule {
	r := netlink.NewRule()
	r.Priority, r.Table, r.IifName = rulePortReply, portReplyTable, b.link.Attrs().Name
	r.Family = unix.AF_INET
	if a.Is6() {
		r.Family = unix.AF_INET6
	}
	r.Src = ipNet(netip.PrefixFrom(a, a.BitLen()))
	r.IPProto = unix.IPPROTO_TCP
	if p.Proto == "udp" {
		r.IPProto = unix.IPPROTO_UDP
	}
	r.Sport = netlink.NewRulePortRange(p.ContainerPort, p.ContainerPort)
	return r
}

// sourceFor maps a client of a published port to the source the container
// sees: the client itself, except where it cannot be (a loopback client,
// or IPv6 to IPv4): then the network's gateway, as docker's proxy shows.
func (in *Infra) sourceFor(b *bridge) func(client, target netip.AddrPort) netip.AddrPort {
	return func(client, target netip.AddrPort) netip.AddrPort {
		c := client.Addr().Unmap()
		t := target.Addr()
		if c.IsLoopback() || c.Is4() != t.Is4() || c.IsLinkLocalUnicast() {
			gw := b.net.Gateway
			if t.Is6() {
				gw = b.net.Gateway6
			}
			return netip.AddrPortFrom(gw, 0)
		}
		return netip.AddrPortFrom(c, client.Port())
	}
}

// Disconnect detaches a container from a network. Its ports, routing
// rules and DNS names go at once; its veth is deleted in the background,
// as the kernel takes tens of milliseconds over it, and its addresses are
// free once the veth is gone. It says whether there was such an endpoint.
func (in *Infra) Disconnect(containerID string, index int) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	key := endpointKey(containerID, index)
	ep, ok := in.endpoints[key]
	if !ok {
		return false
	}
	delete(in.endpoints, key)
	b := in.bridges[index]
	in.unpublish(b, ep)
	in.pending.Add(1)
	go func() {
		defer in.pending.Done()
		in.deleteVeth(ep)
		in.mu.Lock()
		in.freeAddrs(b, ep)
		in.mu.Unlock()
	}()
	return true
}

// release undoes a Connect that failed half-way; the caller holds in.mu.
func (in *Infra) release(b *bridge, ep *Endpoint) {
	in.unpublish(b, ep)
	in.deleteVeth(ep)
	in.freeAddrs(b, ep)
}

// unpublish closes ep's ports and forgets its names; the caller holds in.mu.
func (in *Infra) unpublish(b *bridge, ep *Endpoint) {
	ep.closePorts()
	if b == nil {
		return
	}
	for _, p := range ep.Ports {
		for _, a := range ep.addrs() {
			_ = in.h.RuleDel(portRule(b, a, p))
		}
	}
	b.mu.Lock()
	delete(b.records, ep)
	b.mu.Unlock()
}

// deleteVeth removes ep's veth pair (its peer in the container goes too).
func (in *Infra) deleteVeth(ep *Endpoint) {
	if ep.HostIface == "" {
		return
	}
	if l, err := in.h.LinkByName(ep.HostIface); err == nil {
		_ = in.h.LinkDel(l)
	}
}

// freeAddrs returns ep's addresses to the pool; the caller holds in.mu.
func (in *Infra) freeAddrs(b *bridge, ep *Endpoint) {
	if b == nil {
		return
	}
	for _, a := range ep.addrs() {
		if a.IsValid() && b.used[a] == endpointKey(ep.cfg.ContainerID, b.net.Index) {
			delete(b.used, a)
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Adopt takes back an endpoint that a previous supervisor made (the
// container kept running while its supervisor was gone): its addresses,
// DNS records and published ports come back; the veth never went away.
func (in *Infra) Adopt(cfg EndpointConfig, rec Endpoint) (*Endpoint, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	key := endpointKey(cfg.ContainerID, cfg.Network.Index)
	if ep, ok := in.endpoints[key]; ok {
		return ep, nil
	}
	b, err := in.ensureBridge(cfg.Network)
	if err != nil {
		return nil, err
	}
	ep := &rec
	cfg.Ports = rec.Ports // the host ports it had, not new random ones
	ep.cfg, ep.Ports, ep.listeners = cfg, nil, nil
	for _, a := range ep.addrs() {
		if other := b.used[a]; other != "" {
			return nil, fmt.Errorf("address %s is taken by another endpoint", a)
		}
	}
	for _, a := range ep.addrs() {
		b.used[a] = key
	}
	if err := in.publish(b, ep); err != nil {
		in.unpublish(b, ep) // the veth stays: the container still uses it
		in.freeAddrs(b, ep)
		return nil, err
	}
	in.register(b, ep, key)
	return ep, nil
}

// DirectPolicy is the policy for a container's connects that bypass the
// stack (package bypass): the flows the stack would let a container at src
// make, to the host address the stack would use, and nothing else.
func (in *Infra) DirectPolicy(src netip.Addr) func(dst netip.AddrPort) (netip.AddrPort, bool) {
	return func(dst netip.AddrPort) (netip.AddrPort, bool) {
		host, err := in.outbound(netstack.ProtoTCP, netip.AddrPortFrom(src, 0), dst)
		return host, err == nil
	}
}
