package oci

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/profiles/seccomp"
	"github.com/opencontainers/runtime-tools/generate"
)

// DefaultMaskedPaths are docker's masked paths (moby
// daemon/pkg/oci/defaults.go): /dev/null is bound over files, an empty
// read-only tmpfs over directories. Docker also masks each CPU's
// thermal_throttle directory where the host has one; so does
// WithSecurityOpts.
func DefaultMaskedPaths() []string {
	return []string{
		"/proc/asound",
		"/proc/acpi",
		"/proc/interrupts",
		"/proc/kcore",
		"/proc/keys",
		"/proc/latency_stats",
		"/proc/timer_list",
		"/proc/timer_stats",
		"/proc/sched_debug",
		"/proc/scsi",
		"/sys/firmware",
		"/sys/devices/virtual/powercap",
	}
}

// DefaultReadonlyPaths are docker's read-only paths.
func DefaultReadonlyPaths() []string {
	return []string{
		"/proc/bus",
		"/proc/fs",
		"/proc/irq",
		"/proc/sys",
		"/proc/sysrq-trigger",
	}
}

// SecurityOpts is HostConfig.SecurityOpt parsed.
type SecurityOpts struct {
	NoNewPrivileges bool
	// Seccomp is "" (the default profile), "unconfined", "builtin" (the
	// default profile), a profile in docker's JSON format (what the docker
	// CLI sends after reading the file), or the path of such a file.
	Seccomp string
	// UnconfinedPaths (systempaths=unconfined) drops the masked and
	// read-only paths.
	UnconfinedPaths bool
}

// ParseSecurityOpts parses --security-opt values as docker's daemon does
// (parseSecurityOpt), "key=value" or the older "key:value". SELinux labels
// and AppArmor profiles are accepted and ignored: rrun applies neither, as
// docker on a host without them.
func ParseSecurityOpts(opts []string) (SecurityOpts, error) {
	var s SecurityOpts
	for _, opt := range opts {
		switch opt {
		case "no-new-privileges":
			s.NoNewPrivileges = true
			continue
		case "disable": // label disable, in its oldest form
			continue
		}
		sep := "="
		if !strings.Contains(opt, "=") {
			sep = ":"
		}
		k, v, ok := strings.Cut(opt, sep)
		if !ok {
			return s, invalidSecurityOpt(opt)
		}
		switch k {
		case "label", "apparmor":
		case "seccomp":
			if v == "" {
				return s, invalidSecurityOpt(opt)
			}
			s.Seccomp = v
		case "no-new-privileges":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return s, invalidSecurityOpt(opt)
			}
			s.NoNewPrivileges = b
		case "systempaths":
			if v != "unconfined" {
				return s, invalidSecurityOpt(opt)
			}
			s.UnconfinedPaths = true
		default:
			return s, invalidSecurityOpt(opt)
		}
	}
	return s, nil
}

func invalidSecurityOpt(opt string) error {
	return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid --security-opt: %q", opt))
}

// WithSecurityOpts applies --security-opt and docker's defaults:
// no-new-privileges when asked, the default seccomp profile (none when
// privileged), masked and read-only paths (none when privileged).
func WithSecurityOpts(g *generate.Generator, in *SpecInput) error {
	opts, err := ParseSecurityOpts(in.HostConfig.SecurityOpt)
	if err != nil {
		return err
	}
	g.SetProcessNoNewPrivileges(opts.NoNewPrivileges)
	if err := withSeccomp(g, opts.Seccomp, in.HostConfig.Privileged); err != nil {
		return err
	}
	if in.HostConfig.Privileged || opts.UnconfinedPaths {
		g.Config.Linux.MaskedPaths, g.Config.Linux.ReadonlyPaths = nil, nil
		return nil
	}
	masked := in.HostConfig.MaskedPaths
	if masked == nil {
		masked = append(DefaultMaskedPaths(), thermalThrottlePaths()...)
	}
	readonly := in.HostConfig.ReadonlyPaths
	if readonly == nil {
		readonly = DefaultReadonlyPaths()
	}
	g.Config.Linux.MaskedPaths = slices.Clone(masked)
	g.Config.Linux.ReadonlyPaths = slices.Clone(readonly)
	return nil
}

// thermalThrottlePaths: the per-CPU files docker masks since
// GHSA-6fw5-f8r9-fgfm (they leak power usage).
func thermalThrottlePaths() []string {
	paths, _ := filepath.Glob("/sys/devices/system/cpu/cpu[0-9]*/thermal_throttle")
	return paths
}

// withSeccomp sets the seccomp filter. It depends on the capabilities
// already in the spec: the default profile allows some system calls only
// to containers holding the capability they need.
func withSeccomp(g *generate.Generator, profile string, privileged bool) error {
	if privileged || profile == "unconfined" {
		g.Config.Linux.Seccomp = nil
		return nil
	}
	if profile == "" || profile == "builtin" {
		s, err := seccomp.GetDefaultProfile(g.Config)
		if err != nil {
			return fmt.Errorf("loading the default seccomp profile: %w", err)
		}
		g.Config.Linux.Seccomp = s
		return nil
	}
	body := profile
	if !strings.HasPrefix(strings.TrimSpace(profile), "{") {
		data, err := os.ReadFile(profile)
		if err != nil {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("opening seccomp profile (%s) failed: %v", profile, err))
		}
		body = string(data)
	}
	s, err := seccomp.LoadProfile(body, g.Config)
	if err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	g.Config.Linux.Seccomp = s
	return nil
}
