package engine

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// bootID names this boot; a process recorded under another boot is gone.
var bootID = sync.OnceValue(func() string {
	data, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
})

// processStart is field 22 of /proc/PID/stat (start time in clock ticks),
// and whether the process is a zombie.
func processStart(pid int) (start uint64, zombie bool, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false, err
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 20 {
		return 0, false, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	start, err = strconv.ParseUint(fields[19], 10, 64)
	return start, fields[0] == "Z" || fields[0] == "X", err
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
