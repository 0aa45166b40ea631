package engine

import (
	"context"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"
)

// APINetworkConnect is NetworkConnect for the Engine API. A container that
// does not run and that disconnecting left on no network (NetworkDisconnect
// makes its mode none) joins the network as its mode again: docker keeps
// the mode on disconnect, and docker-compose disconnects each container it
// creates from its network and connects it back with the service aliases.
func (e *Engine) APINetworkConnect(ctx context.Context, netRef, ctrRef string, settings *network.EndpointSettings) error {
	n, c, err := e.networkAndContainer(netRef, ctrRef)
	if err != nil {
		return err
	}
	st, err := e.currentState(c.ID)
	if err != nil {
		return err
	}
	if isRunning(st) || c.HostConfig.NetworkMode != network.NetworkNone || (c.Network != nil && len(c.Network.EndpointsConfig) > 0) {
		return e.NetworkConnect(ctx, netRef, ctrRef, settings)
	}
	if settings == nil {
		settings = &network.EndpointSettings{}
	}
	c.HostConfig.NetworkMode = container.NetworkMode(n.Name)
	c.Network = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{n.Name: settings}}
	if err := e.saveContainer(c); err != nil {
		return err
	}
	e.emit(networkEvent(events.ActionConnect, n, "container", c.ID))
	return nil
}
