package storage

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/containerd/errdefs"
)

// Platform is an image's os/architecture/variant.
type Platform struct {
	OS, Architecture, Variant string
}

// ParsePlatform reads docker's --platform value: os[/arch[/variant]].
func ParsePlatform(s string) (Platform, error) {
	parts := strings.Split(strings.ToLower(s), "/")
	if len(parts) > 3 || parts[0] == "" || len(parts) > 1 && parts[1] == "" {
		return Platform{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid platform %q: want os[/arch[/variant]], for example linux/amd64", s))
	}
	p := Platform{OS: parts[0], Architecture: runtime.GOARCH}
	if len(parts) > 1 {
		p.Architecture = normalizeArch(parts[1])
	}
	if len(parts) > 2 {
		p.Variant = parts[2]
	}
	return p, nil
}

func normalizeArch(arch string) string {
	switch arch {
	case "x86_64", "x86-64":
		return "amd64"
	case "aarch64":
		return "arm64"
	}
	return arch
}

func (p Platform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}
