package engine

import (
	"github.com/moby/moby/api/types/network"
)

// ConfiguredNetworks is what docker's inspect shows in
// NetworkSettings.Networks for a container that does not run: each network
// it is to join, with its requested settings and the network's ID, but no
// addresses. Compose reads it to decide whether a created container is
// already on its network.
func (e *Engine) ConfiguredNetworks(ref string) (map[string]*network.EndpointSettings, error) {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return nil, err
	}
	out := map[string]*network.EndpointSettings{}
	for i, name := range containerNetworks(c) {
		ep := &network.EndpointSettings{}
		if want := endpointSettings(c, name, i == 0); want != nil {
			ep = want.Copy()
		}
		if n, err := e.lookupNetwork(name); err == nil {
			ep.NetworkID = n.ID
		}
		out[name] = ep
	}
	return out, nil
}
