package engine

import (
	"os"
	"strings"
	"sync"

	"github.com/rrun/rrun/pkg/procfs"
)

// bootID names this boot; a process recorded under another boot is gone.
var bootID = sync.OnceValue(func() string {
	data, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
})

// processStart is the process's start time (clock ticks since boot) and
// whether it is a zombie.
func processStart(pid int) (start uint64, zombie bool, err error) {
	st, err := procfs.ReadStat("/proc", pid)
	return st.StartTime, st.Zombie(), err
}

// processAlive reports whether the recorded process still runs: same boot,
// same pid, same start time, not a zombie.
func processAlive(pid int, start uint64, boot string) bool {
	if pid <= 0 || boot != bootID() {
		return false
	}
	now, zombie, err := processStart(pid)
	return err == nil && !zombie && now == start
}
