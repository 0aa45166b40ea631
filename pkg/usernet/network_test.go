package usernet

import (
	"net/netip"
	"testing"
)

func TestSubnetFor(t *testing.T) {
	for _, tc := range []struct {
		index  int
		v4, v6 string
		err    bool
	}{
		{index: 0, err: true},
		{index: 1, v4: "172.18.0.0/16", v6: "fd72:7275:6e00:12::/64"},
		{index: 14, v4: "172.31.0.0/16", v6: "fd72:7275:6e00:1f::/64"},
		{index: 15, v4: "192.168.0.0/20", v6: "fd72:7275:6e00:20::/64"},
		{index: 30, v4: "192.168.240.0/20", v6: "fd72:7275:6e00:2f::/64"},
		{index: 31, err: true},
	} {
		v4, v6, err := SubnetFor(tc.index)
		if tc.err {
			if err == nil {
				t.Errorf("SubnetFor(%d) = %s, %s; want an error", tc.index, v4, v6)
			}
			continue
		}
		if err != nil || v4.String() != tc.v4 || v6.String() != tc.v6 {
			t.Errorf("SubnetFor(%d) = %s, %s, %v; want %s, %s", tc.index, v4, v6, err, tc.v4, tc.v6)
		}
		if DefaultBridge().Subnet.Overlaps(v4) || DefaultBridge().Subnet6.Overlaps(v6) || linkPrefix.Overlaps(v4) {
			t.Errorf("SubnetFor(%d) overlaps the default bridge or the link", tc.index)
		}
	}
}

func TestAllocate(t *testing.T) {
	p := netip.MustParsePrefix("10.1.2.0/29") // .1 gateway, .2–.6 hosts, .7 broadcast
	gw := netip.MustParseAddr("10.1.2.1")
	b := &bridge{net: Network{Name: "n"}, used: map[netip.Addr]string{}}
	if _, err := allocate(b, p, gw, netip.MustParseAddr("10.1.3.5")); err == nil {
		t.Fatal("an address outside the subnet was accepted")
	}
	if _, err := allocate(b, p, gw, gw); err == nil {
		t.Fatal("the gateway was handed out")
	}
	var got []string
	for {
		a, err := allocate(b, p, gw, netip.Addr{})
		if err != nil {
			break
		}
		b.used[a] = "x"
		got = append(got, a.String())
	}
	if want := "[10.1.2.2 10.1.2.3 10.1.2.4 10.1.2.5 10.1.2.6]"; len(got) != 5 || got[0] != "10.1.2.2" || got[4] != "10.1.2.6" {
		t.Fatalf("allocated %v, want %s (no broadcast)", got, want)
	}
	if _, err := allocate(b, p, gw, netip.MustParseAddr("10.1.2.4")); err == nil {
		t.Fatal("an address in use was handed out again")
	}
	delete(b.used, netip.MustParseAddr("10.1.2.4"))
	if a, err := allocate(b, p, gw, netip.Addr{}); err != nil || a.String() != "10.1.2.4" {
		t.Fatalf("a released address was not reused: %v %v", a, err)
	}
}

func TestMACFor(t *testing.T) {
	if got := MACFor(netip.MustParseAddr("172.17.0.2")).String(); got != "02:42:ac:11:00:02" {
		t.Fatalf("MACFor = %s, want docker's 02:42:ac:11:00:02", got)
	}
}
