// Package oci owns the OCI runtime side of a container: it builds the
// runtime spec (config.json) for a container from docker's typed config
// (moby API Config and HostConfig), with docker's defaults — capabilities,
// masked and read-only paths, the default seccomp profile, /dev, /proc and
// /sys mounts — adapted to what an unprivileged user can do, and later it
// runs that spec with runc's libcontainer compiled into rrun.
//
// BuildSpec is a list of small options (SpecOpt) applied in order, each
// testable on its own, in the style of containerd's SpecOpts.
//
// The package knows nothing about image storage, volumes' on-disk layout or
// the CLI: the engine hands it a mounted rootfs, a function that resolves
// named volumes, and the files it generated (hosts, resolv.conf).
package oci
