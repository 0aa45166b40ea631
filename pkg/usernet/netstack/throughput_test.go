package netstack

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vishvananda/netlink"
	"time"
)

// TestThroughput measures bulk TCP through the TAP and the stack, like
// iperf3 from a container to a server on the host and back. It only runs
// when RRUN_NETSTACK_BENCH is set (to the number of seconds per direction):
//
//	sudo RRUN_NETSTACK_BENCH=5 go test -run Throughput -v ./pkg/usernet/netstack/
func TestThroughput(t *testing.T) {
	secs, _ := strconv.Atoi(os.Getenv("RRUN_NETSTACK_BENCH"))
	if secs <= 0 {
		t.Skip("set RRUN_NETSTACK_BENCH=<seconds> to measure throughput")
	}
	d := time.Duration(secs) * time.Second
	streams, _ := strconv.Atoi(os.Getenv("RRUN_NETSTACK_BENCH_STREAMS"))
	if streams <= 0 {
		streams = 1
	}
	for _, vnet := range []bool{false, true} {
		t.Run(fmt.Sprintf("vnethdr=%v", vnet), func(t *testing.T) {
			e := newEnv(t, envOpts{vnetHdr: vnet})
			e.stack.logf = func(string, ...any) {}
			if mtu, _ := strconv.Atoi(os.Getenv("RRUN_NETSTACK_BENCH_PATHMTU")); mtu > 0 {
				// Emulate containers behind 1500-byte bridges: the
				// netns side uses a smaller path MTU towards the stack.
				var err error
				e.ns.do(func() {
					var tap netlink.Link
					if tap, err = netlink.LinkByName(tapName); err == nil {
						err = netlink.RouteReplace(&netlink.Route{LinkIndex: tap.Attrs().Index, Gw: stackAddr.Addr().AsSlice(), MTU: mtu})
					}
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			up := bulk(t, e, d, streams, true)
			down := bulk(t, e, d, streams, false)
			st := e.stack.Stats()
			t.Logf("vnethdr=%v streams=%d: container->host %.2f Gbit/s, host->container %.2f Gbit/s (rx frames %d, tx frames %d, tx errors %d)",
				vnet, streams, up, down, st.RxFrames, st.TxFrames, st.TxErrors)
			if _, err := exec.LookPath("iperf3"); err == nil && os.Getenv("RRUN_NETSTACK_IPERF") != "" {
				for _, reverse := range []bool{false, true} {
					t.Logf("iperf3 vnethdr=%v reverse=%v:\n%s", vnet, reverse, iperf(t, e, secs, streams, reverse))
				}
			}
		})
	}
}

// bulk moves data for d over n parallel connections and returns Gbit/s.
// upload: netns client writes, host server reads; otherwise the reverse.
func bulk(t *testing.T, e *env, d time.Duration, n int, upload bool) float64 {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var total atomic.Int64
	stop := make(chan struct{})
	buf := make([]byte, 256<<10)
	pump := func(c net.Conn, send bool) {
		defer c.Close()
		if send {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := c.Write(buf); err != nil {
					return
				}
			}
		}
		rb := make([]byte, 256<<10)
		for {
			m, err := c.Read(rb)
			total.Add(int64(m))
			if err != nil {
				return
			}
		}
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go pump(c, !upload)
		}
	}()
	port := portOf(l.Addr())
	var conns []net.Conn
	for i := 0; i < n; i++ {
		// A foreign address, routed via the default route like container
		// traffic (Outbound maps it to the host's loopback).
		c, err := e.dial("tcp4", netip.AddrPortFrom(foreignAddr, port).String(), nil)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		go pump(c, upload)
	}
	time.Sleep(300 * time.Millisecond) // warm-up
	start, startBytes := time.Now(), total.Load()
	time.Sleep(d)
	bytes := total.Load() - startBytes
	el := time.Since(start)
	close(stop)
	for _, c := range conns {
		c.Close()
	}
	return float64(bytes) * 8 / el.Seconds() / 1e9
}

// iperf runs an iperf3 server on the host loopback and the client in the
// netns (exec from the netns thread: the child inherits its namespace).
func iperf(t *testing.T, e *env, secs, streams int, reverse bool) string {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := portOf(l.Addr())
	l.Close()
	srv := exec.Command("iperf3", "-s", "-1", "-B", "127.0.0.1", "-p", strconv.Itoa(int(port)))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Wait()
	time.Sleep(300 * time.Millisecond)
	args := []string{"-c", foreignAddr.String(), "-p", strconv.Itoa(int(port)), "-t", strconv.Itoa(secs), "-P", strconv.Itoa(streams)}
	if reverse {
		args = append(args, "-R")
	}
	var out []byte
	e.ns.do(func() { out, err = exec.Command("iperf3", args...).CombinedOutput() })
	if err != nil {
		srv.Process.Kill()
		t.Fatalf("iperf3 client: %v\n%s", err, out)
	}
	var lines []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "sender") || strings.Contains(line, "receiver") {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "\n")
}
