package cmd

import (
	"io"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/urfave/cli/v2"
)

// runNetworkCreate parses a network create command line into its request.
func runNetworkCreate(t *testing.T, args ...string) (network.CreateRequest, error) {
	t.Helper()
	var got network.CreateRequest
	cmd := networkCreateCommand()
	cmd.Action = func(c *cli.Context) (err error) {
		got, err = networkCreateRequest(c)
		return err
	}
	app := &cli.App{Commands: []*cli.Command{cmd}, DisableSliceFlagSeparator: true, Writer: io.Discard, ErrWriter: io.Discard}
	err := app.Run(append([]string{"rrun", "create"}, args...))
	return got, err
}

func TestNetworkCreateRequest(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "requires exactly 1 argument"},
		{[]string{"--gateway", "10.0.0.1", "n"}, "must have a corresponding subnet"},
		{[]string{"--subnet", "10.0.0.0", "n"}, "invalid subnet 10.0.0.0"},
		{[]string{"--subnet", "10.0.0.0/24", "--gateway", "x", "n"}, "invalid gateway x"},
	} {
		if _, err := runNetworkCreate(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.args, err, tc.want)
		}
	}
	got, err := runNetworkCreate(t, "--subnet", "10.9.0.0/24", "--gateway", "10.9.0.254", "--subnet", "fd00:9::/64",
		"--internal", "--label", "team=a", "-o", "allow_host_loopback=true", "back")
	if err != nil {
		t.Fatal(err)
	}
	want := network.CreateRequest{
		Name: "back", Driver: "bridge", Internal: true,
		Labels:  map[string]string{"team": "a"},
		Options: map[string]string{"allow_host_loopback": "true"},
		IPAM: &network.IPAM{Driver: "default", Config: []network.IPAMConfig{
			{Subnet: netip.MustParsePrefix("10.9.0.0/24"), Gateway: netip.MustParseAddr("10.9.0.254")},
			{Subnet: netip.MustParsePrefix("fd00:9::/64")},
		}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("request:\n got %+v\nwant %+v", got, want)
	}
}

func TestDisplayPorts(t *testing.T) {
	got := displayPorts([]container.PortSummary{
		{IP: netip.IPv4Unspecified(), PrivatePort: 80, PublicPort: 8080, Type: "tcp"},
		{IP: netip.IPv6Unspecified(), PrivatePort: 80, PublicPort: 8080, Type: "tcp"},
		{PrivatePort: 443, Type: "tcp"},
		{IP: netip.MustParseAddr("127.0.0.1"), PrivatePort: 53, PublicPort: 5353, Type: "udp"},
	})
	if want := "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp, 443/tcp, 127.0.0.1:5353->53/udp"; got != want {
		t.Fatalf("displayPorts = %q, want %q", got, want)
	}
	if displayPorts(nil) != "" {
		t.Fatal("no ports should print nothing")
	}
}
