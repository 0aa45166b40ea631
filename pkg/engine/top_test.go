package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/rrun/rrun/pkg/procfs"
)

func TestValidatePSArgs(t *testing.T) {
	for _, tc := range []struct {
		args, err string
	}{
		{"-o user= PID", `specifying "user=PID" is not allowed`},
		{"-ef", ""},
		{"-o pid= PID,cmd", ""},
		{"aux", ""},
	} {
		err := validatePSArgs(tc.args)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || err.Error() != tc.err) {
			t.Errorf("%q: %v, want %q", tc.args, err, tc.err)
		}
	}
}

func TestParsePSOutput(t *testing.T) {
	if _, err := parsePSOutput([]byte("UID CMD\nroot sh\n"), []int{1}); err == nil {
		t.Error("output without a PID column accepted")
	}
	if _, err := parsePSOutput([]byte("PID CMD\nx sh\n"), []int{1}); err == nil {
		t.Error("a non-numeric pid accepted")
	}
	out := "UID          PID    PPID  C STIME TTY          TIME CMD\n" +
		"root          10       1  0 10:00 ?        00:00:00 sh -c sleep 100\n" +
		"root          11      10  0 10:00 ?        00:00:00 sleep  100\n" +
		"-              -       -  0 10:00 -        00:00:00 -\n" +
		"user          12       1  0 10:00 ?        00:00:00 bash\n" +
		"-              -       -  0 10:00 -        00:00:00 -\n"
	top, err := parsePSOutput([]byte(out), []int{10, 11})
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Titles) != 8 || top.Titles[1] != "PID" {
		t.Fatalf("titles %q", top.Titles)
	}
	want := [][]string{
		{"root", "10", "1", "0", "10:00", "?", "00:00:00", "sh -c sleep 100"},
		{"root", "11", "10", "0", "10:00", "?", "00:00:00", "sleep 100"},
		{"-", "-", "-", "0", "10:00", "-", "00:00:00", "-"}, // sleep's thread
	}
	if fmt.Sprint(top.Processes) != fmt.Sprint(want) {
		t.Errorf("processes:\n%q\nwant\n%q", top.Processes, want)
	}
	if got := pidsArg([]int{1, 22}); got != "-q1,22" {
		t.Errorf("pidsArg %q", got)
	}
}

// fakeProc builds a /proc with the given processes: pid → parent, pid
// namespace; "self" is in namespace "host".
func fakeProc(t *testing.T, procs map[int][2]any) string {
	t.Helper()
	root := t.TempDir()
	write := func(dir string, ppid int, ns string) {
		if err := os.MkdirAll(filepath.Join(dir, "ns"), 0o755); err != nil {
			t.Fatal(err)
		}
		stat := fmt.Sprintf("1 (a (b) c) S %d 1 1 0 -1 4194560 100 0 0 0 250 50 30 20 20 0 3 0 12345 0 0", ppid)
		if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("pid:["+ns+"]", filepath.Join(dir, "ns", "pid")); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "self"), 0, "host")
	for pid, p := range procs {
		write(filepath.Join(root, strconv.Itoa(pid)), p[0].(int), p[1].(string))
	}
	return root
}

func TestContainerPIDs(t *testing.T) {
	// 100 is the container's init in its own namespace, 101 its child,
	// 102 its grandchild, 150 an exec'd process whose parent (140) is
	// outside, 200 an unrelated process.
	proc := fakeProc(t, map[int][2]any{
		1: {0, "host"}, 90: {1, "host"}, 100: {90, "c1"}, 101: {100, "c1"}, 102: {101, "c1"},
		140: {1, "host"}, 150: {140, "c1"}, 200: {1, "host"},
	})
	got, err := containerPIDs(proc, 100)
	if err != nil || !slices.Equal(got, []int{100, 101, 102, 150}) {
		t.Fatalf("own namespace: %v %v", got, err)
	}
	// With the host's pid namespace (--pid host), only descendants.
	proc = fakeProc(t, map[int][2]any{1: {0, "host"}, 100: {1, "host"}, 101: {100, "host"}, 200: {1, "host"}})
	got, err = containerPIDs(proc, 100)
	if err != nil || !slices.Equal(got, []int{100, 101}) {
		t.Fatalf("host namespace: %v %v", got, err)
	}
	if _, err := containerPIDs(proc, 300); err == nil {
		t.Fatal("a missing init is not an error")
	}
	st, err := procfs.ReadStat(proc, 100)
	if err != nil || st.PPid != 1 || st.UTime != 250 || st.STime != 50 || st.CUTime != 30 || st.CSTime != 20 || st.Threads != 3 {
		t.Fatalf("readProcStat: %+v %v", st, err)
	}
}
