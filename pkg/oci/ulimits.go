package oci

import (
	"fmt"
	"math"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/runtime-tools/generate"
	"golang.org/x/sys/unix"
)

// ulimitResources are the --ulimit names docker accepts (go-units'
// ParseUlimit) and the resources they limit.
var ulimitResources = map[string]int{
	"core":       unix.RLIMIT_CORE,
	"cpu":        unix.RLIMIT_CPU,
	"data":       unix.RLIMIT_DATA,
	"fsize":      unix.RLIMIT_FSIZE,
	"locks":      unix.RLIMIT_LOCKS,
	"memlock":    unix.RLIMIT_MEMLOCK,
	"msgqueue":   unix.RLIMIT_MSGQUEUE,
	"nice":       unix.RLIMIT_NICE,
	"nofile":     unix.RLIMIT_NOFILE,
	"nproc":      unix.RLIMIT_NPROC,
	"rss":        unix.RLIMIT_RSS,
	"rtprio":     unix.RLIMIT_RTPRIO,
	"rttime":     unix.RLIMIT_RTTIME,
	"sigpending": unix.RLIMIT_SIGPENDING,
	"stack":      unix.RLIMIT_STACK,
}

// getrlimit is rrun's own limit, which the container inherits; a variable
// for tests.
var getrlimit = unix.Getrlimit

// WithRlimits sets HostConfig.Ulimits as process rlimits (docker's
// WithRlimits); others are inherited from rrun. -1 means unlimited.
//
// Raising a hard limit needs CAP_SYS_RESOURCE in the host's user
// namespace, which rootless never has: a hard limit above rrun's own is
// refused here with the reason, rather than by runc when it starts.
func WithRlimits(g *generate.Generator, in *SpecInput) error {
	for _, ul := range in.HostConfig.Ulimits {
		if ul == nil {
			continue
		}
		res, ok := ulimitResources[ul.Name]
		if !ok {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid ulimit type: %s", ul.Name))
		}
		soft, hard := rlimitValue(ul.Soft), rlimitValue(ul.Hard)
		if soft > hard {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("ulimit soft limit must be less than or equal to hard limit: %d > %d", ul.Soft, ul.Hard))
		}
		var own unix.Rlimit
		if err := getrlimit(res, &own); err == nil && hard > own.Max {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(
				"ulimit %s: hard limit %s is above the user's own (%s), which a rootless container cannot raise: lower it, or raise the user's limit (/etc/security/limits.conf, or LimitNOFILE= and the like for a systemd unit)",
				ul.Name, rlimitString(hard), rlimitString(own.Max)))
		}
		g.AddProcessRlimits("RLIMIT_"+strings.ToUpper(ul.Name), hard, soft)
	}
	return nil
}

// rlimitValue: docker passes the int64 through, so -1 is RLIM_INFINITY.
func rlimitValue(v int64) uint64 {
	if v < 0 {
		return math.MaxUint64
	}
	return uint64(v)
}

func rlimitString(v uint64) string {
	if v == math.MaxUint64 {
		return "unlimited"
	}
	return fmt.Sprint(v)
}
