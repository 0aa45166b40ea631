package engine

import (
	"context"
	"net/netip"

	"github.com/moby/moby/api/types/network"
)

// Ports returns the container's published ports as docker's
// NetworkSettings.Ports shows them: each container port with the host
// addresses that forward to it. A container that does not run publishes
// none.
func (e *Engine) Ports(ctx context.Context, ref string) (network.PortMap, error) {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return nil, err
	}
	st, err := e.currentState(c.ID)
	if err != nil {
		return nil, err
	}
	ports := network.PortMap{}
	if !isRunning(st) || !publishesPorts(c) {
		return ports, nil
	}
	for port, bindings := range c.HostConfig.PortBindings {
		for _, b := range bindings {
			if !b.HostIP.IsValid() {
				b.HostIP = netip.IPv4Unspecified()
			}
			ports[port] = append(ports[port], b)
		}
	}
	return ports, nil
}

// publishesPorts says whether the container's network forwards ports
// from the host. None does yet: until user-mode networking lands, a
// container shares the host's network, where docker too discards -p (its
// ports are the host's), or has none. The forwarder will report the host
// ports it bound (for -p with no host port too) here.
func publishesPorts(c *Container) bool { return false }
