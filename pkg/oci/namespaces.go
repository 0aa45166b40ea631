package oci

import (
	"fmt"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/generate"
)

// containerHostname is Config.Hostname, or docker's default: the short id.
func containerHostname(in *SpecInput) string {
	if in.Config.Hostname != "" {
		return in.Config.Hostname
	}
	if len(in.ID) > 12 {
		return in.ID[:12]
	}
	return in.ID
}

// WithHostname sets the host and domain name of the container's UTS
// namespace; with --uts=host the container has none of its own.
func WithHostname(g *generate.Generator, in *SpecInput) error {
	if in.HostConfig.UTSMode.IsHost() {
		return nil
	}
	g.SetHostname(containerHostname(in))
	if in.Config.Domainname != "" {
		g.SetDomainName(in.Config.Domainname)
	}
	return nil
}

// WithNamespaces gives the container its own mount, PID, IPC and UTS
// namespaces and, per NetNSPath, a network namespace. No user namespace:
// rrun already runs in the user's, with the full subordinate id map, and
// the container shares it. A cgroup namespace comes with a cgroup (v2).
//
// Sharing the host's PID or IPC namespace is refused: rrun's are owned by
// the host's user namespace, so /proc and /dev/mqueue could not be
// mounted for them.
func WithNamespaces(g *generate.Generator, in *SpecInput) error {
	hc := in.HostConfig
	if hc.PidMode != "" {
		return errdefs.ErrNotImplemented.WithMessage(fmt.Sprintf("--pid=%s is not supported: rootless containers always get their own PID namespace", hc.PidMode))
	}
	switch {
	case !hc.IpcMode.Valid():
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid IPC mode: %v", hc.IpcMode))
	case hc.IpcMode.IsHost(), hc.IpcMode.IsContainer():
		return errdefs.ErrNotImplemented.WithMessage(fmt.Sprintf("--ipc=%s is not supported: rootless containers always get their own IPC namespace", hc.IpcMode))
	}
	if !hc.UTSMode.Valid() {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid UTS mode: %v", hc.UTSMode))
	}
	if !hc.CgroupnsMode.Valid() {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid cgroup namespace mode: %v", hc.CgroupnsMode))
	}

	namespaces := []specs.LinuxNamespace{
		{Type: specs.MountNamespace},
		{Type: specs.PIDNamespace},
		{Type: specs.IPCNamespace},
	}
	if !hc.UTSMode.IsHost() {
		namespaces = append(namespaces, specs.LinuxNamespace{Type: specs.UTSNamespace})
	}
	switch in.NetNSPath {
	case "":
	case NetNSNew:
		namespaces = append(namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace})
	default:
		namespaces = append(namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: in.NetNSPath})
	}
	if ownCgroupNS(in) {
		namespaces = append(namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	}
	g.Config.Linux.Namespaces = namespaces
	return nil
}

// ownCgroupNS: docker's default on cgroup v2 is a private cgroup namespace;
// without a cgroup of its own the container could only see rrun's.
func ownCgroupNS(in *SpecInput) bool {
	return in.CgroupsPath != "" && !in.HostConfig.CgroupnsMode.IsHost()
}

// hasOwnNetNS reports whether the container's network namespace is not
// rrun's own, and so is owned by rrun's user namespace: only then may
// sysfs be mounted and net.* sysctls be set.
func hasOwnNetNS(in *SpecInput) bool { return in.NetNSPath != "" }
