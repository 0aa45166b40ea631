package engine

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"
	"github.com/sirupsen/logrus"

	"github.com/rrun/rrun/pkg/oci"
	"github.com/rrun/rrun/pkg/usernet"
	"github.com/rrun/rrun/pkg/usernet/portfwd"
)

// A container on a bridge network gets its own network namespace, held at
// $runroot/netns/<id> while it runs (a new one for each run, as its
// addresses and ports are released when it exits), and an endpoint on each
// of its networks, made by the supervisor's infra.

// attachment is what a started container's network came to.
type attachment struct {
	nsPath string // "" shares the host's network; "new" a private empty one
	// endpoints by network name, docker's inspect view, the first one
	// carries the default route and the published ports.
	endpoints map[string]*network.EndpointSettings
	primary   *network.EndpointSettings
	ports     network.PortMap
}

// containerNetworks are the networks a container is connected to, by the
// names or ids it was created with: its network mode's first, then the
// others in name order (their interfaces are eth1, eth2… in that order).
func containerNetworks(c *Container) []string {
	mode := string(c.HostConfig.NetworkMode)
	if mode == "" || mode == network.NetworkDefault {
		mode = network.NetworkBridge
	}
	if mode == network.NetworkHost || mode == network.NetworkNone || strings.HasPrefix(mode, "container:") {
		return nil
	}
	var others []string
	if c.Network != nil {
		for name := range c.Network.EndpointsConfig {
			if name != mode && name != network.NetworkDefault {
				others = append(others, name)
			}
		}
	}
	slices.Sort(others)
	return append([]string{mode}, others...)
}

// endpointSettings is the container's requested settings for a network.
func endpointSettings(c *Container, name string, first bool) *network.EndpointSettings {
	if c.Network == nil {
		return nil
	}
	if ep := c.Network.EndpointsConfig[name]; ep != nil {
		return ep
	}
	if first {
		for _, key := range []string{string(c.HostConfig.NetworkMode), network.NetworkDefault} {
			if ep := c.Network.EndpointsConfig[key]; ep != nil {
				return ep
			}
		}
	}
	return nil
}

func (e *Engine) netnsPath(id string) string { return filepath.Join(e.opts.RunRoot, "netns", id) }

// infra is the supervisor's network, started on first use.
var (
	infraMu sync.Mutex
	infra   *usernet.Infra
)

func (e *Engine) infra() (*usernet.Infra, error) {
	infraMu.Lock()
	defer infraMu.Unlock()
	if infra != nil {
		return infra, nil
	}
	in, err := usernet.Start(usernet.Config{RunRoot: e.opts.RunRoot, Logf: logrus.Debugf})
	if err != nil {
		return nil, fmt.Errorf("user-mode networking: %w", err)
	}
	infra = in
	if adopted := e.adoptEndpoints(in); len(adopted) > 0 {
		go e.releaseWhenGone(in, adopted)
	}
	return in, nil
}

// releaseWhenGone watches adopted containers, which have no monitor to
// release their network when they exit or are removed, and releases it.
func (e *Engine) releaseWhenGone(in *usernet.Infra, adopted map[string][]int) {
	for len(adopted) > 0 {
		time.Sleep(2 * time.Second)
		for id, indexes := range adopted {
			if st, err := e.currentState(id); err == nil && isRunning(st) {
				continue
			}
			for _, index := range indexes {
				in.Disconnect(id, index)
			}
			_ = usernet.RemoveNS(e.netnsPath(id))
			delete(adopted, id)
		}
	}
}

// adoptEndpoints takes back the endpoints of containers that kept running
// while no supervisor was there (it was killed): their addresses stay
// theirs and their ports are published again. It returns the network
// indexes it adopted, by container.
func (e *Engine) adoptEndpoints(in *usernet.Infra) map[string][]int {
	adopted := map[string][]int{}
	views, err := e.views()
	if err != nil {
		return adopted
	}
	for _, v := range views {
		if !isRunning(v.st) {
			continue
		}
		refs := containerNetworks(v.c)
		for i, ref := range refs {
			n, err := e.lookupNetwork(ref)
			if err != nil {
				continue
			}
			s := v.st.Networks[n.Name]
			if s == nil {
				continue
			}
			cfg := usernet.EndpointConfig{ContainerID: v.c.ID, Name: v.c.Name, Network: n.Network, Aliases: s.Aliases, DefaultRoute: i == 0}
			rec := usernet.Endpoint{IP: s.IPAddress, IP6: s.GlobalIPv6Address, MAC: []byte(s.MacAddress), Gateway: s.Gateway,
				Gateway6: s.IPv6Gateway, Bits: s.IPPrefixLen, Bits6: s.GlobalIPv6PrefixLen}
			if i == 0 {
				rec.Ports = recordedPorts(v.st.Ports)
			}
			if _, err := in.Adopt(cfg, rec); err != nil {
				logrus.Warnf("container %s: taking back its network %s: %v", v.c.Name, n.Name, err)
				continue
			}
			adopted[v.c.ID] = append(adopted[v.c.ID], n.Index)
		}
	}
	return adopted
}

// recordedPorts turns a container's recorded bindings back into ports.
func recordedPorts(pm network.PortMap) []usernet.Port {
	var out []usernet.Port
	for port, bindings := range pm {
		for _, b := range bindings {
			hp, _ := strconv.ParseUint(b.HostPort, 10, 16)
			hostIP := b.HostIP
			if hostIP.IsUnspecified() {
				if hostIP.Is6() {
					continue // the 0.0.0.0 binding covers both families
				}
				hostIP = netip.Addr{}
			}
			out = append(out, usernet.Port{Proto: string(port.Proto()), HostIP: hostIP, HostPort: uint16(hp), ContainerPort: port.Num()})
		}
	}
	return out
}

// connectNetworks gives a starting container its network: the host's, an
// empty one, another container's, or its bridge networks' endpoints.
func (e *Engine) connectNetworks(c *Container) (*attachment, error) {
	mode := string(c.HostConfig.NetworkMode)
	switch {
	case mode == network.NetworkHost:
		return &attachment{}, nil
	case mode == network.NetworkNone:
		return &attachment{nsPath: oci.NetNSNew}, nil
	case strings.HasPrefix(mode, "container:"):
		return e.joinContainerNetwork(strings.TrimPrefix(mode, "container:"))
	}
	refs := containerNetworks(c)
	nets := make([]*networkRecord, 0, len(refs))
	for _, ref := range refs {
		n, err := e.lookupNetwork(ref)
		if err != nil {
			return nil, err
		}
		if n.Driver != driverBridge {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("container cannot be connected to network %s alongside others", n.Name))
		}
		nets = append(nets, n)
	}
	in, err := e.infra()
	if err != nil {
		return nil, err
	}
	ports, err := publishedPorts(c)
	if err != nil {
		return nil, err
	}
	// A fresh namespace for every run: one left by a monitor that was
	// killed still holds the old interfaces.
	path := e.netnsPath(c.ID)
	if err := usernet.RemoveNS(path); err != nil {
		return nil, err
	}
	if err := usernet.NewNS(path); err != nil {
		return nil, err
	}
	att := &attachment{nsPath: path, endpoints: map[string]*network.EndpointSettings{}, ports: network.PortMap{}}
	for i, n := range nets {
		want := endpointSettings(c, refs[i], i == 0)
		cfg := usernet.EndpointConfig{
			ContainerID: c.ID, Name: c.Name, Network: n.Network,
			IfName: "eth" + strconv.Itoa(i), DefaultRoute: i == 0,
		}
		if want != nil {
			cfg.Aliases = want.Aliases
			if want.IPAMConfig != nil {
				cfg.IP, cfg.IP6 = want.IPAMConfig.IPv4Address, want.IPAMConfig.IPv6Address
			}
			if len(want.MacAddress) > 0 {
				cfg.MAC = []byte(want.MacAddress)
			}
		}
		if i == 0 {
			cfg.Ports = ports
		}
		ep, err := in.Connect(path, cfg)
		if err != nil {
			e.disconnectNetworks(c)
			return nil, portError(c, err)
		}
		settings := endpointView(n, ep, cfg)
		att.endpoints[n.Name] = settings
		e.emit(networkEvent(events.ActionConnect, n, "container", c.ID))
		if i == 0 {
			att.primary = settings
			for _, p := range ep.Ports {
				key, _ := network.ParsePort(fmt.Sprintf("%d/%s", p.ContainerPort, p.Proto))
				hostPort := strconv.Itoa(int(p.HostPort))
				if p.HostIP.IsValid() && !p.HostIP.IsUnspecified() {
					att.ports[key] = append(att.ports[key], network.PortBinding{HostIP: p.HostIP, HostPort: hostPort})
					continue
				}
				// Both families, as docker lists its 0.0.0.0 and [::] listeners.
				att.ports[key] = append(att.ports[key],
					network.PortBinding{HostIP: netip.IPv4Unspecified(), HostPort: hostPort},
					network.PortBinding{HostIP: netip.IPv6Unspecified(), HostPort: hostPort})
			}
		}
	}
	return att, nil
}

// endpointView is docker's EndpointSettings for an endpoint.
func endpointView(n *networkRecord, ep *usernet.Endpoint, cfg usernet.EndpointConfig) *network.EndpointSettings {
	s := &network.EndpointSettings{
		Aliases:     cfg.Aliases,
		NetworkID:   n.ID,
		EndpointID:  newNetworkID(),
		Gateway:     ep.Gateway,
		IPAddress:   ep.IP,
		IPPrefixLen: ep.Bits,
		MacAddress:  network.HardwareAddr(ep.MAC),
		DNSNames:    []string{cfg.Name, cfg.ContainerID[:12]},
	}
	if ep.IP6.IsValid() {
		s.IPv6Gateway, s.GlobalIPv6Address, s.GlobalIPv6PrefixLen = ep.Gateway6, ep.IP6, ep.Bits6
	}
	s.DNSNames = append(s.DNSNames, cfg.Aliases...)
	if cfg.IP.IsValid() || cfg.IP6.IsValid() {
		s.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: cfg.IP, IPv6Address: cfg.IP6}
	}
	return s
}

// portError words a host port that cannot be bound as docker does.
func portError(c *Container, err error) error {
	var bind *portfwd.BindError
	if errors.As(err, &bind) {
		msg := fmt.Sprintf("driver failed programming external connectivity on endpoint %s (%s): %v", c.Name, c.ID, err)
		if errors.Is(err, portfwd.ErrPortInUse) {
			return errdefs.ErrConflict.WithMessage(msg)
		}
		return errdefs.ErrUnavailable.WithMessage(msg)
	}
	return err
}

// joinContainerNetwork shares a running container's network namespace.
func (e *Engine) joinContainerNetwork(ref string) (*attachment, error) {
	other, err := e.lookupContainer(ref)
	if err != nil {
		return nil, err
	}
	st, err := e.currentState(other.ID)
	if err != nil {
		return nil, err
	}
	if !isRunning(st) {
		return nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf("cannot join network namespace of a non running container: container %s is %s", other.ID, st.Status))
	}
	switch string(other.HostConfig.NetworkMode) {
	case network.NetworkHost:
		return &attachment{}, nil
	}
	path := e.netnsPath(other.ID)
	if !usernet.IsNS(path) {
		// A --network none container, or one joined to yet another: its
		// namespace is its init's.
		path = fmt.Sprintf("/proc/%d/ns/net", st.Pid)
	}
	return &attachment{nsPath: path}, nil
}

// disconnectNetworks releases a stopped container's endpoints and
// namespace, and emits docker's disconnect events.
func (e *Engine) disconnectNetworks(c *Container) {
	for _, ev := range e.releaseNetworks(c) {
		e.emit(ev)
	}
}

// releaseNetworks releases a stopped container's endpoints and namespace,
// and returns the disconnect events for the caller to emit (docker sends
// them after the container's die).
func (e *Engine) releaseNetworks(c *Container) []events.Message {
	refs := containerNetworks(c)
	if len(refs) == 0 {
		return nil
	}
	infraMu.Lock()
	in := infra
	infraMu.Unlock()
	var evs []events.Message
	if in != nil {
		for _, ref := range refs {
			if n, err := e.lookupNetwork(ref); err == nil && in.Disconnect(c.ID, n.Index) {
				evs = append(evs, networkEvent(events.ActionDisconnect, n, "container", c.ID))
			}
		}
	}
	if err := usernet.RemoveNS(e.netnsPath(c.ID)); err != nil {
		logrus.Warnf("container %s: %v", c.Name, err)
	}
	return evs
}

// publishedPorts are the container's -p and -P ports; -P gives every
// exposed port without a binding a free host port.
func publishedPorts(c *Container) ([]usernet.Port, error) {
	var out []usernet.Port
	seen := map[network.Port]bool{}
	for port, bindings := range c.HostConfig.PortBindings {
		seen[port] = true
		for _, b := range bindings {
			first, last, err := parseHostPort(b.HostPort)
			if err != nil {
				return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid host port %q for %s: %v", b.HostPort, port, err))
			}
			out = append(out, usernet.Port{Proto: string(port.Proto()), HostIP: b.HostIP, HostPort: first, HostPortEnd: last, ContainerPort: port.Num()})
		}
	}
	if c.HostConfig.PublishAllPorts {
		for port := range c.Config.ExposedPorts {
			if !seen[port] {
				out = append(out, usernet.Port{Proto: string(port.Proto()), ContainerPort: port.Num()})
			}
		}
	}
	return out, nil
}

// parseHostPort reads a binding's host port: "" for any free one, or a
// range ("8000-8010") whose first free port is taken, as docker does.
func parseHostPort(s string) (first, last uint16, err error) {
	if s == "" {
		return 0, 0, nil
	}
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := strconv.ParseUint(lo, 10, 16)
	if err != nil {
		return 0, 0, err
	}
	if !isRange {
		return uint16(a), 0, nil
	}
	b, err := strconv.ParseUint(hi, 10, 16)
	if err != nil || b < a {
		return 0, 0, fmt.Errorf("invalid port range %s", s)
	}
	return uint16(a), uint16(b), nil
}

// networkEndpoints are the running containers' endpoints, by network id.
type endpointOf struct {
	c  *Container
	ep *network.EndpointSettings
}

func (e *Engine) networkEndpoints() (map[string][]endpointOf, error) {
	views, err := e.views()
	if err != nil {
		return nil, err
	}
	out := map[string][]endpointOf{}
	for _, v := range views {
		if !isRunning(v.st) {
			continue
		}
		for _, ep := range v.st.Networks {
			out[ep.NetworkID] = append(out[ep.NetworkID], endpointOf{v.c, ep})
		}
	}
	return out, nil
}
