// Package netstack is the user-mode TCP/IP stack that gives rootless
// containers their way out to the world.
//
// # What it owns
//
// A rootless "infra" network namespace holds the Linux bridges of the
// container networks and one TAP device (rrun-tap0, 10.0.2.100/24 and
// fd72:7275:6e00:2::100/64, default routes via 10.0.2.2 and
// fd72:7275:6e00:2::2). The caller opens that TAP and hands its file
// descriptor to Start. This package is the other end of the TAP: a gVisor
// netstack that runs in the host's network namespace as an ordinary
// unprivileged user, owns 10.0.2.2 / fd72:7275:6e00:2::2 on the link, and
// runs in promiscuous + spoofing mode so that it accepts every flow a
// container starts towards any destination (packets keep the container's own
// source address; the infra netns routes, it does not NAT).
//
// Every accepted flow becomes an ordinary host socket:
//
//   - TCP: the container's SYN is held while the host connection is dialled;
//     the handshake with the container is only completed once the host side
//     is connected (a refused or failed dial is answered with a RST). Bytes
//     are then relayed with half-close propagation.
//   - UDP: one connected host UDP socket per flow (container addr:port ->
//     destination addr:port), dropped after an idle timeout.
//   - ICMP echo: one unprivileged ping socket (SOCK_DGRAM, IPPROTO_ICMP /
//     IPPROTO_ICMPV6) per echo flow. If the host's
//     net.ipv4.ping_group_range does not include the user's group the request
//     is dropped (and that is logged once): replies are never faked. Echo
//     requests to the stack's own address are answered by gVisor itself.
//
// Replies travel back to the container addresses through the link's next hop
// (the infra netns end of the TAP), which routes them to the bridges.
//
// # What it must not do
//
// It holds no policy. Which destinations may be reached, and which host
// address a destination maps to (for example 10.0.2.2:80 -> 127.0.0.1:80), is
// decided per flow by Config.Outbound. This package only carries out that
// decision; it never NATs, filters or rewrites on its own.
//
// # Why gVisor directly over the TAP fd
//
// rootlesskit's gvisor-tap-vsock driver puts a virtual switch and a unix
// socket hop between the TAP and the stack: every frame is read from the TAP
// by one process, written to a socket, read again by the switch and only then
// handed to the stack (and the same way back). Here the stack's link endpoint
// reads and writes the TAP fd itself, one read(2)/writev(2) per frame, with
// no intermediate process, socket or switch: fewer copies and fewer context
// switches per packet, which is what bulk throughput through the TAP is made
// of.
//
// The link endpoint is our own (not gVisor's fdbased): a TAP fd is not a
// socket, so fdbased can only use its readv dispatcher, and that dispatcher
// stops reading for good on the first frame that is shorter than an Ethernet
// header or addressed to another unicast MAC. Our endpoint drops such frames
// and keeps going.
package netstack
