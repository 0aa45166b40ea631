package engine

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	"github.com/rrun/rrun/pkg/usernet"
)

func TestNewNetwork(t *testing.T) {
	nets := builtinNetworks()
	first, err := newNetwork(nets, network.CreateRequest{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if first.Index != 1 || first.Subnet.String() != "172.18.0.0/16" || first.Gateway.String() != "172.18.0.1" ||
		first.Subnet6.String() != "fd72:7275:6e00:12::/64" || !first.Names {
		t.Fatalf("first network: %+v", first.Network)
	}
	nets = append(nets, first)
	second, err := newNetwork(nets, network.CreateRequest{Name: "b", Internal: true, Options: map[string]string{optHostLoopback: "true"}})
	if err != nil {
		t.Fatal(err)
	}
	if second.Index != 2 || second.Subnet.String() != "172.19.0.0/16" || !second.Internal || !second.AllowHostLoopback {
		t.Fatalf("second network: %+v", second.Network)
	}
	nets = append(nets, second)

	for _, tc := range []struct {
		name string
		ipam []network.IPAMConfig
		want string // error text, "" for success
	}{
		{"overlap", []network.IPAMConfig{{Subnet: netip.MustParsePrefix("172.18.5.0/24")}}, "Pool overlaps with other one"},
		{"bad gateway", []network.IPAMConfig{{Subnet: netip.MustParsePrefix("10.5.0.0/24"), Gateway: netip.MustParseAddr("10.6.0.1")}}, "does not belong to subnet"},
		{"custom", []network.IPAMConfig{{Subnet: netip.MustParsePrefix("10.5.0.7/24"), Gateway: netip.MustParseAddr("10.5.0.254")}}, ""},
	} {
		n, err := newNetwork(nets, network.CreateRequest{Name: tc.name, IPAM: &network.IPAM{Config: tc.ipam}})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		case tc.want == "" && (n.Subnet.String() != "10.5.0.0/24" || n.Gateway.String() != "10.5.0.254"):
			t.Errorf("%s: subnet %s gateway %s", tc.name, n.Subnet, n.Gateway)
		}
	}
}

func TestFindNetwork(t *testing.T) {
	nets := builtinNetworks()
	bridge := nets[0]
	if findNetwork(nets, "bridge") != bridge || findNetwork(nets, bridge.ID) != bridge || findNetwork(nets, bridge.ID[:6]) != bridge {
		t.Fatal("bridge not found by name, id or id prefix")
	}
	if findNetwork(nets, "nope") != nil || findNetwork(nets, "") != nil {
		t.Fatal("found a network that does not exist")
	}
}

func TestContainerNetworks(t *testing.T) {
	for _, tc := range []struct {
		mode string
		eps  []string
		want []string
	}{
		{"", nil, []string{"bridge"}},
		{"default", []string{"default"}, []string{"bridge"}},
		{"front", []string{"front", "back"}, []string{"front", "back"}},
		{"host", nil, nil},
		{"none", nil, nil},
		{"container:x", nil, nil},
	} {
		c := &Container{HostConfig: &container.HostConfig{NetworkMode: container.NetworkMode(tc.mode)}, Network: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{}}}
		for _, ep := range tc.eps {
			c.Network.EndpointsConfig[ep] = &network.EndpointSettings{}
		}
		got := containerNetworks(c)
		if len(got) > 1 {
			slices.Sort(got[1:])
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("mode %q: networks %q, want %q", tc.mode, got, tc.want)
		}
	}
}

func TestPublishedPorts(t *testing.T) {
	p80, _ := network.ParsePort("80/tcp")
	p53, _ := network.ParsePort("53/udp")
	p443, _ := network.ParsePort("443/tcp")
	c := &Container{
		Config: &container.Config{ExposedPorts: network.PortSet{p80: {}, p443: {}}},
		HostConfig: &container.HostConfig{
			PublishAllPorts: true,
			PortBindings: network.PortMap{
				p80: {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "8080"}},
				p53: {{HostPort: "5300-5310"}},
			},
		},
	}
	got, err := publishedPorts(c)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b usernet.Port) int { return int(a.ContainerPort) - int(b.ContainerPort) })
	if len(got) != 3 || got[0].ContainerPort != 53 || got[0].Proto != "udp" || got[0].HostPort != 5300 || got[0].HostPortEnd != 5310 ||
		got[1].HostPort != 8080 || got[1].HostIP.String() != "127.0.0.1" || got[2].ContainerPort != 443 || got[2].HostPort != 0 {
		t.Fatalf("published ports: %+v", got)
	}
	for _, bad := range []string{"http", "90-80", "80-x"} {
		c.HostConfig.PortBindings[p80] = []network.PortBinding{{HostPort: bad}}
		if _, err := publishedPorts(c); err == nil {
			t.Fatalf("host port %q was accepted", bad)
		}
	}
}
