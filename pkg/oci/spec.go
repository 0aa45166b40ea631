package oci

import (
	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/generate"
)

// SpecInput is everything BuildSpec needs. All paths are absolute host
// paths as seen inside rrun's rootless user and mount namespace, where rrun
// runs as uid 0 with the user's full subordinate id map: containers get no
// user namespace of their own.
type SpecInput struct {
	ID         string // container id (64 hex)
	Rootfs     string // the mounted root filesystem
	Config     *container.Config
	HostConfig *container.HostConfig
	// Files rrun generated for the container, bind-mounted over /etc/hosts,
	// /etc/hostname and /etc/resolv.conf (empty: not mounted).
	HostsPath, HostnamePath, ResolvConfPath string
	// Volumes resolves a named volume (-v name:/dst, --mount type=volume,
	// or an anonymous one named with a random id) to its host directory,
	// creating it if needed; the engine owns volumes.
	Volumes func(name string) (hostPath string, err error)
	// NetNSPath: "" shares rrun's network namespace (rootless "host"
	// network), "new" makes a new one with only loopback (--network none),
	// anything else is the path of one to join (/proc/PID/ns/net).
	NetNSPath string
	// InitPath, when set, is a binary bind-mounted read-only at
	// /sbin/rrun-init and run as PID 1 in front of the command (--init).
	InitPath string
	// CgroupsPath: "" means no cgroup (rootless on cgroup v1 or hybrid
	// hosts: no limits, no cgroup namespace); else the cgroup v2 path for
	// this container under the user's delegated subtree.
	CgroupsPath string
}

// NetNSNew asks for a new, empty network namespace (--network none).
const NetNSNew = "new"

// SpecOpt changes the spec being built. Options are applied in order; later
// ones may rely on what earlier ones set (seccomp on the capabilities).
type SpecOpt func(g *generate.Generator, in *SpecInput) error

// DefaultSpecOpts is the order BuildSpec applies its options in.
func DefaultSpecOpts() []SpecOpt {
	return []SpecOpt{
		WithRoot,
		WithProcessArgs,
		WithHostname,
		WithEnv,
		WithCwd,
		WithTerminal,
		WithUser,
		WithNamespaces,
		WithMounts,
		WithDevices,
		WithCapabilities,
		WithSecurityOpts, // after capabilities: the seccomp profile depends on them
		WithRlimits,
		WithSysctls,
		WithResources,
		WithOOMScoreAdj,
		WithAnnotations,
		WithInit,         // after the args and mounts it extends
		WithSortedMounts, // last: checks and orders every mount added above
	}
}

// BuildSpec builds the OCI runtime spec for a container the way docker's
// daemon does (moby daemon/oci_linux.go), within what rootless allows.
func BuildSpec(in SpecInput) (*specs.Spec, error) {
	return BuildSpecWith(in, DefaultSpecOpts()...)
}

// BuildSpecWith applies opts to an empty spec.
func BuildSpecWith(in SpecInput, opts ...SpecOpt) (*specs.Spec, error) {
	if in.Config == nil {
		return nil, errdefs.ErrInvalidArgument.WithMessage("container config is missing")
	}
	if in.HostConfig == nil {
		in.HostConfig = &container.HostConfig{}
	}
	g := newGenerator()
	for _, opt := range opts {
		if err := opt(g, &in); err != nil {
			return nil, err
		}
	}
	return g.Config, nil
}

// newGenerator starts from an empty spec rather than generate.New's
// template, whose defaults (inheritable and ambient capabilities, a
// hostname, runtime-tools' own seccomp profile) are not docker's.
func newGenerator() *generate.Generator {
	g := generate.NewFromSpec(&specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{},
		// No capabilities until WithCapabilities grants them.
		Process: &specs.Process{Cwd: "/", Capabilities: &specs.LinuxCapabilities{}},
		Linux:   &specs.Linux{},
	})
	return &g
}

// WithRoot sets the root filesystem and whether it is read-only.
func WithRoot(g *generate.Generator, in *SpecInput) error {
	if in.Rootfs == "" {
		return errdefs.ErrInvalidArgument.WithMessage("container root filesystem is not mounted")
	}
	g.SetRootPath(in.Rootfs)
	g.SetRootReadonly(in.HostConfig.ReadonlyRootfs)
	return nil
}

// WithAnnotations passes HostConfig.Annotations to the runtime, as docker.
func WithAnnotations(g *generate.Generator, in *SpecInput) error {
	for k, v := range in.HostConfig.Annotations {
		g.AddAnnotation(k, v)
	}
	return nil
}
