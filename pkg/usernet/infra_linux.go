package usernet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/rrun/rrun/pkg/usernet/dns"
	"github.com/rrun/rrun/pkg/usernet/netstack"
)

// Config configures the infra.
type Config struct {
	// RunRoot holds the namespace files (RunRoot/netns/…).
	RunRoot string
	// ResolvConf is the host's resolver configuration; /etc/resolv.conf.
	ResolvConf string
	Logf       func(format string, args ...any)
}

// Infra is the user's container network: the infra namespace, its bridges
// and the stack behind them. One per run root, in the supervisor.
type Infra struct {
	cfg     Config
	nsPath  string
	h       *netlink.Handle // bound to the infra namespace
	sockets *SocketMaker
	tapFD   int // handed to the stack, which owns and closes it
	stack   *netstack.Stack

	mu        sync.Mutex
	bridges   map[int]*bridge      // by Network.Index
	endpoints map[string]*Endpoint // by endpointKey
	networks  atomic.Pointer[[]Network]
	pending   sync.WaitGroup // background veth deletions
}

const (
	tapName = "rrun-tap0"
	// portReplyTable delivers containers' replies to forwarded
	// connections locally, to the transparent sockets that made them.
	portReplyTable = 99
	rulePortReply  = 100
	ruleBridge     = 2000
)

// Start brings up the infra namespace (made on first use, kept across
// supervisor restarts) and the stack behind it.
func Start(cfg Config) (in *Infra, err error) {
	if cfg.ResolvConf == "" {
		cfg.ResolvConf = "/etc/resolv.conf"
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	dir := filepath.Join(cfg.RunRoot, "netns")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	in = &Infra{cfg: cfg, tapFD: -1, nsPath: filepath.Join(dir, "infra"), bridges: map[int]*bridge{}, endpoints: map[string]*Endpoint{}}
	if !IsNS(in.nsPath) {
		_ = RemoveNS(in.nsPath)
		if err := NewNS(in.nsPath); err != nil {
			return nil, err
		}
	}
	defer func() {
		if err != nil {
			in.Close()
		}
	}()
	if err := InNS(in.nsPath, in.setupNamespace); err != nil {
		return nil, err
	}
	if in.sockets, err = NewSocketMaker(in.nsPath); err != nil {
		return nil, err
	}
	fd := in.tapFD
	in.tapFD = -1 // the stack owns it now, even if it fails to start
	in.stack, err = netstack.Start(netstack.Config{
		FD:       fd,
		VnetHdr:  true,
		MTU:      MTU,
		Addr:     netip.PrefixFrom(stackAddr, linkPrefix.Bits()),
		Peer:     tapAddr,
		Addr6:    netip.PrefixFrom(stackAddr6, linkPrefix6.Bits()),
		Peer6:    tapAddr6,
		Outbound: in.outbound,
		Logf:     cfg.Logf,
	})
	if err != nil {
		return nil, fmt.Errorf("starting the user-mode network stack: %w", err)
	}
	return in, nil
}

// setupNamespace runs inside the infra namespace: forwarding on, the TAP
// to the stack up with its addresses and routes.
func (in *Infra) setupNamespace() error {
	for _, s := range [][2]string{
		{"net/ipv4/ip_forward", "1"},
		{"net/ipv6/conf/all/forwarding", "1"},
		{"net/ipv4/conf/all/rp_filter", "0"},
		{"net/ipv4/conf/default/rp_filter", "0"},
	} {
		if err := os.WriteFile("/proc/sys/"+s[0], []byte(s[1]), 0o644); err != nil {
			return fmt.Errorf("setting %s in the infra network namespace: %w", s[0], err)
		}
	}
	h, err := netlink.NewHandle()
	if err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	in.h = h
	lo, err := h.LinkByName("lo")
	if err == nil {
		err = h.LinkSetUp(lo)
	}
	if err != nil {
		return fmt.Errorf("bringing up lo: %w", err)
	}
	if old, err := h.LinkByName(tapName); err == nil {
		_ = h.LinkDel(old) // a persistent leftover; ours vanish with their fd
	}
	if in.tapFD, err = openTAP(tapName); err != nil {
		return err
	}
	tap, err := h.LinkByName(tapName)
	if err != nil {
		return err
	}
	if err := h.LinkSetMTU(tap, MTU); err != nil {
		return err
	}
	if err := addAddr(h, tap, netip.PrefixFrom(tapAddr, linkPrefix.Bits())); err != nil {
		return err
	}
	if err := addAddr(h, tap, netip.PrefixFrom(tapAddr6, linkPrefix6.Bits())); err != nil {
		return err
	}
	if err := h.LinkSetUp(tap); err != nil {
		return err
	}
	for _, gw := range []netip.Addr{stackAddr, stackAddr6} {
		if err := h.RouteReplace(&netlink.Route{LinkIndex: tap.Attrs().Index, Gw: gw.AsSlice()}); err != nil {
			return fmt.Errorf("default route via the stack: %w", err)
		}
	}
	for _, all := range []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")} {
		if err := h.RouteReplace(&netlink.Route{
			LinkIndex: lo.Attrs().Index, Dst: ipNet(all), Table: portReplyTable,
			Type: unix.RTN_LOCAL, Scope: netlink.SCOPE_HOST,
		}); err != nil {
			return fmt.Errorf("port reply route: %w", err)
		}
	}
	return nil
}

// openTAP creates the TAP device in the current thread's namespace.
func openTAP(name string) (int, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("opening /dev/net/tun: %w (rootless networking needs it readable and writable by the user: chmod 0666 /dev/net/tun, or use --network host or none)", err)
	}
	var req [unix.IFNAMSIZ + 64]byte
	copy(req[:], name)
	// The virtio-net header lets the kernel and the stack pass checksum
	// work and TCP super-segments to each other (netstack.Config.VnetHdr).
	*(*uint16)(unsafe.Pointer(&req[unix.IFNAMSIZ])) = unix.IFF_TAP | unix.IFF_NO_PI | unix.IFF_VNET_HDR
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETIFF, uintptr(unsafe.Pointer(&req[0]))); errno != 0 {
		unix.Close(fd)
		return -1, fmt.Errorf("creating TAP device %s: %w", name, errno)
	}
	return fd, nil
}

// Close stops the stack and the forwarders. The namespace, bridges and
// containers' interfaces stay, for the next supervisor to adopt.
func (in *Infra) Close() {
	// The stack first, and without in.mu: it waits for flows being
	// decided by outbound.
	if in.stack != nil {
		in.stack.Close()
	} else if in.tapFD >= 0 {
		unix.Close(in.tapFD)
	}
	in.pending.Wait()
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, ep := range in.endpoints {
		ep.closePorts()
	}
	for _, b := range in.bridges {
		b.closeDNS()
	}
	if in.sockets != nil {
		in.sockets.Close()
	}
	if in.h != nil {
		in.h.Close()
	}
}

// outbound is the stack's policy for flows containers start: the host
// gateway means the host (its loopback only where the network allows),
// container and link subnets are never left through the stack (that is
// how networks stay apart), and the rest goes where it was addressed.
//
// It runs on the stack's packet path (for UDP and ICMP), so it reads a
// snapshot of the networks instead of waiting for in.mu.
func (in *Infra) outbound(proto netstack.Proto, src, dst netip.AddrPort) (netip.AddrPort, error) {
	nets := in.networks.Load()
	if nets == nil {
		return netip.AddrPort{}, errors.New("no networks yet")
	}
	from := networkOf(*nets, src.Addr())
	if from == nil {
		return netip.AddrPort{}, fmt.Errorf("%s is not a container address", src.Addr())
	}
	if from.Internal {
		return netip.AddrPort{}, fmt.Errorf("network %s is internal", from.Name)
	}
	a := dst.Addr().Unmap()
	if a == stackAddr || a == stackAddr6 {
		host, err := hostAddress(a.Is4(), from.AllowHostLoopback)
		if err != nil {
			return netip.AddrPort{}, err
		}
		return netip.AddrPortFrom(host, dst.Port()), nil
	}
	if a.IsLoopback() || a.IsUnspecified() || a.IsMulticast() || linkPrefix.Contains(a) || linkPrefix6.Contains(a) || networkOf(*nets, a) != nil {
		return netip.AddrPort{}, fmt.Errorf("%s is not reachable through the stack", a)
	}
	return dst, nil
}

// networkOf is the network whose subnet holds a.
func networkOf(nets []Network, a netip.Addr) *Network {
	a = a.Unmap()
	for i := range nets {
		if nets[i].Subnet.Contains(a) || (nets[i].Subnet6.IsValid() && nets[i].Subnet6.Contains(a)) {
			return &nets[i]
		}
	}
	return nil
}

// publishNetworks refreshes outbound's snapshot; the caller holds in.mu.
func (in *Infra) publishNetworks() {
	nets := make([]Network, 0, len(in.bridges))
	for _, b := range in.bridges {
		nets = append(nets, b.net)
	}
	in.networks.Store(&nets)
}

// hostAddress is where the host gateway leads: the host's loopback when
// allowed, else its first global address of the family.
func hostAddress(v4, loopback bool) (netip.Addr, error) {
	if loopback {
		if v4 {
			return netip.MustParseAddr("127.0.0.1"), nil
		}
		return netip.IPv6Loopback(), nil
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return netip.Addr{}, err
	}
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(n.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		if ip.Is4() == v4 && ip.IsGlobalUnicast() {
			return ip, nil
		}
	}
	return netip.Addr{}, errors.New("the host has no external address to reach it by (create the network with -o allow_host_loopback=true to reach its loopback)")
}

// ipNet converts a prefix for netlink.
func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// addAddr assigns an address without IPv6 duplicate address detection,
// which would hold the address back for a second or two.
func addAddr(h *netlink.Handle, link netlink.Link, p netip.Prefix) error {
	a := &netlink.Addr{IPNet: ipNet(p)}
	if p.Addr().Is6() {
		a.Flags = unix.IFA_F_NODAD
	}
	if err := h.AddrReplace(link, a); err != nil {
		return fmt.Errorf("adding address %s to %s: %w", p, link.Attrs().Name, err)
	}
	return nil
}

var _ = dns.HostConfig
