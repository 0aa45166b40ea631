// Package portfwd publishes container ports on the host for rootless
// containers (`docker run -p [ip:][hostPort:]containerPort[/tcp|udp]`),
// with the client's source address preserved.
//
// It owns both halves of a published port. On the host side it keeps
// ordinary listening sockets (TCP) or one datagram socket (UDP) in the host's
// network namespace, bound to the requested address and port. On the
// container side, for every accepted TCP connection and every new UDP
// client, it makes a socket inside the "infra" network namespace that holds
// the container bridges (through the caller's [Socket] function), marks it
// IP_TRANSPARENT (IPV6_TRANSPARENT for IPv6), binds it to the address the
// container should see as its peer and connects it to the container. The
// caller's policy routing in the infra namespace delivers the container's
// replies locally to that socket, which is what lets it own a foreign
// address; that routing is not part of this package.
//
// Why transparent sockets: the container sees the real client address, as
// with rootlesskit's builtin port driver with source IP propagation, but the
// path is made of kernel sockets end to end: no user-mode TCP/IP stack, no
// per-packet copies for TCP, which is relayed with splice(2) between two
// *net.TCPConn. Host to published port runs at close to loopback speed.
//
// Loopback clients cannot be shown to the container as themselves (its
// 127.0.0.1 is its own), and neither can an IPv6 client of an IPv4-only
// container; a [Mapping.Source] function chooses what the container sees
// instead, typically the network's gateway, as docker's userland proxy does.
package portfwd
