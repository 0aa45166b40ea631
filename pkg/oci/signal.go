package oci

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// signals are docker's Linux signal names (moby/sys/signal SignalMap),
// without the SIG prefix.
var signals = map[string]syscall.Signal{
	"ABRT": unix.SIGABRT, "ALRM": unix.SIGALRM, "BUS": unix.SIGBUS, "CHLD": unix.SIGCHLD,
	"CLD": unix.SIGCLD, "CONT": unix.SIGCONT, "FPE": unix.SIGFPE, "HUP": unix.SIGHUP,
	"ILL": unix.SIGILL, "INT": unix.SIGINT, "IO": unix.SIGIO, "IOT": unix.SIGIOT,
	"KILL": unix.SIGKILL, "PIPE": unix.SIGPIPE, "POLL": unix.SIGPOLL, "PROF": unix.SIGPROF,
	"PWR": unix.SIGPWR, "QUIT": unix.SIGQUIT, "SEGV": unix.SIGSEGV, "STKFLT": unix.SIGSTKFLT,
	"STOP": unix.SIGSTOP, "SYS": unix.SIGSYS, "TERM": unix.SIGTERM, "TRAP": unix.SIGTRAP,
	"TSTP": unix.SIGTSTP, "TTIN": unix.SIGTTIN, "TTOU": unix.SIGTTOU, "URG": unix.SIGURG,
	"USR1": unix.SIGUSR1, "USR2": unix.SIGUSR2, "VTALRM": unix.SIGVTALRM, "WINCH": unix.SIGWINCH,
	"XCPU": unix.SIGXCPU, "XFSZ": unix.SIGXFSZ,
}

// The real-time signals as the kernel numbers them (glibc reserves the
// first two, which is why its SIGRTMIN is 34).
const (
	sigRTMin = 34
	sigRTMax = 64
)

// ParseSignal parses a signal as docker does (--signal, --stop-signal,
// STOPSIGNAL): a name with or without "SIG", in any case ("SIGTERM",
// "term"), "RTMIN+n"/"RTMAX-n", or a number from 1 to 64.
func ParseSignal(s string) (syscall.Signal, error) {
	invalid := errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid signal: %s", s))
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > sigRTMax {
			return 0, invalid
		}
		return syscall.Signal(n), nil
	}
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	if sig, ok := signals[name]; ok {
		return sig, nil
	}
	for _, rt := range []struct {
		prefix string
		base   int
		sign   int
	}{{"RTMIN", sigRTMin, 1}, {"RTMAX", sigRTMax, -1}} {
		rest, ok := strings.CutPrefix(name, rt.prefix)
		if !ok {
			continue
		}
		if rest == "" {
			return syscall.Signal(rt.base), nil
		}
		want := "+"
		if rt.sign < 0 {
			want = "-"
		}
		if !strings.HasPrefix(rest, want) {
			return 0, invalid
		}
		n, err := strconv.Atoi(rest[1:])
		if err != nil || n < 1 || n > sigRTMax-sigRTMin-1 {
			return 0, invalid
		}
		return syscall.Signal(rt.base + rt.sign*n), nil
	}
	return 0, invalid
}
