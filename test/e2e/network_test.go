//go:build e2e

package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// cgiServer runs a busybox httpd in a detached container whose one CGI
// script answers with the client address the container sees.
const cgiServer = `mkdir -p /www/cgi-bin && printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "$REMOTE_ADDR"\n' > /www/cgi-bin/addr && chmod +x /www/cgi-bin/addr && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www`

// echoServer builds test/e2e/echoserver, static, where the test user can
// bind-mount it into containers, once per run.
var echoServer = sync.OnceValues(func() (string, error) {
	dir := filepath.Join(tuser.home, ".rrun-e2e")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "echoserver")
	cmd := exec.Command("go", "build", "-o", bin, "./echoserver")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the echo server: %v\n%s", err, out)
	}
	return bin, os.Chmod(bin, 0o755)
})

// runEcho starts a detached container serving echoserver on port 7000
// with the given extra run flags, and returns its name.
func (e *env) runEcho(name string, flags ...string) {
	e.t.Helper()
	bin, err := echoServer()
	if err != nil {
		e.t.Fatal(err)
	}
	args := append([]string{"run", "-d", "--name", name, "-v", bin + ":/echoserver:ro"}, flags...)
	e.ok(append(args, "alpine", "/echoserver", "7000")...)
}

// hostAddrs are the host's own global addresses, one per family, to
// connect from: a client the container must see as itself.
func hostAddrs(t *testing.T) (v4, v6 netip.Addr) {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, _ := netip.AddrFromSlice(n.IP)
		ip = ip.Unmap()
		switch {
		case !ip.IsGlobalUnicast():
		case ip.Is4() && !v4.IsValid():
			v4 = ip
		case ip.Is6() && !v6.IsValid():
			v6 = ip
		}
	}
	if !v4.IsValid() {
		t.Fatal("the host has no global IPv4 address to test source addresses with")
	}
	return v4, v6
}

// httpGet fetches path from addr, optionally from a given local address.
// It retries while the server is still starting: until then the forwarder
// accepts and resets the connection, as docker's proxy does.
func httpGet(t *testing.T, from netip.Addr, addr netip.AddrPort, path string) string {
	t.Helper()
	var body string
	var err error
	for i := 0; i < 50; i++ {
		if body, err = tryHTTPGet(from, addr, path); err == nil {
			return body
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET %s from %s: %v", path, addr, err)
	return ""
}

func tryHTTPGet(from netip.Addr, addr netip.AddrPort, path string) (string, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	if from.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: from.AsSlice()}
	}
	conn, err := d.Dial("tcp", addr.String())
	if err != nil {
		return "", err
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.0\r\n\r\n", path)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	body, err := io.ReadAll(conn)
	if err != nil {
		return "", err
	}
	if len(body) == 0 {
		return "", errors.New("empty answer")
	}
	// CGI headers end with a bare "\n\n".
	_, content, _ := strings.Cut(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n\n")
	return strings.TrimSpace(content), nil
}

// remoteAddr is the client address the CGI script printed: busybox httpd
// listens on IPv6 and shows IPv4 clients as [::ffff:a.b.c.d].
func remoteAddr(s string) string {
	return strings.TrimPrefix(strings.Trim(s, "[]"), "::ffff:")
}

// networkInspectView is the part of docker's inspect these tests read.
type networkInspectView struct {
	NetworkSettings struct {
		Ports    map[string][]struct{ HostIp, HostPort string }
		Networks map[string]struct {
			IPAddress, Gateway, GlobalIPv6Address, MacAddress, NetworkID string
			IPPrefixLen                                                  int
		}
	}
}

func (e *env) inspectNetworking(name string) networkInspectView {
	e.t.Helper()
	var out []networkInspectView
	mustJSON(e.t, e.ok("inspect", name), &out)
	return out[0]
}

func TestNetworkDefaultBridge(t *testing.T) {
	e := newEnv(t)
	out := e.ok("run", "--rm", "--name", "web", "-h", "box", "alpine", "sh", "-c",
		"ip -o addr show eth0; ip route; cat /etc/resolv.conf /etc/hosts; cat /sys/class/net/eth0/mtu")
	contains(t, out, "inet 172.17.0.2/16", "inet6 fd72:7275:6e00:11::2/64", "default via 172.17.0.1 dev eth0",
		"nameserver 172.17.0.1", "10.0.2.2\thost.docker.internal host.containers.internal", "172.17.0.2\tbox", "65520")
	// --dns, --dns-search, --dns-option and --mac-address are docker's.
	out = e.ok("run", "--rm", "--dns", "10.0.2.2", "--dns-search", "example.test", "--dns-option", "ndots:2",
		"--mac-address", "02:42:ac:11:00:99", "alpine", "sh", "-c", "cat /etc/resolv.conf; cat /sys/class/net/eth0/address")
	contains(t, out, "nameserver 10.0.2.2\nsearch example.test\noptions ndots:2\n", "02:42:ac:11:00:99")
	// The next container gets an address of the network too (the last
	// one's is free once its veth is gone, which happens in the
	// background).
	contains(t, e.ok("run", "--rm", "alpine", "ip", "-o", "-4", "addr", "show", "eth0"), "inet 172.17.0.", "/16")
	// Starts and stops show as docker's network events.
	now := time.Now()
	events := e.ok("events", "--since", "1h", "--until", fmt.Sprintf("%d.%09d", now.Unix(), now.Nanosecond()),
		"--filter", "type=network", "--format", "{{.Action}} {{.Actor.Attributes.name}}")
	contains(t, events, "connect bridge\n", "disconnect bridge\n")

	// Two running containers get different addresses; inspect shows them.
	e.ok("run", "-d", "--name", "one", "alpine", "sleep", "100")
	e.ok("run", "-d", "--name", "two", "alpine", "sleep", "100")
	a, b := e.inspectNetworking("one").NetworkSettings.Networks["bridge"], e.inspectNetworking("two").NetworkSettings.Networks["bridge"]
	subnet := netip.MustParsePrefix("172.17.0.0/16")
	for _, ep := range []struct{ IPAddress, Gateway, MacAddress string }{{a.IPAddress, a.Gateway, a.MacAddress}, {b.IPAddress, b.Gateway, b.MacAddress}} {
		ip, err := netip.ParseAddr(ep.IPAddress)
		four := ip.As4()
		// docker's MAC: 02:42 and the address's four bytes.
		mac := fmt.Sprintf("02:42:%02x:%02x:%02x:%02x", four[0], four[1], four[2], four[3])
		if err != nil || !subnet.Contains(ip) || ep.Gateway != "172.17.0.1" || ep.MacAddress != mac {
			t.Fatalf("inspect networks: a=%+v b=%+v", a, b)
		}
	}
	if a.IPAddress == b.IPAddress || a.IPPrefixLen != 16 {
		t.Fatalf("inspect networks: a=%+v b=%+v", a, b)
	}
	// Containers on one network reach each other (kernel bridge), by address.
	contains(t, e.ok("exec", "one", "ping", "-c", "1", "-W", "2", b.IPAddress), "1 packets received")
	// The default bridge, as docker's, does not resolve container names.
	e.fails(1, "exec", "one", "nslookup", "two")
}

func TestNetworkOutboundToHost(t *testing.T) {
	e := newEnv(t)
	// A TCP server on all of the host's addresses: the container reaches
	// it as host.docker.internal (the host's external address).
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	got := make(chan string, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				fmt.Fprintf(c, "echo:%s", line)
				got <- strings.TrimSpace(line)
			}()
		}
	}()
	out := e.ok("run", "--rm", "alpine", "sh", "-c", fmt.Sprintf("echo hi | nc host.docker.internal %d", port))
	contains(t, out, "echo:hi")
	if line := <-got; line != "hi" {
		t.Fatalf("server got %q", line)
	}
	// And over IPv6, to the host gateway's IPv6 address.
	if _, v6 := hostAddrs(t); v6.IsValid() {
		contains(t, e.ok("run", "--rm", "alpine", "sh", "-c", fmt.Sprintf("echo hi6 | nc fd72:7275:6e00:2::2 %d", port)), "echo:hi6")
		<-got
	}
	// UDP and ICMP echo through the stack too; an address that does not
	// answer gets no made-up reply.
	pc, err := net.ListenPacket("udp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 1024)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(append([]byte("udp:"), buf[:n]...), from)
		}
	}()
	bin, err := echoServer()
	if err != nil {
		t.Fatal(err)
	}
	udpTarget := fmt.Sprintf("host.docker.internal:%d", pc.LocalAddr().(*net.UDPAddr).Port)
	contains(t, e.ok("run", "--rm", "-v", bin+":/echoserver:ro", "alpine", "/echoserver", "udp", udpTarget, "hi"), "udp:hi")
	v4, _ := hostAddrs(t)
	contains(t, e.ok("run", "--rm", "alpine", "ping", "-c", "1", "-W", "2", v4.String()), "1 packets received")
	if r := e.rrun("run", "--rm", "alpine", "ping", "-c", "1", "-W", "1", "192.0.2.254"); r.code != 1 || !strings.Contains(r.stdout, "0 packets received") {
		t.Fatalf("ping to an address nobody has: %s", r)
	}

	// The host's loopback is not reachable unless the network allows it.
	lo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lo.Close()
	go func() {
		for {
			c, err := lo.Accept()
			if err != nil {
				return
			}
			fmt.Fprintln(c, "loopback")
			c.Close()
		}
	}()
	loPort := lo.Addr().(*net.TCPAddr).Port
	probe := fmt.Sprintf("nc -w 2 host.docker.internal %d </dev/null", loPort)
	if r := e.rrun("run", "--rm", "alpine", "sh", "-c", probe); strings.Contains(r.stdout, "loopback") {
		t.Fatalf("the host's loopback was reachable without opting in: %s", r)
	}
	e.ok("network", "create", "-o", "allow_host_loopback=true", "lonet")
	contains(t, e.ok("run", "--rm", "--network", "lonet", "alpine", "sh", "-c", probe), "loopback")
	// --add-host NAME:host-gateway names the same address.
	contains(t, e.ok("run", "--rm", "--network", "lonet", "--add-host", "myhost:host-gateway", "alpine", "sh", "-c",
		fmt.Sprintf("grep myhost /etc/hosts; nc -w 2 myhost %d </dev/null", loPort)), "10.0.2.2\tmyhost", "loopback")
}

func TestNetworkPublishedPorts(t *testing.T) {
	e := newEnv(t)
	v4, v6 := hostAddrs(t)
	e.ok("run", "-d", "--name", "srv", "-p", "0:8080", "-p", "127.0.0.1::8080", "alpine", "sh", "-c", cgiServer)
	ports := e.inspectNetworking("srv").NetworkSettings.Ports["8080/tcp"]
	if len(ports) < 2 {
		t.Fatalf("inspect Ports: %+v", ports)
	}
	var all, local uint16
	for _, p := range ports {
		n, _ := strconv.Atoi(p.HostPort)
		switch p.HostIp {
		case "0.0.0.0":
			all = uint16(n)
		case "127.0.0.1":
			local = uint16(n)
		}
	}
	if all == 0 || local == 0 {
		t.Fatalf("inspect Ports: %+v", ports)
	}
	contains(t, e.ok("port", "srv"), fmt.Sprintf("8080/tcp -> 0.0.0.0:%d", all), fmt.Sprintf("8080/tcp -> 127.0.0.1:%d", local))
	contains(t, e.ok("ps"), fmt.Sprintf("0.0.0.0:%d->8080/tcp", all))

	if got := httpGet(t, netip.Addr{}, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), all), "/"); got != "hello" {
		t.Fatalf("GET / = %q", got)
	}
	// Source addresses: a client on the host's own address is seen as
	// itself; a loopback client as the network's gateway (as docker's proxy).
	if got := remoteAddr(httpGet(t, v4, netip.AddrPortFrom(v4, all), "/cgi-bin/addr")); got != v4.String() {
		t.Fatalf("the container saw %q for a client at %s", got, v4)
	}
	if got := remoteAddr(httpGet(t, netip.Addr{}, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), local), "/cgi-bin/addr")); got != "172.17.0.1" {
		t.Fatalf("the container saw %q for a loopback client", got)
	}
	if v6.IsValid() {
		if got := remoteAddr(httpGet(t, v6, netip.AddrPortFrom(v6, all), "/cgi-bin/addr")); got != v6.String() {
			t.Fatalf("the container saw %q for an IPv6 client at %s", got, v6)
		}
	}
	// The 127.0.0.1 binding is not on the external address.
	if c, err := net.DialTimeout("tcp", netip.AddrPortFrom(v4, local).String(), time.Second); err == nil {
		c.Close()
		t.Fatalf("a 127.0.0.1 binding answered on %s", v4)
	}

	// A port in use fails the start with docker's message and leaves the
	// container stopped; the port is free again once srv stops.
	msg := e.fails(125, "run", "-d", "--name", "clash", "-p", fmt.Sprintf("%d:8080", all), "alpine", "sleep", "100")
	contains(t, msg, fmt.Sprintf("Bind for 0.0.0.0:%d failed: port is already allocated", all))
	contains(t, e.ok("ps", "-a", "--filter", "name=clash", "--format", "{{.State}}"), "created")
	e.ok("stop", "-t", "1", "srv")
	if c, err := net.DialTimeout("tcp", netip.AddrPortFrom(v4, all).String(), time.Second); err == nil {
		c.Close()
		t.Fatal("the published port still answers after stop")
	}
	e.ok("start", "clash")
	contains(t, e.ok("port", "clash"), fmt.Sprintf("8080/tcp -> 0.0.0.0:%d", all))
}

func TestNetworkUserDefined(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(e.ok("network", "create", "--label", "team=a", "front"))
	if !hex64.MatchString(id) {
		t.Fatalf("network create printed %q", id)
	}
	contains(t, e.fails(1, "network", "create", "front"), "network with name front already exists")
	e.ok("network", "create", "--subnet", "10.99.0.0/24", "--gateway", "10.99.0.254", "back")
	contains(t, e.ok("network", "ls"), "front", "back", "bridge", "host", "none")
	if got := lines(e.ok("network", "ls", "-q", "--filter", "label=team=a")); len(got) != 1 || !strings.HasPrefix(id, got[0]) {
		t.Fatalf("network ls --filter label: %q", got)
	}
	var nets []struct {
		Name, Driver string
		IPAM         struct {
			Config []struct{ Subnet, Gateway string }
		}
		Containers map[string]struct{ Name, IPv4Address string }
	}
	mustJSON(t, e.ok("network", "inspect", "back"), &nets)
	if nets[0].Driver != "bridge" || nets[0].IPAM.Config[0].Subnet != "10.99.0.0/24" || nets[0].IPAM.Config[0].Gateway != "10.99.0.254" {
		t.Fatalf("network inspect: %+v", nets)
	}

	// Names, aliases and id prefixes resolve on a user-defined network.
	srvID := strings.TrimSpace(e.ok("run", "-d", "--name", "srv", "--network", "front", "--network-alias", "db", "alpine", "sh", "-c", cgiServer))
	for _, name := range []string{"srv", "db", srvID[:12]} {
		contains(t, e.ok("run", "--rm", "--network", "front", "alpine", "wget", "-qO-", "http://"+name+":8080/"), "hello")
	}
	mustJSON(t, e.ok("network", "inspect", "front"), &nets)
	if c, ok := nets[0].Containers[srvID]; !ok || c.Name != "srv" || !strings.HasPrefix(c.IPv4Address, "172.18.0.") {
		t.Fatalf("network inspect Containers: %+v", nets[0].Containers)
	}
	// Static addresses; networks are isolated from each other.
	contains(t, e.ok("run", "--rm", "--network", "back", "--ip", "10.99.0.7", "alpine", "ip", "-o", "-4", "addr", "show", "eth0"), "inet 10.99.0.7/24")
	srvIP := e.inspectNetworking("srv").NetworkSettings.Networks["front"].IPAddress
	if r := e.rrun("run", "--rm", "--network", "back", "alpine", "wget", "-T", "2", "-qO-", "http://"+srvIP+":8080/"); r.code == 0 {
		t.Fatalf("a container on another network reached %s: %s", srvIP, r)
	}
	e.fails(1, "run", "--rm", "--network", "back", "alpine", "nslookup", "srv")

	// connect/disconnect a running container.
	e.ok("run", "-d", "--name", "roamer", "--network", "back", "alpine", "sleep", "100")
	e.ok("network", "connect", "front", "roamer")
	contains(t, e.ok("exec", "roamer", "wget", "-qO-", "http://"+srvIP+":8080/"), "hello")
	e.ok("network", "disconnect", "front", "roamer")
	if r := e.rrun("exec", "roamer", "wget", "-T", "2", "-qO-", "http://"+srvIP+":8080/"); r.code == 0 {
		t.Fatalf("still reached front after disconnect: %s", r)
	}

	// An internal network has no way out, but its containers still
	// reach and resolve each other.
	e.ok("network", "create", "--internal", "island")
	e.ok("run", "-d", "--name", "islander", "--network", "island", "alpine", "sh", "-c", cgiServer)
	contains(t, e.ok("run", "--rm", "--network", "island", "alpine", "wget", "-qO-", "http://islander:8080/"), "hello")
	v4, _ := hostAddrs(t)
	if r := e.rrun("run", "--rm", "--network", "island", "alpine", "ping", "-c", "1", "-W", "1", v4.String()); r.code == 0 {
		t.Fatalf("a container on an internal network reached the host: %s", r)
	}
	e.ok("rm", "-f", "islander")
	e.ok("network", "rm", "island")

	// In use: not removed; removed once free; prune takes unused ones.
	contains(t, e.fails(1, "network", "rm", "front"), "has active endpoints")
	e.ok("rm", "-f", "srv")
	e.ok("network", "rm", "front")
	contains(t, e.fails(1, "network", "inspect", "front"), "network front not found")
	contains(t, e.fails(1, "network", "rm", "bridge"), "bridge is a pre-defined network and cannot be removed")
	e.ok("rm", "-f", "roamer")
	contains(t, e.ok("network", "prune", "-f"), "back")
	if got := lines(e.ok("network", "ls", "-q", "--filter", "type=custom")); len(got) != 0 {
		t.Fatalf("custom networks left after prune: %q", got)
	}
}

func TestNetworkModes(t *testing.T) {
	e := newEnv(t)
	contains(t, e.ok("run", "--rm", "--network", "none", "alpine", "ip", "-o", "link"), "lo")
	if out := e.ok("run", "--rm", "--network", "none", "alpine", "ip", "-o", "link"); strings.Contains(out, "eth0") {
		t.Fatalf("--network none has interfaces: %s", out)
	}
	// host: the host's interfaces.
	contains(t, e.ok("run", "--rm", "--network", "host", "alpine", "ip", "-o", "link"), "eth0")
	// container:NAME shares the other's namespace and address.
	e.ok("run", "-d", "--name", "first", "alpine", "sleep", "100")
	ip := e.inspectNetworking("first").NetworkSettings.Networks["bridge"].IPAddress
	contains(t, e.ok("run", "--rm", "--network", "container:first", "alpine", "ip", "-o", "-4", "addr", "show", "eth0"), "inet "+ip+"/16")
	contains(t, e.fails(125, "run", "--rm", "--network", "container:first", "-p", "80", "alpine", "true"), "conflicting options: port publishing and the container type network mode")
}

// Killing the supervisor (the process that holds the user-mode stack and
// the port listeners) takes a running container's ports down; the next
// container start brings a supervisor back, which publishes them again.
func TestNetworkSupervisorKilled(t *testing.T) {
	e := newEnv(t)
	id := strings.TrimSpace(e.ok("run", "-d", "--name", "srv", "-p", "0:8080", "alpine", "sh", "-c", cgiServer))
	port, _ := strconv.Atoi(e.inspectNetworking("srv").NetworkSettings.Ports["8080/tcp"][0].HostPort)
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	if got := httpGet(t, netip.Addr{}, addr, "/"); got != "hello" {
		t.Fatalf("GET / = %q", got)
	}
	_ = syscall.Kill(monitorPID(t, e, id), syscall.SIGKILL)
	waitFor(t, "the port to close", func() bool {
		c, err := net.DialTimeout("tcp", addr.String(), time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	contains(t, e.ok("inspect", "-f", "{{.State.Status}}: {{.State.Error}}", "srv"), "running: rrun's monitor for this container died", "published ports and outbound network are down")
	// A new container works, and srv's port is back, on the same host port.
	contains(t, e.ok("run", "--rm", "alpine", "wget", "-qO-", "http://"+e.inspectNetworking("srv").NetworkSettings.Networks["bridge"].IPAddress+":8080/"), "hello")
	if got := httpGet(t, netip.Addr{}, addr, "/"); got != "hello" {
		t.Fatalf("GET / after recovery = %q", got)
	}
	// The new container did not take srv's address.
	out := e.ok("run", "--rm", "alpine", "ip", "-o", "-4", "addr", "show", "eth0")
	if strings.Contains(out, e.inspectNetworking("srv").NetworkSettings.Networks["bridge"].IPAddress+"/") {
		t.Fatalf("a new container got the address of a running one: %s", out)
	}
	// Without a monitor, srv's port is still released once it is removed.
	e.ok("rm", "-f", "srv")
	waitFor(t, "the port of the removed container to close", func() bool {
		c, err := net.DialTimeout("tcp", addr.String(), time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
}

// A long transfer through a published port goes on while other commands
// start and stop containers around it.
func TestNetworkLongTransfer(t *testing.T) {
	e := newEnv(t)
	e.ok("run", "-d", "--name", "sink", "-p", "0:9000", "alpine", "sh", "-c", "nc -l -p 9000 | wc -c > /tmp/count")
	port, _ := strconv.Atoi(e.inspectNetworking("sink").NetworkSettings.Ports["9000/tcp"][0].HostPort)
	var conn net.Conn
	var err error
	for i := 0; i < 50; i++ {
		if conn, err = net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	const total = 512 << 20
	done := make(chan error, 1)
	go func() {
		chunk := make([]byte, 1<<20)
		var err error
		for sent := 0; sent < total && err == nil; sent += len(chunk) {
			_, err = conn.Write(chunk)
			time.Sleep(5 * time.Millisecond) // spread it over the commands below
		}
		conn.Close()
		done <- err
	}()
	for i := 0; i < 3; i++ {
		e.ok("run", "--rm", "alpine", "true")
		e.ok("ps")
		e.ok("run", "-d", "--name", fmt.Sprint("side", i), "-p", "0:80", "alpine", "sleep", "100")
		e.ok("rm", "-f", fmt.Sprint("side", i))
	}
	if err := <-done; err != nil {
		t.Fatalf("the transfer broke: %v", err)
	}
	e.ok("wait", "sink")
	if got := strings.TrimSpace(e.ok("cp", "sink:/tmp/count", "-")); !strings.Contains(got, strconv.Itoa(total)) {
		t.Fatalf("the container received %q bytes, want %d", got, total)
	}
}

// TestNetworkPortConformance runs one suite of published-port checks for
// each network a container can be on, in the spirit of rootlesskit's port
// testsuite: TCP and UDP, IPv4 and IPv6 clients, the source address the
// container sees, loopback clients, and many connections at once.
func TestNetworkPortConformance(t *testing.T) {
	v4, v6 := hostAddrs(t)
	for _, mode := range []struct {
		name    string
		network []string // rrun network create arguments; none = the default bridge
		gateway string
	}{
		{"bridge", nil, "172.17.0.1"},
		{"user-defined", []string{"--subnet", "10.77.0.0/24"}, "10.77.0.1"},
	} {
		t.Run(mode.name, func(t *testing.T) {
			e := newEnv(t)
			flags := []string{"-p", "0:7000", "-p", "0:7000/udp"}
			if mode.network != nil {
				e.ok(append(append([]string{"network", "create"}, mode.network...), "net")...)
				flags = append(flags, "--network", "net")
			}
			e.runEcho("echo", flags...)
			ports := e.inspectNetworking("echo").NetworkSettings.Ports
			tcpPort, _ := strconv.Atoi(ports["7000/tcp"][0].HostPort)
			udpPort, _ := strconv.Atoi(ports["7000/udp"][0].HostPort)
			clients := []netip.Addr{v4, netip.MustParseAddr("127.0.0.1")}
			if v6.IsValid() {
				clients = append(clients, v6, netip.IPv6Loopback())
			}
			for _, client := range clients {
				// The container sees the client itself, or for a loopback
				// client the network's gateway, as docker's proxy shows it.
				want := client.String()
				if client.IsLoopback() {
					want = mode.gateway
					if client.Is6() {
						want = "fd72:7275:6e00:" // the network's IPv6 gateway
					}
				}
				if got := echoTCP(t, client, netip.AddrPortFrom(client, uint16(tcpPort))); !strings.HasPrefix(got, want) {
					t.Errorf("TCP from %s: the container saw %s, want %s", client, got, want)
				}
				if got := echoUDP(t, client, netip.AddrPortFrom(client, uint16(udpPort))); !strings.HasPrefix(got, want) {
					t.Errorf("UDP from %s: the container saw %s, want %s", client, got, want)
				}
			}
			manyConnections(t, netip.AddrPortFrom(v4, uint16(tcpPort)), v4, 1000)
		})
	}
}

// echoTCP connects from client to the echo server at addr, checks the echo
// and returns the address the container saw (unmapped, without the port).
func echoTCP(t *testing.T, client netip.Addr, addr netip.AddrPort) string {
	t.Helper()
	var c net.Conn
	var err error
	for i := 0; i < 50; i++ {
		if c, err = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: client.AsSlice()}, Timeout: 5 * time.Second}).Dial("tcp", addr.String()); err == nil {
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			var peer string
			r := bufio.NewReader(c)
			if peer, err = r.ReadString('\n'); err == nil {
				fmt.Fprintln(c, "hello")
				var back string
				if back, err = r.ReadString('\n'); err == nil && back != "hello\n" {
					err = fmt.Errorf("echo %q", back)
				}
				c.Close()
				if err == nil {
					return peerAddr(peer)
				}
			}
			c.Close()
		}
		time.Sleep(100 * time.Millisecond) // the server may still be starting
	}
	t.Fatalf("TCP echo from %s to %s: %v", client, addr, err)
	return ""
}

// echoUDP sends a datagram from client to the echo server at addr.
func echoUDP(t *testing.T, client netip.Addr, addr netip.AddrPort) string {
	t.Helper()
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: client.AsSlice()}, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 1024)
	for i := 0; i < 20; i++ {
		_, _ = c.Write([]byte("ping"))
		_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		if n, err := c.Read(buf); err == nil {
			peer, payload, _ := strings.Cut(string(buf[:n]), "\n")
			if payload != "ping" {
				t.Fatalf("UDP echo payload %q", payload)
			}
			// A client the container sees as itself keeps its port too.
			local := c.LocalAddr().(*net.UDPAddr).AddrPort()
			if !client.IsLoopback() && peer != "peer "+local.String() && peer != fmt.Sprintf("peer [::ffff:%s]:%d", local.Addr(), local.Port()) {
				t.Errorf("UDP from %s: the container saw %s", local, peer)
			}
			return peerAddr(peer)
		}
	}
	t.Fatalf("no UDP echo from %s to %s", client, addr)
	return ""
}

// peerAddr turns the echo server's "peer ADDR:PORT" into the address.
func peerAddr(line string) string {
	ap, err := netip.ParseAddrPort(strings.TrimSpace(strings.TrimPrefix(line, "peer ")))
	if err != nil {
		return strings.TrimSpace(line)
	}
	return ap.Addr().Unmap().String()
}

// manyConnections holds n connections open at once through addr, then has
// each echo its own message.
func manyConnections(t *testing.T, addr netip.AddrPort, client netip.Addr, n int) {
	t.Helper()
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.DialTimeout("tcp", addr.String(), 10*time.Second)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		defer c.Close()
		conns[i] = c
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.SetDeadline(time.Now().Add(20 * time.Second))
			r := bufio.NewReader(c)
			peer, err := r.ReadString('\n')
			if err == nil && peerAddr(peer) != client.String() {
				err = fmt.Errorf("the container saw %q", peer)
			}
			msg := fmt.Sprintf("message %d\n", i)
			if err == nil {
				_, err = io.WriteString(c, msg)
			}
			var back string
			if err == nil {
				back, err = r.ReadString('\n')
			}
			if err == nil && back != msg {
				err = fmt.Errorf("echo %q, want %q", back, msg)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("%d concurrent connections: %v", n, err)
	}
}

// The DNS server of a network forwards to the host's resolvers from the
// host's namespace, so a loopback resolver (systemd-resolved's 127.0.0.53)
// works. The test gives rrun a resolv.conf that says so, in a mount
// namespace of its own, and serves DNS on 127.0.0.53 itself.
func TestNetworkDNSLoopbackResolver(t *testing.T) {
	if !tuser.asRoot {
		t.Skip("needs root to give rrun another /etc/resolv.conf; CI runs as root")
	}
	srv := &dns.Server{Addr: "127.0.0.53:53", Net: "udp", Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		switch {
		case len(q.Question) != 1 || q.Question[0].Name != "upstream.test.":
			m.Rcode = dns.RcodeNameError
		case q.Question[0].Qtype == dns.TypeA:
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: "upstream.test.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.ParseIP("192.0.2.123")})
		} // other types: no data
		_ = w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ListenAndServe() }()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("the test's DNS server on 127.0.0.53:53 did not start")
	}
	defer srv.Shutdown()

	conf := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(conf, []byte("nameserver 127.0.0.53\nsearch corp.test\noptions edns0 trust-ad\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Every rrun process of this test starts from this thread, in a mount
	// namespace where /etc/resolv.conf is that file. The thread is never
	// unlocked: it dies with the test.
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(conf, "/etc/resolv.conf", "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	out := e.ok("run", "--rm", "alpine", "sh", "-c", "cat /etc/resolv.conf; nslookup upstream.test")
	contains(t, out, "nameserver 172.17.0.1\nsearch corp.test\noptions edns0 trust-ad\n", "Address: 192.0.2.123")
	// On a user-defined network too, where container names come first.
	e.ok("network", "create", "app")
	contains(t, e.ok("run", "--rm", "--network", "app", "alpine", "nslookup", "upstream.test"), "Address: 192.0.2.123")
}

// A container's TCP connects to the host get host sockets (the bypass):
// the connection then has no socket in the container's own namespace. On
// a network created with -o bypass=false it goes through the stack, and
// the container's /proc/net/tcp shows it.
func TestNetworkConnectBypass(t *testing.T) {
	e := newEnv(t)
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { // echo, and hold the connection open
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	// Connected, the container looks for a TCP socket to that port in
	// its namespace (remote port in hex, in /proc/net/tcp and tcp6).
	script := fmt.Sprintf(`(echo hello; sleep 2) | nc host.docker.internal %d > /tmp/out & sleep 1; cat /tmp/out; if grep -qi ":%04X 01" /proc/net/tcp /proc/net/tcp6; then echo in-namespace; else echo bypassed; fi; wait`, port, port)
	out := e.ok("run", "--rm", "alpine", "sh", "-c", script)
	contains(t, out, "hello\n", "bypassed\n")
	e.ok("network", "create", "-o", "bypass=false", "slow")
	out = e.ok("run", "--rm", "--network", "slow", "alpine", "sh", "-c", script)
	contains(t, out, "hello\n", "in-namespace\n")
	// Without a seccomp profile there is nothing to notify connects: the
	// stack carries them.
	out = e.ok("run", "--rm", "--security-opt", "seccomp=unconfined", "alpine", "sh", "-c", script)
	contains(t, out, "hello\n", "in-namespace\n")
}
