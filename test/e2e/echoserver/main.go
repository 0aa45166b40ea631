// Command echoserver is the end-to-end tests' server inside containers:
// busybox has no UDP server and its httpd drops connections under load.
// On each TCP connection and UDP datagram it first tells the client the
// address it came from ("peer ADDR\n"), then echoes what it gets.
//
// Usage: echoserver PORT (TCP and UDP, all addresses), or
// echoserver udp ADDR:PORT MESSAGE, which sends one datagram and prints
// the answer (busybox's nc has no UDP mode).
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

func main() {
	if len(os.Args) == 4 && os.Args[1] == "udp" {
		os.Exit(udpClient(os.Args[2], os.Args[3]))
	}
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: echoserver PORT")
		os.Exit(2)
	}
	addr := ":" + os.Args[1]
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			reply := append([]byte("peer "+from.String()+"\n"), buf[:n]...)
			_, _ = pc.WriteTo(reply, from)
		}
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			continue
		}
		go func() {
			defer c.Close()
			fmt.Fprintf(c, "peer %s\n", c.RemoteAddr())
			_, _ = io.Copy(c, c)
		}()
	}
}

func udpClient(addr, msg string) int {
	c, err := net.Dial("udp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	buf := make([]byte, 65536)
	for i := 0; i < 10; i++ {
		_, _ = c.Write([]byte(msg))
		_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		if n, err := c.Read(buf); err == nil {
			fmt.Println(string(buf[:n]))
			return 0
		}
	}
	fmt.Fprintln(os.Stderr, "no answer from", addr)
	return 1
}
