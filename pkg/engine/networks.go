package engine

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"

	"github.com/rrun/rrun/pkg/storage"
)

var validNetworkName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// NetworkCreate creates a bridge network, as docker network create does.
func (e *Engine) NetworkCreate(ctx context.Context, req network.CreateRequest) (network.CreateResponse, error) {
	if req.Driver == "" {
		req.Driver = driverBridge
	}
	if req.Driver != driverBridge {
		return network.CreateResponse{}, errdefs.ErrNotImplemented.WithMessage(fmt.Sprintf("network driver %q is not supported: rootless rrun makes bridge networks", req.Driver))
	}
	if !validNetworkName.MatchString(req.Name) {
		return network.CreateResponse{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid network name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", req.Name))
	}
	if req.EnableIPv4 != nil && !*req.EnableIPv4 {
		return network.CreateResponse{}, errdefs.ErrNotImplemented.WithMessage("networks without IPv4 are not supported")
	}
	nets, err := e.loadNetworks()
	if err != nil {
		return network.CreateResponse{}, err
	}
	unlock, err := e.lockNetworks()
	if err != nil {
		return network.CreateResponse{}, err
	}
	defer unlock()
	if nets, err = e.readNetworks(); err != nil {
		return network.CreateResponse{}, err
	}
	for _, o := range nets {
		if o.Name == req.Name {
			return network.CreateResponse{}, errdefs.ErrConflict.WithMessage(fmt.Sprintf("network with name %s already exists", req.Name))
		}
	}
	n, err := newNetwork(nets, req)
	if err != nil {
		return network.CreateResponse{}, err
	}
	if err := e.saveNetwork(n); err != nil {
		return network.CreateResponse{}, err
	}
	e.emit(networkEvent(events.ActionCreate, n))
	return network.CreateResponse{ID: n.ID, Warning: ""}, nil
}

// NetworkInspect returns docker's view of one network with the running
// containers attached to it.
func (e *Engine) NetworkInspect(ctx context.Context, ref string) (network.Inspect, error) {
	n, err := e.lookupNetwork(ref)
	if err != nil {
		return network.Inspect{}, err
	}
	attached, err := e.networkEndpoints()
	if err != nil {
		return network.Inspect{}, err
	}
	out := network.Inspect{Network: apiNetwork(n), Containers: map[string]network.EndpointResource{}}
	for _, a := range attached[n.ID] {
		r := network.EndpointResource{Name: a.c.Name, EndpointID: a.ep.EndpointID, MacAddress: a.ep.MacAddress}
		if a.ep.IPAddress.IsValid() {
			r.IPv4Address = netip.PrefixFrom(a.ep.IPAddress, a.ep.IPPrefixLen)
		}
		if a.ep.GlobalIPv6Address.IsValid() {
			r.IPv6Address = netip.PrefixFrom(a.ep.GlobalIPv6Address, a.ep.GlobalIPv6PrefixLen)
		}
		out.Containers[a.c.ID] = r
	}
	return out, nil
}

// NetworkList returns the networks matching docker's filters (name, id,
// driver, label, type=custom|builtin, dangling).
func (e *Engine) NetworkList(ctx context.Context, filters map[string][]string) ([]network.Summary, error) {
	nets, err := e.loadNetworks()
	if err != nil {
		return nil, err
	}
	var attached map[string][]endpointOf
	if len(filters["dangling"]) > 0 {
		if attached, err = e.networkEndpoints(); err != nil {
			return nil, err
		}
	}
	out := []network.Summary{}
	for _, n := range nets {
		ok, err := matchNetwork(n, filters, len(attached[n.ID]) > 0)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, network.Summary{Network: apiNetwork(n)})
		}
	}
	return out, nil
}

func matchNetwork(n *networkRecord, f map[string][]string, used bool) (bool, error) {
	for key, values := range f {
		any := false
		for _, v := range values {
			switch key {
			case "name":
				any = any || strings.Contains(n.Name, v)
			case "id":
				any = any || strings.HasPrefix(n.ID, v)
			case "driver":
				any = any || n.Driver == v
			case "type":
				switch v {
				case "custom":
					any = any || !isBuiltin(n)
				case "builtin":
					any = any || isBuiltin(n)
				default:
					return false, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter: 'type'='%s'", v))
				}
			case "dangling":
				b, err := filterBool(key, []string{v})
				if err != nil {
					return false, err
				}
				any = any || (b == (!used && !isBuiltin(n)))
			case "label":
				any = true
			case "scope":
				any = any || v == "local"
			default:
				return false, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter '%s'", key))
			}
		}
		if key == "label" {
			any = storage.MatchLabels(n.Labels, values)
		}
		if !any {
			return false, nil
		}
	}
	return true, nil
}

func isBuiltin(n *networkRecord) bool {
	switch n.Name {
	case network.NetworkBridge, network.NetworkHost, network.NetworkNone:
		return true
	}
	return false
}

// NetworkRemove removes a network no container is attached to.
func (e *Engine) NetworkRemove(ctx context.Context, ref string) error {
	n, err := e.lookupNetwork(ref)
	if err != nil {
		return err
	}
	if isBuiltin(n) {
		return errdefs.ErrPermissionDenied.WithMessage(fmt.Sprintf("%s is a pre-defined network and cannot be removed", n.Name))
	}
	users, err := e.networkUsers(n)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return errdefs.ErrPermissionDenied.WithMessage(fmt.Sprintf("error while removing network: network %s id %s has active endpoints (%s)", n.Name, n.ID, strings.Join(users, ", ")))
	}
	unlock, err := e.lockNetworks()
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.Remove(filepath.Join(e.networksDir(), n.ID+".json")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing network %s: %w", n.Name, err)
	}
	e.emit(networkEvent(events.ActionDestroy, n))
	return nil
}

// NetworkPrune removes the user-defined networks no container uses.
func (e *Engine) NetworkPrune(ctx context.Context, filters map[string][]string) (*network.PruneReport, error) {
	nets, err := e.loadNetworks()
	if err != nil {
		return nil, err
	}
	labels := filters["label"]
	rep := &network.PruneReport{NetworksDeleted: []string{}}
	for _, n := range nets {
		if isBuiltin(n) || (len(labels) > 0 && !storage.MatchLabels(n.Labels, labels)) {
			continue
		}
		if users, err := e.networkUsers(n); err != nil || len(users) > 0 {
			continue
		}
		if err := e.NetworkRemove(ctx, n.ID); err == nil {
			rep.NetworksDeleted = append(rep.NetworksDeleted, n.Name)
		}
	}
	return rep, nil
}

// networkUsers names the containers (running or not) that use a network,
// which docker too refuses to remove under them.
func (e *Engine) networkUsers(n *networkRecord) ([]string, error) {
	views, err := e.views()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, v := range views {
		for _, ref := range containerNetworks(v.c) {
			if ref == n.Name || ref == n.ID {
				names = append(names, v.c.Name)
			}
		}
	}
	return names, nil
}

// apiNetwork is docker's network document.
func apiNetwork(n *networkRecord) network.Network {
	out := network.Network{
		Name: n.Name, ID: n.ID, Created: n.Created, Scope: "local", Driver: n.Driver,
		EnableIPv4: n.Driver == driverBridge, EnableIPv6: n.Subnet6.IsValid(),
		IPAM:     network.IPAM{Driver: "default", Options: map[string]string{}, Config: []network.IPAMConfig{}},
		Internal: n.Internal, Options: n.Options, Labels: n.Labels,
	}
	if n.Subnet.IsValid() {
		out.IPAM.Config = append(out.IPAM.Config, network.IPAMConfig{Subnet: n.Subnet, Gateway: n.Gateway})
	}
	if n.Subnet6.IsValid() {
		out.IPAM.Config = append(out.IPAM.Config, network.IPAMConfig{Subnet: n.Subnet6, Gateway: n.Gateway6})
	}
	if out.Options == nil {
		out.Options = map[string]string{}
	}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	return out
}

// networkEvent is docker's event for a network, with extra attributes
// given as key, value pairs (connect names the container).
func networkEvent(action events.Action, n *networkRecord, kv ...string) events.Message {
	attrs := map[string]string{"name": n.Name, "type": n.Driver}
	for i := 0; i+1 < len(kv); i += 2 {
		attrs[kv[i]] = kv[i+1]
	}
	return events.Message{Type: events.NetworkEventType, Action: action, Actor: events.Actor{ID: n.ID, Attributes: attrs}}
}
