// Command connrate measures how many TCP connections per second a server
// takes through its whole path: each connection is dialled, sends a
// request, reads the reply up to the server's close, checks its start, and
// is closed; -c of them at a time, for -d. hack/bench/run.sh runs it on the
// host against a container's HTTP server behind a published port, so a
// connection counts only once the container has answered (a port forwarder
// accepts on the host before it has reached the container).
//
// It prints one line of key=value words:
//
//	connections=N errors=E seconds=S rate=R p50_ms=X p99_ms=Y
//
// rate is connections completed per second of the run; p50_ms and p99_ms
// are their latencies, dial to close; errors are connections that failed
// (not counted in N). It exits non-zero when no connection completed.
//
// Usage:
//
//	connrate -addr 127.0.0.1:8080 [-c 1] [-d 3s] [-wait 10s]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"time"
)

func main() {
	addr := flag.String("addr", "", "server `HOST:PORT` (required)")
	conc := flag.Int("c", 1, "connections at a time")
	dur := flag.Duration("d", 3*time.Second, "how long to measure")
	wait := flag.Duration("wait", 10*time.Second, "before measuring, retry one connection until it succeeds for up to this long")
	timeout := flag.Duration("timeout", 5*time.Second, "deadline of one connection")
	request := flag.String("request", "GET / HTTP/1.0\r\n\r\n", "bytes each connection sends")
	expect := flag.String("expect", "HTTP/1.1 200", "the reply must start with this (busybox httpd answers HTTP/1.1)")
	flag.Parse()
	if *addr == "" || *conc < 1 || *dur <= 0 || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	c := conn{addr: *addr, timeout: *timeout, request: []byte(*request), expect: []byte(*expect)}
	if err := c.waitReady(*wait); err != nil {
		fmt.Fprintf(os.Stderr, "connrate: %s not ready after %v: %v\n", *addr, *wait, err)
		os.Exit(1)
	}
	res := run(c, *conc, *dur)
	fmt.Println(res)
	if res.n == 0 {
		fmt.Fprintf(os.Stderr, "connrate: no connection completed; last error: %v\n", res.lastErr)
		os.Exit(1)
	}
}

// conn is what one connection does.
type conn struct {
	addr    string
	timeout time.Duration
	request []byte
	expect  []byte
}

// once makes one connection: dial, send the request, read the reply to EOF
// and check how it starts.
func (c conn) once() error {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	defer nc.Close()
	deadline, _ := ctx.Deadline()
	if err := nc.SetDeadline(deadline); err != nil {
		return err
	}
	if _, err := nc.Write(c.request); err != nil {
		return err
	}
	reply, err := io.ReadAll(nc)
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(reply, c.expect) {
		return fmt.Errorf("reply %.40q does not start with %q", reply, c.expect)
	}
	return nil
}

// waitReady retries one connection until it succeeds or wait has passed:
// a container's server may not listen yet when its port is published.
func (c conn) waitReady(wait time.Duration) error {
	end := time.Now().Add(wait)
	for {
		err := c.once()
		if err == nil || time.Now().After(end) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type result struct {
	n, errors int
	elapsed   time.Duration
	latencies []time.Duration
	lastErr   error
}

func (r result) String() string {
	ms := func(q float64) float64 {
		if len(r.latencies) == 0 {
			return 0
		}
		return float64(r.latencies[int(q*float64(len(r.latencies)-1))]) / float64(time.Millisecond)
	}
	return fmt.Sprintf("connections=%d errors=%d seconds=%.3f rate=%.1f p50_ms=%.3f p99_ms=%.3f",
		r.n, r.errors, r.elapsed.Seconds(), float64(r.n)/r.elapsed.Seconds(), ms(0.5), ms(0.99))
}

// run makes connections with conc workers until dur has passed; a
// connection started before the end is waited for and counted.
func run(c conn, conc int, dur time.Duration) result {
	var (
		mu  sync.Mutex
		res result
		wg  sync.WaitGroup
	)
	start := time.Now()
	end := start.Add(dur)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			var errs int
			var lastErr error
			for time.Now().Before(end) {
				t := time.Now()
				if err := c.once(); err != nil {
					errs++
					lastErr = err
					time.Sleep(time.Millisecond) // no busy loop on a refused port
					continue
				}
				lat = append(lat, time.Since(t))
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.errors += errs
			if lastErr != nil {
				res.lastErr = lastErr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.n = len(res.latencies)
	slices.Sort(res.latencies)
	return res
}
