package oci

import (
	"fmt"
	"os"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/runtime-tools/generate"
)

// namespacedSysctls are the IPC namespace's sysctls docker allows; any
// "net." one (the network namespace's) and "fs.mqueue." one (IPC) are
// allowed too (docker/cli opts.ValidateSysctl).
var namespacedSysctls = map[string]bool{
	"kernel.msgmax":          true,
	"kernel.msgmnb":          true,
	"kernel.msgmni":          true,
	"kernel.sem":             true,
	"kernel.shmall":          true,
	"kernel.shmmax":          true,
	"kernel.shmmni":          true,
	"kernel.shm_rmid_forced": true,
}

// ValidateSysctl accepts only sysctls that belong to a namespace the
// container has its own of: other ones would change the host's.
func ValidateSysctl(key, value string, ownNetNS bool) error {
	switch {
	case namespacedSysctls[key], strings.HasPrefix(key, "fs.mqueue."):
		return nil
	case strings.HasPrefix(key, "net."):
		if !ownNetNS {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("sysctl '%s=%s' is not allowed with the host's network namespace", key, value))
		}
		return nil
	}
	return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("sysctl '%s=%s' is not allowed", key, value))
}

// WithSysctls sets HostConfig.Sysctls, after docker's default for a
// container with its own network: any port may be bound without
// CAP_NET_BIND_SERVICE. (Docker's other default, ping_group_range, it
// skips in a user namespace, as here: not every gid is mapped.)
func WithSysctls(g *generate.Generator, in *SpecInput) error {
	own := hasOwnNetNS(in)
	if own && sysctlExists("net.ipv4.ip_unprivileged_port_start") {
		g.AddLinuxSysctl("net.ipv4.ip_unprivileged_port_start", "0")
	}
	for _, k := range sortedKeys(in.HostConfig.Sysctls) {
		v := in.HostConfig.Sysctls[k]
		if err := ValidateSysctl(k, v, own); err != nil {
			return err
		}
		g.AddLinuxSysctl(k, v)
	}
	return nil
}

// sysctlExists: runc fails on a sysctl the kernel lacks, so defaults are
// set only where it has them.
func sysctlExists(key string) bool {
	_, err := os.Stat("/proc/sys/" + strings.ReplaceAll(key, ".", "/"))
	return err == nil
}
