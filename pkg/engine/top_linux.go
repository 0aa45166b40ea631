package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/rrun/rrun/pkg/procfs"
)

// procRoot is where the kernel shows processes; tests point it at a
// fixture.
var procRoot = "/proc"

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
		st, err := procfs.ReadStat(proc, pid)
		if err != nil {
			continue // gone
		}
		children[st.PPid] = append(children[st.PPid], pid)
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
