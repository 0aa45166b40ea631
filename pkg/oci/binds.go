package oci

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/mount"
)

// ParseBind parses a -v/--volume value, "[src:]dst[:opts]", into the
// mount docker's linux parser (moby volume/mounts/linux_parser.go) makes of
// it: an absolute src is a bind mount, any other src a named volume, no src
// an anonymous volume. opts is a comma-separated list holding at most one
// of each: ro|rw, z|Z (accepted and ignored: no SELinux), nocopy, a
// propagation (private, rprivate, shared, rshared, slave, rslave) and a
// consistency (consistent, cached, delegated: ignored on Linux).
//
// Unlike --mount, -v creates a missing bind source as a directory; the
// result says so with BindOptions.CreateMountpoint.
func ParseBind(spec string) (mount.Mount, error) {
	var m mount.Mount
	if strings.Count(spec, ":") > 2 {
		return m, invalidVolumeSpec(spec)
	}
	parts := strings.SplitN(spec, ":", 3)
	if parts[0] == "" {
		return m, invalidVolumeSpec(spec)
	}
	var mode string
	switch len(parts) {
	case 1:
		m.Target = parts[0]
	case 2:
		if isMode(parts[1]) {
			// "/dst:ro" names no volume to mount read-only.
			return m, invalidVolumeSpec(spec)
		}
		m.Source, m.Target = parts[0], parts[1]
	case 3:
		m.Source, m.Target, mode = parts[0], parts[1], parts[2]
	}
	opts, err := parseMode(mode)
	if err != nil {
		return m, err
	}

	m.Type = mount.TypeVolume
	if path.IsAbs(m.Source) {
		m.Type = mount.TypeBind
		m.BindOptions = &mount.BindOptions{CreateMountpoint: true}
	}
	m.ReadOnly = opts.readOnly
	if opts.noCopy {
		m.VolumeOptions = &mount.VolumeOptions{NoCopy: true}
	}
	if opts.propagation != "" {
		if m.BindOptions == nil {
			m.BindOptions = &mount.BindOptions{}
		}
		m.BindOptions.Propagation = opts.propagation
	}
	if err := ValidateMount(m); err != nil {
		return m, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid volume specification: '%s': %v", spec, err))
	}
	m.Target = path.Clean(m.Target)
	if m.Type == mount.TypeBind {
		m.Source = path.Clean(m.Source)
	}
	return m, nil
}

func invalidVolumeSpec(spec string) error {
	return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid volume specification: '%s'", spec))
}

// bindMode is the options part of a -v value.
type bindMode struct {
	readOnly    bool
	noCopy      bool
	propagation mount.Propagation
}

var propagations = map[string]bool{
	"private": true, "rprivate": true, "shared": true, "rshared": true, "slave": true, "rslave": true,
}

func isMode(s string) bool {
	_, err := parseMode(s)
	return err == nil
}

func parseMode(mode string) (bindMode, error) {
	var b bindMode
	if mode == "" {
		return b, nil
	}
	counts := map[string]int{}
	for _, o := range strings.Split(mode, ",") {
		switch {
		case o == "ro" || o == "rw":
			counts["rw"]++
			b.readOnly = o == "ro"
		case o == "z" || o == "Z":
			counts["label"]++
		case o == "nocopy":
			counts["copy"]++
			b.noCopy = true
		case propagations[o]:
			counts["propagation"]++
			b.propagation = mount.Propagation(o)
		case o == "consistent" || o == "cached" || o == "delegated":
			counts["consistency"]++
		default:
			return b, invalidMode(mode)
		}
	}
	for _, n := range counts {
		if n > 1 {
			return b, invalidMode(mode)
		}
	}
	return b, nil
}

func invalidMode(mode string) error {
	return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid mode: %v", mode))
}

// ValidateMount checks a mount as docker's validateMountConfig does,
// without looking at the host; its errors read "invalid mount config for
// type "bind": ...".
func ValidateMount(m mount.Mount) error {
	bad := func(err error) error {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid mount config for type %q: %v", m.Type, err))
	}
	extra := func(field string) error { return bad(fmt.Errorf("field %s must not be specified", field)) }
	switch {
	case m.Target == "":
		return bad(errors.New("field Target must not be empty"))
	case path.Clean(m.Target) == "/":
		return bad(errors.New("invalid specification: destination can't be '/'"))
	case !path.IsAbs(m.Target):
		return bad(fmt.Errorf("invalid mount path: '%s' mount path must be absolute", m.Target))
	}
	switch m.Type {
	case mount.TypeBind:
		switch {
		case m.Source == "":
			return bad(errors.New("field Source must not be empty"))
		case !path.IsAbs(m.Source):
			return bad(fmt.Errorf("invalid mount path: '%s' mount path must be absolute", m.Source))
		case m.VolumeOptions != nil:
			return extra("VolumeOptions")
		case m.TmpfsOptions != nil:
			return extra("TmpfsOptions")
		case m.ImageOptions != nil:
			return extra("ImageOptions")
		}
		if o := m.BindOptions; o != nil {
			if o.Propagation != "" && !propagations[string(o.Propagation)] {
				return bad(fmt.Errorf("invalid propagation mode: %s", o.Propagation))
			}
			if o.ReadOnlyNonRecursive && o.ReadOnlyForceRecursive {
				return bad(errors.New("ReadOnlyNonRecursive and ReadOnlyForceRecursive cannot both be set"))
			}
		}
	case mount.TypeVolume:
		switch {
		case m.BindOptions != nil:
			return extra("BindOptions")
		case m.TmpfsOptions != nil:
			return extra("TmpfsOptions")
		case m.ImageOptions != nil:
			return extra("ImageOptions")
		case m.Source == "" && m.ReadOnly:
			return bad(errors.New("must not set ReadOnly mode when using anonymous volumes"))
		}
		if o := m.VolumeOptions; o != nil && o.Subpath != "" {
			if m.Source == "" {
				return bad(errors.New("must not set Subpath when using anonymous volumes"))
			}
			if !filepath.IsLocal(o.Subpath) {
				return bad(errors.New("subpath must be a relative path within the volume"))
			}
		}
		if o := m.VolumeOptions; o != nil && o.DriverConfig != nil && o.DriverConfig.Name != "" && o.DriverConfig.Name != "local" {
			return errdefs.ErrNotImplemented.WithMessage(fmt.Sprintf("volume driver %q is not supported: rrun has only the local driver", o.DriverConfig.Name))
		}
	case mount.TypeTmpfs:
		switch {
		case m.Source != "":
			return extra("Source")
		case m.BindOptions != nil:
			return extra("BindOptions")
		case m.VolumeOptions != nil:
			return extra("VolumeOptions")
		case m.ImageOptions != nil:
			return extra("ImageOptions")
		}
		if _, err := tmpfsMountData(m); err != nil {
			return bad(err)
		}
	case "":
		return bad(errors.New("mount type unknown"))
	default:
		return errdefs.ErrNotImplemented.WithMessage(fmt.Sprintf("mount type %q is not supported: use bind, volume or tmpfs", m.Type))
	}
	return nil
}

// checkBindSource applies docker's host-side check to a bind mount: the
// source must exist unless BindOptions.CreateMountpoint (set for -v) asks
// to create it as a directory.
func checkBindSource(m mount.Mount) error {
	_, err := os.Stat(m.Source)
	if err == nil {
		return nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("bind source %s: %w", m.Source, err)
	}
	if m.BindOptions == nil || !m.BindOptions.CreateMountpoint {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid mount config for type %q: bind source path does not exist: %s", m.Type, m.Source))
	}
	if err := os.MkdirAll(m.Source, 0o755); err != nil {
		return fmt.Errorf("creating bind source %s: %w", m.Source, err)
	}
	return nil
}
