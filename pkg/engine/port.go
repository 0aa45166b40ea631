package engine

import (
	"context"

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
	if !isRunning(st) {
		return ports, nil
	}
	for port, bindings := range st.Ports {
		ports[port] = append(ports[port], bindings...)
	}
	return ports, nil
}
