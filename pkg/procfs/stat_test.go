package procfs

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadStat(t *testing.T) {
	dir := t.TempDir()
	write := func(pid, content string) {
		if err := os.MkdirAll(filepath.Join(dir, pid), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, pid, "stat"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("7", "7 (a) b) (c) Z 1 7 7 0 -1 4194560 0 0 0 0 11 22 33 44 20 0 3 0 555 0 0")
	write("8", "8 (short) S 1")
	st, err := ReadStat(dir, 7)
	if err != nil {
		t.Fatal(err)
	}
	want := Stat{State: 'Z', PPid: 1, UTime: 11, STime: 22, CUTime: 33, CSTime: 44, Threads: 3, StartTime: 555}
	if st != want || !st.Zombie() {
		t.Fatalf("got %+v, want %+v", st, want)
	}
	if _, err := ReadStat(dir, 8); err == nil {
		t.Fatal("a truncated stat line was accepted")
	}
	if _, err := ReadStat(dir, 9); err == nil {
		t.Fatal("a missing process was accepted")
	}
	self, err := ReadStat("/proc", os.Getpid())
	if err != nil || self.StartTime == 0 || self.Zombie() {
		t.Fatalf("own stat: %+v %v", self, err)
	}
}
