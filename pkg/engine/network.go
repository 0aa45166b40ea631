package engine

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
	"golang.org/x/sys/unix"

	"github.com/rrun/rrun/pkg/usernet"
)

// networkRecord is a network as rrun stores it, one JSON file per network
// under the storage root (networks outlive reboots, as docker's do). The
// built-in bridge, host and none networks are made on first use.
type networkRecord struct {
	usernet.Network
	Driver  string            `json:"driver"` // bridge, host, null
	Created time.Time         `json:"created"`
	Labels  map[string]string `json:"labels,omitempty"`
	Options map[string]string `json:"options,omitempty"`
}

const (
	driverBridge = "bridge"
	driverHost   = "host"
	driverNull   = "null"
	// optHostLoopback lets a network's containers reach the host's
	// loopback through the host gateway address.
	optHostLoopback = "allow_host_loopback"
)

func (e *Engine) networksDir() string { return filepath.Join(e.opts.Root, "networks") }

// lockNetworks serialises changes to network records between processes.
func (e *Engine) lockNetworks() (func(), error) {
	if err := os.MkdirAll(e.networksDir(), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(e.networksDir(), ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking networks: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking networks: %w", err)
	}
	return func() { f.Close() }, nil
}

// loadNetworks reads every network, the built-in ones made if missing.
func (e *Engine) loadNetworks() ([]*networkRecord, error) {
	nets, err := e.readNetworks()
	if err != nil {
		return nil, err
	}
	if hasBuiltins(nets) {
		return nets, nil
	}
	unlock, err := e.lockNetworks()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if nets, err = e.readNetworks(); err != nil || hasBuiltins(nets) {
		return nets, err
	}
	for _, b := range builtinNetworks() {
		if findNetwork(nets, b.Name) == nil {
			if err := e.saveNetwork(b); err != nil {
				return nil, err
			}
			nets = append(nets, b)
		}
	}
	return nets, nil
}

func hasBuiltins(nets []*networkRecord) bool {
	for _, b := range []string{network.NetworkBridge, network.NetworkHost, network.NetworkNone} {
		if findNetwork(nets, b) == nil {
			return false
		}
	}
	return true
}

func builtinNetworks() []*networkRecord {
	now := time.Now().UTC()
	bridge := &networkRecord{Network: usernet.DefaultBridge(), Driver: driverBridge, Created: now,
		Options: map[string]string{"com.docker.network.bridge.default_bridge": "true", "com.docker.network.bridge.name": "rrun0"}}
	bridge.ID = newNetworkID()
	host := &networkRecord{Network: usernet.Network{ID: newNetworkID(), Name: network.NetworkHost, Index: -1}, Driver: driverHost, Created: now}
	none := &networkRecord{Network: usernet.Network{ID: newNetworkID(), Name: network.NetworkNone, Index: -2}, Driver: driverNull, Created: now}
	return []*networkRecord{bridge, host, none}
}

func (e *Engine) readNetworks() ([]*networkRecord, error) {
	entries, err := os.ReadDir(e.networksDir())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("listing networks: %w", err)
	}
	var nets []*networkRecord
	for _, de := range entries {
		if !strings.HasSuffix(de.Name(), ".json") {
			continue
		}
		var n networkRecord
		if err := readJSON(filepath.Join(e.networksDir(), de.Name()), &n); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // removed meanwhile
			}
			return nil, fmt.Errorf("reading network %s: %w", de.Name(), err)
		}
		nets = append(nets, &n)
	}
	sort.Slice(nets, func(i, j int) bool { return nets[i].Created.Before(nets[j].Created) })
	return nets, nil
}

func (e *Engine) saveNetwork(n *networkRecord) error {
	return writeJSON(filepath.Join(e.networksDir(), n.ID+".json"), n)
}

// findNetwork looks a network up as docker does: full id, then exact name,
// then a unique id prefix.
func findNetwork(nets []*networkRecord, ref string) *networkRecord {
	for _, n := range nets {
		if n.ID == ref {
			return n
		}
	}
	for _, n := range nets {
		if n.Name == ref {
			return n
		}
	}
	var found *networkRecord
	for _, n := range nets {
		if ref != "" && strings.HasPrefix(n.ID, ref) {
			if found != nil {
				return nil
			}
			found = n
		}
	}
	return found
}

func noSuchNetwork(ref string) error {
	return errdefs.ErrNotFound.WithMessage(fmt.Sprintf("network %s not found", ref))
}

// lookupNetwork finds a network by id, name or id prefix.
func (e *Engine) lookupNetwork(ref string) (*networkRecord, error) {
	nets, err := e.loadNetworks()
	if err != nil {
		return nil, err
	}
	if n := findNetwork(nets, ref); n != nil {
		return n, nil
	}
	return nil, noSuchNetwork(ref)
}

func newNetworkID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newNetwork fills in a bridge network's addresses from the request and
// the free pools; the caller holds the networks lock.
func newNetwork(nets []*networkRecord, req network.CreateRequest) (*networkRecord, error) {
	n := &networkRecord{
		Network: usernet.Network{ID: newNetworkID(), Name: req.Name, Internal: req.Internal, Names: true},
		Driver:  driverBridge,
		Created: time.Now().UTC(),
		Labels:  req.Labels,
		Options: req.Options,
	}
	if v := req.Options[optHostLoopback]; v != "" {
		n.AllowHostLoopback = v == "true" || v == "1"
	}
	used := map[int]bool{}
	for _, o := range nets {
		used[o.Index] = true
	}
	for n.Index = 1; used[n.Index]; n.Index++ {
	}
	var want4, want6 network.IPAMConfig
	if req.IPAM != nil {
		for _, c := range req.IPAM.Config {
			switch {
			case !c.Subnet.IsValid():
				return nil, errdefs.ErrInvalidArgument.WithMessage("ipam config: a subnet is required")
			case c.Subnet.Addr().Is4():
				want4 = c
			default:
				want6 = c
			}
		}
	}
	var err error
	if want4.Subnet.IsValid() {
		n.Subnet = want4.Subnet.Masked()
	} else if n.Subnet, _, err = freeSubnet(nets, n.Index); err != nil {
		return nil, errdefs.ErrUnavailable.WithMessage(err.Error())
	}
	if want6.Subnet.IsValid() {
		n.Subnet6 = want6.Subnet.Masked()
	} else if _, n.Subnet6, err = usernet.SubnetFor(n.Index); err != nil {
		return nil, errdefs.ErrUnavailable.WithMessage(err.Error())
	}
	n.Gateway, n.Gateway6 = want4.Gateway, want6.Gateway
	if !n.Gateway.IsValid() {
		n.Gateway = usernet.FirstHost(n.Subnet)
	}
	if !n.Gateway6.IsValid() {
		n.Gateway6 = usernet.FirstHost(n.Subnet6)
	}
	for _, g := range []struct {
		gw netip.Addr
		p  netip.Prefix
	}{{n.Gateway, n.Subnet}, {n.Gateway6, n.Subnet6}} {
		if !g.p.Contains(g.gw) {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid gateway %s: it does not belong to subnet %s", g.gw, g.p))
		}
	}
	for _, o := range nets {
		if o.Driver != driverBridge {
			continue
		}
		if o.Subnet.Overlaps(n.Subnet) || (o.Subnet6.IsValid() && o.Subnet6.Overlaps(n.Subnet6)) {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid pool request: Pool overlaps with other one on this address space"))
		}
	}
	return n, nil
}

// freeSubnet is the first pool subnet no network uses.
func freeSubnet(nets []*networkRecord, from int) (netip.Prefix, netip.Prefix, error) {
	for i := 1; ; i++ {
		v4, v6, err := usernet.SubnetFor(i)
		if err != nil {
			return v4, v6, err
		}
		taken := false
		for _, o := range nets {
			if o.Subnet.IsValid() && o.Subnet.Overlaps(v4) {
				taken = true
			}
		}
		if !taken {
			return v4, v6, nil
		}
	}
}
