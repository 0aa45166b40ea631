package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
)

// Top lists the container's processes as docker top does: the host's ps
// run with psArgs (default -ef), keeping the header and the lines whose
// PID is one of the container's processes.
func (e *Engine) Top(ctx context.Context, ref string, psArgs string) (*container.TopResponse, error) {
	if psArgs == "" {
		psArgs = "-ef"
	}
	if err := validatePSArgs(psArgs); err != nil {
		return nil, err
	}
	c, err := e.lookupContainer(ref)
	if err != nil {
		return nil, err
	}
	st, err := e.currentState(c.ID)
	if err != nil {
		return nil, err
	}
	if !isRunning(st) || !processAlive(st.Pid, st.PidStart, st.BootID) {
		return nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf("container %s is not running", c.ID))
	}
	pids, err := containerPIDs(procRoot, st.Pid)
	if err != nil {
		return nil, err
	}
	args := strings.Split(psArgs, " ")
	// As dockerd: ask ps for the container's pids only, and without -q
	// when the options refuse it (ps f).
	out, err := exec.CommandContext(ctx, "ps", append(args, pidsArg(pids))...).Output()
	if err != nil {
		if out, err = exec.CommandContext(ctx, "ps", args...).Output(); err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				if line, _, _ := bytes.Cut(ee.Stderr, []byte("\n")); len(line) > 0 {
					err = errors.New(string(line))
				}
			}
			return nil, fmt.Errorf("ps: %w", err)
		}
	}
	top, err := parsePSOutput(out, pids)
	if err != nil {
		return nil, err
	}
	e.emit(containerEvent(events.ActionTop, c))
	return top, nil
}

// psPIDAssignment finds "-o x=PID" style options; only pid may be renamed
// to PID, or the PID column could not be found.
var psPIDAssignment = regexp.MustCompile(`\s+([^\s]*)=\s*(PID[^\s]*)`)

// validatePSArgs refuses options that would rename another column to PID,
// with dockerd's message.
func validatePSArgs(psArgs string) error {
	for _, group := range psPIDAssignment.FindAllStringSubmatch(psArgs, -1) {
		if len(group) >= 3 && group[1] != "pid" {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("specifying \"%s=%s\" is not allowed", group[1], group[2]))
		}
	}
	return nil
}

// pidsArg is ps's "-q PID,PID…" for the given processes.
func pidsArg(pids []int) string {
	s := make([]string, len(pids))
	for i, p := range pids {
		s[i] = strconv.Itoa(p)
	}
	return "-q" + strings.Join(s, ",")
}

// parsePSOutput keeps ps's titles and the lines of the given processes.
// Thread lines (PID "-", from ps -m) follow their process. The last
// column takes the rest of a line, as a command has spaces.
func parsePSOutput(output []byte, pids []int) (*container.TopResponse, error) {
	top := &container.TopResponse{Titles: []string{}, Processes: [][]string{}}
	lines := strings.Split(string(output), "\n")
	top.Titles = fieldsASCII(lines[0])
	pidIndex := slices.Index(top.Titles, "PID")
	if pidIndex < 0 {
		return nil, errors.New("Couldn't find PID field in ps output") //nolint:staticcheck // dockerd's wording
	}
	keep := false
	for _, line := range lines[1:] {
		fields := fieldsASCII(line)
		if len(fields) <= pidIndex {
			continue
		}
		if fields[pidIndex] == "-" {
			if keep {
				top.Processes = append(top.Processes, fitColumns(fields, len(top.Titles)))
			}
			continue
		}
		p, err := strconv.Atoi(fields[pidIndex])
		if err != nil {
			return nil, fmt.Errorf("Unexpected pid '%s': %w", fields[pidIndex], err) //nolint:staticcheck // dockerd's wording
		}
		keep = slices.Contains(pids, p)
		if keep {
			top.Processes = append(top.Processes, fitColumns(fields, len(top.Titles)))
		}
	}
	return top, nil
}

// fitColumns merges the fields beyond the titles into the last column.
func fitColumns(fields []string, n int) []string {
	if len(fields) <= n {
		return fields
	}
	return append(fields[:n-1:n-1], strings.Join(fields[n-1:], " "))
}

// fieldsASCII splits on ASCII white space only, as a command line may
// hold other (Unicode) spaces.
func fieldsASCII(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		switch r {
		case '\t', '\n', '\f', '\r', ' ':
			return true
		}
		return false
	})
}
