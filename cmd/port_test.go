package cmd

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/moby/moby/api/types/network"
)

func TestPortLines(t *testing.T) {
	ports := network.PortMap{
		network.MustParsePort("80/tcp"):   {{HostIP: netip.IPv4Unspecified(), HostPort: "8080"}, {HostIP: netip.IPv6Unspecified(), HostPort: "8080"}},
		network.MustParsePort("9/udp"):    {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "9009"}},
		network.MustParsePort("1000/tcp"): {},
	}
	for _, tc := range []struct {
		want, err string
	}{
		{"abc", `invalid port (abc): strconv.ParseUint: parsing "abc": invalid syntax`},
		{"81", "No public port '81' published for web"},
		{"1000", "No public port '1000' published for web"},
		{"9/tcp", "No public port '9/tcp' published for web"},
	} {
		if _, err := portLines(ports, "web", tc.want); err == nil || err.Error() != tc.err {
			t.Errorf("%s: %v, want %q", tc.want, err, tc.err)
		}
	}
	got, _ := portLines(ports, "web", "")
	if want := []string{"9/udp -> 127.0.0.1:9009", "80/tcp -> 0.0.0.0:8080", "80/tcp -> [::]:8080"}; !slices.Equal(got, want) {
		t.Errorf("all: %q", got)
	}
	got, _ = portLines(ports, "web", "80")
	if want := []string{"0.0.0.0:8080", "[::]:8080"}; !slices.Equal(got, want) {
		t.Errorf("80: %q", got)
	}
	if got, err := portLines(network.PortMap{}, "web", ""); err != nil || len(got) != 0 {
		t.Errorf("none: %q %v", got, err)
	}
}
