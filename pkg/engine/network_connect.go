package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"

	"github.com/rrun/rrun/pkg/usernet"
)

// NetworkConnect connects a container to a network, as docker network
// connect does: recorded for its next start, and made live when it runs.
func (e *Engine) NetworkConnect(ctx context.Context, netRef, ctrRef string, settings *network.EndpointSettings) error {
	n, c, err := e.networkAndContainer(netRef, ctrRef)
	if err != nil {
		return err
	}
	if settings == nil {
		settings = &network.EndpointSettings{}
	}
	if slices.Contains(containerNetworks(c), n.Name) || slices.Contains(containerNetworks(c), n.ID) {
		return errdefs.ErrPermissionDenied.WithMessage(fmt.Sprintf("endpoint with name %s already exists in network %s", c.Name, n.Name))
	}
	if c.Network == nil || c.Network.EndpointsConfig == nil {
		c.Network = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{}}
	}
	c.Network.EndpointsConfig[n.Name] = settings
	if err := e.saveContainer(c); err != nil {
		return err
	}
	if err := e.liveNetworkChange(c, networkChange{ID: c.ID, Network: n.Name, Connect: true}); err != nil {
		delete(c.Network.EndpointsConfig, n.Name)
		_ = e.saveContainer(c)
		return err
	}
	e.emit(networkEvent(events.ActionConnect, n, "container", c.ID))
	return nil
}

// NetworkDisconnect disconnects a container from a network.
func (e *Engine) NetworkDisconnect(ctx context.Context, netRef, ctrRef string, force bool) error {
	n, c, err := e.networkAndContainer(netRef, ctrRef)
	if err != nil {
		return err
	}
	refs := containerNetworks(c)
	if !slices.Contains(refs, n.Name) && !slices.Contains(refs, n.ID) {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("container %s is not connected to network %s", c.ID, n.Name))
	}
	if err := e.liveNetworkChange(c, networkChange{ID: c.ID, Network: n.Name}); err != nil {
		return err
	}
	if c.Network == nil || c.Network.EndpointsConfig == nil {
		c.Network = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{}}
	}
	delete(c.Network.EndpointsConfig, n.Name)
	delete(c.Network.EndpointsConfig, n.ID)
	if mode := string(c.HostConfig.NetworkMode); mode == n.Name || mode == n.ID || (n.Name == network.NetworkBridge && (mode == "" || mode == network.NetworkDefault)) {
		// Its mode's network is gone: the next one becomes its mode, or none.
		c.HostConfig.NetworkMode = network.NetworkNone
		for _, name := range slices.Sorted(maps.Keys(c.Network.EndpointsConfig)) {
			if name != network.NetworkDefault {
				c.HostConfig.NetworkMode = container.NetworkMode(name)
				break
			}
		}
	}
	if err := e.saveContainer(c); err != nil {
		return err
	}
	e.emit(networkEvent(events.ActionDisconnect, n, "container", c.ID))
	return nil
}

func (e *Engine) networkAndContainer(netRef, ctrRef string) (*networkRecord, *Container, error) {
	n, err := e.lookupNetwork(netRef)
	if err != nil {
		return nil, nil, err
	}
	c, err := e.lookupContainer(ctrRef)
	if err != nil {
		return nil, nil, err
	}
	mode := string(c.HostConfig.NetworkMode)
	if n.Driver != driverBridge || mode == network.NetworkHost || strings.HasPrefix(mode, "container:") {
		return nil, nil, errdefs.ErrPermissionDenied.WithMessage("container sharing network namespace with another container or host cannot be connected to any other network")
	}
	return n, c, nil
}

// networkChange asks the supervisor to connect or disconnect a running
// container's endpoint.
type networkChange struct {
	ID      string `json:"id"`
	Network string `json:"network"`
	Connect bool   `json:"connect"`
}

// liveNetworkChange applies a change to the running container through its
// supervisor; a container that does not run needs nothing.
func (e *Engine) liveNetworkChange(c *Container, ch networkChange) error {
	st, err := e.currentState(c.ID)
	if err != nil || !isRunning(st) {
		return err
	}
	req, err := json.Marshal(monitorArgs{ID: c.ID, Network: &ch, Options: e.opts})
	if err != nil {
		return err
	}
	conn, r, err := e.handToSupervisor(req)
	if err != nil {
		return err
	}
	defer conn.Close()
	line, err := r.ReadString('\n')
	if err != nil {
		return fmt.Errorf("rrun's supervisor: %w", err)
	}
	if msg, ok := strings.CutPrefix(strings.TrimSpace(line), "error "); ok {
		return fmt.Errorf("%s", msg)
	}
	return nil
}

// serveNetworkChange runs in the supervisor.
func serveNetworkChange(conn net.Conn, opts Options, ch *networkChange) {
	defer conn.Close()
	err := applyNetworkChange(opts, ch)
	w := bufio.NewWriter(conn)
	if err != nil {
		fmt.Fprintf(w, "error %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
	} else {
		fmt.Fprintln(w, "ok")
	}
	_ = w.Flush()
}

func applyNetworkChange(opts Options, ch *networkChange) error {
	storeMu.Lock()
	e, err := monitorEngine(opts)
	storeMu.Unlock()
	if err != nil {
		return err
	}
	c, err := e.loadContainer(ch.ID)
	if err != nil {
		return err
	}
	n, err := e.lookupNetwork(ch.Network)
	if err != nil {
		return err
	}
	in, err := e.infra()
	if err != nil {
		return err
	}
	if !ch.Connect {
		in.Disconnect(c.ID, n.Index)
		_, err = e.updateState(c.ID, func(s *State) { delete(s.Networks, n.Name) })
		return err
	}
	st, err := e.loadState(c.ID)
	if err != nil {
		return err
	}
	// The next interface after those the container has.
	cfg := usernet.EndpointConfig{ContainerID: c.ID, Name: c.Name, Network: n.Network, IfName: fmt.Sprintf("eth%d", len(st.Networks))}
	want := endpointSettings(c, n.Name, false)
	if want != nil {
		cfg.Aliases = want.Aliases
		if want.IPAMConfig != nil {
			cfg.IP, cfg.IP6 = want.IPAMConfig.IPv4Address, want.IPAMConfig.IPv6Address
		}
	}
	ep, err := in.Connect(e.netnsPath(c.ID), cfg)
	if err != nil {
		return err
	}
	_, err = e.updateState(c.ID, func(s *State) {
		if s.Networks == nil {
			s.Networks = map[string]*network.EndpointSettings{}
		}
		s.Networks[n.Name] = endpointView(n, ep, cfg)
	})
	return err
}
