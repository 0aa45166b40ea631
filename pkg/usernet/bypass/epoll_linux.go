package bypass

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// inEpoll says whether the socket at fd in task pid (sock is our duplicate
// of it) is already in one of the task's epoll sets. Such a socket must not
// be swapped: epoll would keep watching the old one and the app would wait
// forever. /proc/PID/fdinfo of an epoll fd lists its targets as
// "tfd: N … ino:HEX", which tells exactly that.
func inEpoll(pid, fd, sock int) bool {
	var st unix.Stat_t
	if err := unix.Fstat(sock, &st); err != nil {
		return true // cannot tell: do not risk it
	}
	dir := "/proc/" + strconv.Itoa(pid)
	entries, err := os.ReadDir(filepath.Join(dir, "fd"))
	if err != nil {
		return true
	}
	// Lines read "tfd:        5 events:       4 data: … ino:1f2e sdev:8".
	tfd := strconv.Itoa(fd)
	ino := "ino:" + strconv.FormatUint(st.Ino, 16)
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join(dir, "fd", e.Name()))
		if err != nil || target != "anon_inode:[eventpoll]" {
			continue
		}
		info, err := os.Open(filepath.Join(dir, "fdinfo", e.Name()))
		if err != nil {
			return true
		}
		found := false
		sc := bufio.NewScanner(info)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) > 1 && f[0] == "tfd:" && f[1] == tfd && slices.Contains(f, ino) {
				found = true
				break
			}
		}
		info.Close()
		if found {
			return true
		}
	}
	return false
}
