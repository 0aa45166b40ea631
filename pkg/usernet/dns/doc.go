// Package dns is the resolver containers on a user-defined network talk to,
// like docker's embedded DNS (127.0.0.11) or podman's aardvark-dns.
//
// It owns the serving side only: a Server answers on a net.PacketConn (UDP)
// and a net.Listener (TCP) that the caller has already bound, typically on a
// bridge gateway address inside the rootless network namespace (for example
// 172.18.0.1:53). Names local to the network (container names, network
// aliases, id prefixes, and the PTR names of container addresses) are answered
// from a Records the caller supplies; every other query is forwarded
// unchanged (same id, EDNS0 and DO bit) to the host's resolvers, failing over
// between them and retrying over TCP when an answer comes back truncated.
//
// Forwarding sockets are opened by ordinary goroutines, so they live in the
// host's network namespace (the namespace of the process running the Server):
// a host resolv.conf that names a loopback resolver such as systemd-resolved's
// 127.0.0.53 works, which it would not from inside the container's namespace.
//
// The package also reads the host's resolv.conf (HostConfig) and renders the
// resolv.conf a container gets (ContainerResolvConf).
package dns
