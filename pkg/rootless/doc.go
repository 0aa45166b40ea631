// Package rootless puts rrun inside the user's rootless namespaces.
//
// The first command that needs them starts a small "pause" process in a new
// user and mount namespace whose id maps cover the user's own uid/gid (as
// container root) and the user's full /etc/subuid and /etc/subgid ranges,
// written by the setuid newuidmap/newgidmap helpers as podman does. Later
// commands do not create namespaces again: they re-execute themselves with
// the pause process's pid in the environment, and a small cgo constructor
// (join_linux.go) calls setns(2) before the Go runtime starts its threads.
//
// The package owns the namespaces and the diagnosis of why they cannot be
// made; it knows nothing about storage or containers.
package rootless
