package rootless

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rrun/rrun/pkg/procfs"
)

func TestUserNSDisabledReason(t *testing.T) {
	tests := []struct {
		sysctls map[string]string
		want    string
	}{
		{map[string]string{"kernel.unprivileged_userns_clone": "0"}, "kernel.unprivileged_userns_clone=1"},
		{map[string]string{"user.max_user_namespaces": "0"}, "user.max_user_namespaces="},
		{map[string]string{"kernel.apparmor_restrict_unprivileged_userns": "1"}, "AppArmor"},
		{map[string]string{"kernel.unprivileged_userns_clone": "1", "user.max_user_namespaces": "100"}, ""},
	}
	for _, tt := range tests {
		got := userNSDisabledReason(func(name string) string { return tt.sysctls[name] })
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("sysctls %v: reason %q, want it to mention %q", tt.sysctls, got, tt.want)
		}
	}
}

func TestSubIDErrorShowsTheLineToAdd(t *testing.T) {
	err := subIDError(fmt.Errorf("no range: %w", ErrNoSubIDs), "/etc/subuid", "alice")
	if !errors.Is(err, ErrNoSubIDs) || !strings.Contains(err.Error(), "alice:100000:65536") {
		t.Fatalf("error %q should wrap ErrNoSubIDs and show the line to add", err)
	}
}

func TestReadPauseFileRejectsStaleRecords(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pause.pid")
	st, err := procfs.ReadStat("/proc", os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	start := st.StartTime
	for _, tc := range []struct {
		record string
		ok     bool
	}{
		{"garbage", false},
		{fmt.Sprintf("%d %d\n", os.Getpid(), start+1), false}, // pid recycled
		{fmt.Sprintf("%d %d\n", os.Getpid(), start), true},
	} {
		if err := os.WriteFile(path, []byte(tc.record), 0o600); err != nil {
			t.Fatal(err)
		}
		pid, ok := readPauseFile(path)
		if ok != tc.ok || ok && pid != os.Getpid() {
			t.Errorf("record %q: got (%d, %v), want ok=%v", tc.record, pid, ok, tc.ok)
		}
	}
}
