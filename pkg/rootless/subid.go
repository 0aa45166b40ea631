package rootless

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// IDRange is one line of /etc/subuid or /etc/subgid: Count ids from Start.
type IDRange struct {
	Start, Count uint32
}

// ErrNoSubIDs means /etc/subuid or /etc/subgid has no range for the user.
var ErrNoSubIDs = errors.New("no subordinate id range")

// subIDRanges reads the ranges that file grants to the user, who may be
// named there by login name or by numeric id, as shadow-utils allows.
func subIDRanges(file, user string, id int) ([]IDRange, error) {
	f, err := os.Open(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s does not exist: %w", file, ErrNoSubIDs)
		}
		return nil, err
	}
	defer f.Close()
	ranges, err := parseSubIDs(f, user, id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(ranges) == 0 {
		return nil, fmt.Errorf("%s has no range for user %q: %w", file, user, ErrNoSubIDs)
	}
	return ranges, nil
}

func parseSubIDs(r io.Reader, user string, id int) ([]IDRange, error) {
	var ranges []IDRange
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, ":")
		if len(fields) != 3 {
			return nil, fmt.Errorf("line %d: want name:start:count, got %q", n, line)
		}
		if fields[0] != user && fields[0] != strconv.Itoa(id) {
			continue
		}
		start, err1 := strconv.ParseUint(fields[1], 10, 32)
		count, err2 := strconv.ParseUint(fields[2], 10, 32)
		if err1 != nil || err2 != nil || count == 0 {
			return nil, fmt.Errorf("line %d: bad range %q", n, line)
		}
		ranges = append(ranges, IDRange{Start: uint32(start), Count: uint32(count)})
	}
	return ranges, sc.Err()
}

// mapArgs gives newuidmap/newgidmap's arguments after the pid: the user's
// own id becomes 0 in the namespace and the subordinate ranges follow it
// from 1 on, which is the layout podman and rootless docker use.
func mapArgs(hostID int, ranges []IDRange) []string {
	args := []string{"0", strconv.Itoa(hostID), "1"}
	next := uint64(1)
	for _, r := range ranges {
		args = append(args, strconv.FormatUint(next, 10), strconv.FormatUint(uint64(r.Start), 10), strconv.FormatUint(uint64(r.Count), 10))
		next += uint64(r.Count)
	}
	return args
}
