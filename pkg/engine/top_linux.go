package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// procRoot is where the kernel shows processes; tests point it at a
// fixture.
var procRoot = "/proc"

// procStat is the part of /proc/PID/stat rrun reads.
type procStat struct {
	ppid int
	// utime, stime and their waited-for children's (cutime, cstime), in
	// clock ticks (USER_HZ).
	utime, stime, cutime, cstime uint64
	threads                      uint64
}

// readProcStat parses /proc/PID/stat; the command name, in parentheses,
// may hold spaces and parentheses itself.
func readProcStat(proc string, pid int) (procStat, error) {
	data, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 18 {
		return procStat{}, fmt.Errorf("%s/%d/stat: unexpected format", proc, pid)
	}
	var st procStat
	st.ppid, err = strconv.Atoi(f[1])
	for i, to := range map[int]*uint64{11: &st.utime, 12: &st.stime, 13: &st.cutime, 14: &st.cstime, 17: &st.threads} {
		if err == nil {
			*to, err = strconv.ParseUint(f[i], 10, 64)
		}
	}
	return st, err
}

// containerPIDs lists the container's processes, sorted: its init, the
// init's descendants and, when the init has a pid namespace of its own,
// every process in that namespace (those rrun exec starts, whose parent is
// outside). Processes that end meanwhile are left out.
func containerPIDs(proc string, init int) ([]int, error) {
	entries, err := os.ReadDir(proc)
	if err != nil {
		return nil, fmt.Errorf("listing processes: %w", err)
	}
	initNS, _ := os.Readlink(filepath.Join(proc, strconv.Itoa(init), "ns", "pid"))
	ownNS, _ := os.Readlink(filepath.Join(proc, "self", "ns", "pid"))
	separateNS := initNS != "" && initNS != ownNS
	children := map[int][]int{}
	in := map[int]bool{}
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		st, err := readProcStat(proc, pid)
		if err != nil {
			continue // gone
		}
		children[st.ppid] = append(children[st.ppid], pid)
		if pid == init {
			in[pid] = true
		}
		if separateNS && pid != init {
			if ns, _ := os.Readlink(filepath.Join(proc, ent.Name(), "ns", "pid")); ns == initNS {
				in[pid] = true
			}
		}
	}
	if !in[init] {
		return nil, fmt.Errorf("the container's process %d is gone", init)
	}
	seen := map[int]bool{init: true}
	for queue := []int{init}; len(queue) > 0; queue = queue[1:] {
		for _, child := range children[queue[0]] {
			if !seen[child] {
				seen[child], in[child] = true, true
				queue = append(queue, child)
			}
		}
	}
	pids := make([]int, 0, len(in))
	for pid := range in {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	return pids, nil
}
