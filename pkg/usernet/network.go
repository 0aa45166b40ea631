// Package usernet owns rootless container networking: the per-user infra
// network namespace with one Linux bridge per network, a veth into each
// container's own namespace, addresses, the DNS server of each network,
// published ports, and the user-mode TCP/IP stack (netstack/) that is the
// namespace's only way out to the host and the world.
//
// Everything here runs in rrun's supervisor, inside the user's rootless
// user and mount namespaces but in the host's network namespace, so that
// the stack and the port listeners open ordinary host sockets. It keeps no
// state on disk: the engine owns network records and tells it what to
// connect, and recovers endpoints after a restart (Adopt).
package usernet

import (
	"fmt"
	"net"
	"net/netip"
)

// Network is one bridge network, as the engine records it.
type Network struct {
	ID       string       `json:"id"`
	Name     string       `json:"name"`
	Subnet   netip.Prefix `json:"subnet"`
	Gateway  netip.Addr   `json:"gateway"`
	Subnet6  netip.Prefix `json:"subnet6,omitzero"`
	Gateway6 netip.Addr   `json:"gateway6,omitzero"`
	// Internal networks have no way out: no route to the stack.
	Internal bool `json:"internal,omitempty"`
	// Names resolve containers by name and alias (user-defined networks);
	// docker's default bridge does not.
	Names bool `json:"names,omitempty"`
	// AllowHostLoopback maps the host gateway address to the host's
	// 127.0.0.1/::1 instead of its external address (opt-in, as
	// slirp4netns' allow_host_loopback).
	AllowHostLoopback bool `json:"allowHostLoopback,omitempty"`
	// Index numbers the network's bridge and routing table; unique per user.
	Index int `json:"index"`
}

// The link between the infra namespace and the user-mode stack, and the
// address under which containers reach the host (host.docker.internal).
var (
	linkPrefix  = netip.MustParsePrefix("10.0.2.0/24")
	stackAddr   = netip.MustParseAddr("10.0.2.2")
	tapAddr     = netip.MustParseAddr("10.0.2.100")
	linkPrefix6 = netip.MustParsePrefix("fd72:7275:6e00:2::/64")
	stackAddr6  = netip.MustParseAddr("fd72:7275:6e00:2::2")
	tapAddr6    = netip.MustParseAddr("fd72:7275:6e00:2::100")
)

// HostGateway is the address containers use for the host: it reaches the
// host's external address, or its loopback where the network allows it.
func HostGateway() netip.Addr { return stackAddr }

// HostGateway6 is HostGateway for IPv6.
func HostGateway6() netip.Addr { return stackAddr6 }

// MTU of the infra link, bridges and container interfaces: large frames
// make the user-mode stack's per-packet cost rare (see netstack/).
const MTU = 65520

// DefaultBridge is docker's default network, "bridge", with IPv6 added.
func DefaultBridge() Network {
	return Network{
		ID:       "",
		Name:     "bridge",
		Subnet:   netip.MustParsePrefix("172.17.0.0/16"),
		Gateway:  netip.MustParseAddr("172.17.0.1"),
		Subnet6:  netip.MustParsePrefix("fd72:7275:6e00:11::/64"),
		Gateway6: netip.MustParseAddr("fd72:7275:6e00:11::1"),
		Index:    0,
	}
}

// SubnetFor proposes subnets for the network with the given index, as
// docker's default address pools do: 172.18.0.0/16 … 172.31.0.0/16, then
// 192.168.0.0/20 steps; IPv6 takes ULA /64s of rrun's own prefix.
func SubnetFor(index int) (netip.Prefix, netip.Prefix, error) {
	var v4 netip.Prefix
	switch {
	case index >= 1 && index <= 14:
		v4 = netip.PrefixFrom(netip.AddrFrom4([4]byte{172, byte(17 + index), 0, 0}), 16)
	case index >= 15 && index < 15+16:
		v4 = netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 168, byte((index - 15) * 16), 0}), 20)
	default:
		return netip.Prefix{}, netip.Prefix{}, fmt.Errorf("no free address pool for another network: pass --subnet")
	}
	v := 0x11 + index // the default bridge's is :11, like its 172.17
	v6 := netip.PrefixFrom(netip.AddrFrom16([16]byte{0xfd, 0x72, 0x72, 0x75, 0x6e, 0, byte(v >> 8), byte(v)}), 64)
	return v4, v6, nil
}

// FirstHost is the first usable address of a subnet, docker's default
// gateway.
func FirstHost(p netip.Prefix) netip.Addr { return p.Masked().Addr().Next() }

// bridgeName is the network's interface in the infra namespace.
func (n Network) bridgeName() string {
	if n.Index == 0 {
		return "rrun0"
	}
	return fmt.Sprintf("rrun%d", n.Index)
}

// table is the network's routing table in the infra namespace.
func (n Network) table() int { return 1000 + n.Index }

// MACFor derives a container's MAC address from its IPv4 address, as
// docker does (02:42 and the four bytes).
func MACFor(ip netip.Addr) net.HardwareAddr {
	b := ip.As4()
	return net.HardwareAddr{0x02, 0x42, b[0], b[1], b[2], b[3]}
}
