package oci

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/containerd/errdefs"
	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/generate"
)

// DefaultCapabilities is docker's default capability set
// (moby daemon/pkg/oci/caps/defaults.go).
func DefaultCapabilities() []string {
	return []string{
		"CAP_CHOWN",
		"CAP_DAC_OVERRIDE",
		"CAP_FSETID",
		"CAP_FOWNER",
		"CAP_MKNOD",
		"CAP_NET_RAW",
		"CAP_SETGID",
		"CAP_SETUID",
		"CAP_SETFCAP",
		"CAP_SETPCAP",
		"CAP_NET_BIND_SERVICE",
		"CAP_SYS_CHROOT",
		"CAP_KILL",
		"CAP_AUDIT_WRITE",
	}
}

// capSets are the names of every capability the kernel and libraries
// know, and of those this process can hand on: the ones in its bounding
// set. A privileged container gets the latter (docker takes its own
// effective set), since runc cannot grant what rrun lacks.
type capSets struct {
	known, available []string
}

var currentCaps = sync.OnceValue(func() capSets {
	var s capSets
	for _, c := range capability.ListKnown() {
		name := "CAP_" + strings.ToUpper(c.String())
		s.known = append(s.known, name)
		if ok, err := capability.GetBound(c); err == nil && ok {
			s.available = append(s.available, name)
		}
	}
	return s
})

// AllCapabilities is what a privileged container gets: every capability
// this process may pass on.
func AllCapabilities() []string { return slices.Clone(currentCaps().available) }

// normalizeCaps upper-cases capability names and adds the CAP_ prefix;
// "ALL" passes as is (moby caps.NormalizeLegacyCapabilities).
func normalizeCaps(caps []string) ([]string, error) {
	sets := currentCaps()
	var out []string
	for _, c := range caps {
		c = strings.ToUpper(c)
		if c == "ALL" {
			out = append(out, c)
			continue
		}
		if !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		switch {
		case !slices.Contains(sets.known, c):
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("unknown capability: %q", c))
		case !slices.Contains(sets.available, c):
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("capability not supported by your kernel or not available in the current environment: %q", c))
		}
		out = append(out, c)
	}
	return out, nil
}

// Capabilities is the container's capability set: docker's defaults with
// --cap-drop removed and --cap-add added, "ALL" in either meaning every
// capability; every capability when privileged (moby caps.TweakCapabilities).
func Capabilities(add, drop []string, privileged bool) ([]string, error) {
	if privileged {
		return AllCapabilities(), nil
	}
	drops, err := normalizeCaps(drop)
	if err != nil {
		return nil, err
	}
	adds, err := normalizeCaps(add)
	if err != nil {
		return nil, err
	}
	var caps []string
	switch {
	case slices.Contains(adds, "ALL"):
		for _, c := range AllCapabilities() {
			if !slices.Contains(drops, c) {
				caps = append(caps, c)
			}
		}
	case slices.Contains(drops, "ALL"):
		caps = adds
	default:
		// Like rootless podman, leave out defaults this process does not
		// have (rrun nested in a container that dropped some): runc could
		// not grant them and the container would not start at all.
		for _, c := range DefaultCapabilities() {
			if !slices.Contains(drops, c) && slices.Contains(currentCaps().available, c) {
				caps = append(caps, c)
			}
		}
		caps = append(caps, adds...)
	}
	var out []string
	for _, c := range caps {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// WithCapabilities sets the bounding, effective and permitted sets. The
// inheritable and ambient sets stay empty, as in docker since 23.0
// (CVE-2022-24769): a non-root user's programs start with no capabilities.
func WithCapabilities(g *generate.Generator, in *SpecInput) error {
	caps, err := Capabilities(in.HostConfig.CapAdd, in.HostConfig.CapDrop, in.HostConfig.Privileged)
	if err != nil {
		return err
	}
	g.Config.Process.Capabilities = &specs.LinuxCapabilities{
		Bounding:  caps,
		Effective: slices.Clone(caps),
		Permitted: slices.Clone(caps),
	}
	return nil
}
