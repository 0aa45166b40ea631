// Package procfs reads the few /proc files rrun needs about processes:
// one parser of /proc/PID/stat for the namespace holder's liveness, the
// monitors' pid records, top and stats.
package procfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Stat is the part of /proc/PID/stat rrun reads.
type Stat struct {
	State byte // R, S, Z, X…
	PPid  int
	// UTime, STime and their waited-for children's (CUTime, CSTime), in
	// clock ticks (USER_HZ).
	UTime, STime, CUTime, CSTime uint64
	Threads                      uint64
	StartTime                    uint64 // clock ticks since boot
}

// Zombie reports a process that has exited but is not reaped.
func (s Stat) Zombie() bool { return s.State == 'Z' || s.State == 'X' }

// ReadStat parses proc/PID/stat (proc is "/proc" but for tests). The
// command name, in parentheses, may hold spaces and parentheses itself:
// fields are counted from its end.
func ReadStat(proc string, pid int) (Stat, error) {
	path := filepath.Join(proc, strconv.Itoa(pid), "stat")
	data, err := os.ReadFile(path)
	if err != nil {
		return Stat{}, err
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 20 || len(f[0]) != 1 {
		return Stat{}, fmt.Errorf("%s: unexpected format", path)
	}
	st := Stat{State: f[0][0]}
	st.PPid, err = strconv.Atoi(f[1])
	for i, to := range map[int]*uint64{11: &st.UTime, 12: &st.STime, 13: &st.CUTime, 14: &st.CSTime, 17: &st.Threads, 19: &st.StartTime} {
		if err == nil {
			*to, err = strconv.ParseUint(f[i], 10, 64)
		}
	}
	if err != nil {
		return Stat{}, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}
