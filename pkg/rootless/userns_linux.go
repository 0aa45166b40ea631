package rootless

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rrun/rrun/pkg/atomicfile"
	"github.com/rrun/rrun/pkg/procfs"
)

// Environment that carries the namespace across re-executions. The
// _CONTAINERS_* names are the ones containers/storage and containers/image
// read to pick per-user paths while the process is uid 0 in the namespace.
const (
	envJoinPID    = "_RRUN_JOIN_PID"       // read by the cgo constructor, then unset
	envInside     = "_RRUN_USERNS_PID"     // set in every process inside the namespace
	envInsideRoot = "_RRUN_USERNS_RUNROOT" // the run root whose holder that is
	envPauseStage = "_RRUN_PAUSE_STAGE"
	envHostUID    = "_CONTAINERS_ROOTLESS_UID"
	envHostGID    = "_CONTAINERS_ROOTLESS_GID"
	envConfigured = "_CONTAINERS_USERNS_CONFIGURED"
)

// ErrRoot is returned by Enter for the real root user.
var ErrRoot = errors.New("rrun runs containers rootless and does not support running as root: run it as an ordinary user (one with /etc/subuid and /etc/subgid ranges)")

// Inside reports whether this process runs in rrun's user namespace.
func Inside() bool { return os.Getenv(envInside) != "" }

// HostUID is the user's uid on the host, also from inside the namespace
// where os.Getuid reports 0.
func HostUID() int { return hostID(envHostUID, os.Getuid) }

// HostGID is the user's primary gid on the host.
func HostGID() int { return hostID(envHostGID, os.Getgid) }

func hostID(env string, own func() int) int {
	if Inside() {
		if id, err := strconv.Atoi(os.Getenv(env)); err == nil {
			return id
		}
	}
	return own()
}

// Enter makes the rest of the command run inside the user's namespaces,
// whose holder process is recorded in runDir. Outside them it starts the
// holder if needed and re-executes the command there, so it returns only
// on error; inside them it returns nil at once.
func Enter(runDir string) error {
	if Inside() {
		// The cgo constructor may have joined on its own reading of the
		// flags; it must agree with the Go code's.
		if r := os.Getenv(envInsideRoot); r != "" && filepath.Clean(r) != filepath.Clean(runDir) {
			return fmt.Errorf("this process is in the namespace of run root %s, not %s: run rrun with a different --runroot outside `rrun unshare`", r, runDir)
		}
		return nil
	}
	if joined, err := joinedByConstructor(runDir); err != nil || joined {
		return err
	}
	if os.Geteuid() == 0 {
		return ErrRoot
	}
	pid, err := ensurePause(runDir)
	if err != nil {
		return err
	}
	env := append(os.Environ(),
		envJoinPID+"="+strconv.Itoa(pid),
		envInside+"="+strconv.Itoa(pid),
		envInsideRoot+"="+runDir,
		envHostUID+"="+strconv.Itoa(os.Getuid()),
		envHostGID+"="+strconv.Itoa(os.Getgid()),
		envConfigured+"=done",
	)
	if err := syscall.Exec("/proc/self/exe", os.Args, env); err != nil {
		return fmt.Errorf("re-executing rrun inside the user namespace: %w", err)
	}
	return nil // not reached
}

// joinedByConstructor recognises a process that join_linux.go's
// constructor already moved into runDir's namespaces, and gives it the
// environment the re-execution would have (host ids, markers).
func joinedByConstructor(runDir string) (bool, error) {
	uidMap, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false, nil
	}
	var inside, hostUID, size int
	if n, _ := fmt.Sscanf(string(uidMap), "%d %d %d", &inside, &hostUID, &size); n != 3 || inside == 0 && hostUID == 0 {
		return false, nil // the initial user namespace
	}
	pid := PausePID(runDir)
	self, _ := os.Readlink("/proc/self/ns/user")
	if theirs, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", pid)); pid == 0 || err != nil || theirs != self {
		return false, fmt.Errorf("rrun is running in a user namespace other than the one of run root %s (inside `rrun unshare` or another container tool?): run it from the host", runDir)
	}
	hostGID := os.Getgid()
	if gidMap, err := os.ReadFile("/proc/self/gid_map"); err == nil {
		var a, g int
		if n, _ := fmt.Sscanf(string(gidMap), "%d %d", &a, &g); n == 2 {
			hostGID = g
		}
	}
	for k, v := range map[string]string{
		envInside: strconv.Itoa(pid), envInsideRoot: runDir,
		envHostUID: strconv.Itoa(hostUID), envHostGID: strconv.Itoa(hostGID), envConfigured: "done",
	} {
		os.Setenv(k, v)
	}
	return true, nil
}

// PausePID returns the pid of the namespace holder recorded in runDir, or
// 0 when there is none or it is gone (stale).
func PausePID(runDir string) int {
	pid, ok := readPauseFile(filepath.Join(runDir, "pause.pid"))
	if !ok {
		return 0
	}
	return pid
}

// ensurePause returns the live holder's pid, starting one when the record
// is missing or stale. A lock keeps two commands from starting two.
func ensurePause(runDir string) (int, error) {
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return 0, fmt.Errorf("creating run directory: %w", err)
	}
	pidFile := filepath.Join(runDir, "pause.pid")
	if pid, ok := readPauseFile(pidFile); ok {
		return pid, nil
	}
	lock, err := os.OpenFile(filepath.Join(runDir, "pause.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return 0, fmt.Errorf("opening namespace lock: %w", err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return 0, fmt.Errorf("locking %s: %w", lock.Name(), err)
	}
	if pid, ok := readPauseFile(pidFile); ok { // another command won the race
		return pid, nil
	}
	pid, err := startPause()
	if err != nil {
		return 0, err
	}
	st, err := procfs.ReadStat("/proc", pid)
	if err != nil {
		return 0, err
	}
	record := fmt.Sprintf("%d %d\n", pid, st.StartTime)
	if err := atomicfile.WriteFile(pidFile, []byte(record), 0o600); err != nil {
		return 0, fmt.Errorf("recording namespace holder: %w", err)
	}
	return pid, nil
}

// readPauseFile accepts a record only if its process still runs with the
// recorded start time, so a recycled pid or a dead holder (a zombie keeps
// its pid until reaped, and its namespaces are gone) is never joined.
func readPauseFile(path string) (int, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	var pid int
	var start uint64
	if _, err := fmt.Sscanf(string(data), "%d %d", &pid, &start); err != nil || pid <= 0 {
		return 0, false
	}
	st, err := procfs.ReadStat("/proc", pid)
	if err != nil || st.StartTime != start || st.Zombie() {
		return 0, false
	}
	return pid, true
}

// startPause creates the namespaces: it starts rrun itself in a new user
// and mount namespace, has newuidmap/newgidmap write the maps, and waits
// for the child to report that it holds them.
func startPause() (int, error) {
	uid, gid := os.Getuid(), os.Getgid()
	name := strconv.Itoa(uid)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	uidRanges, err := subIDRanges("/etc/subuid", name, uid)
	if err != nil {
		return 0, subIDError(err, "/etc/subuid", name)
	}
	gidRanges, err := subIDRanges("/etc/subgid", name, uid)
	if err != nil {
		return 0, subIDError(err, "/etc/subgid", name)
	}
	newuidmap, err := findIDMapTool("newuidmap")
	if err != nil {
		return 0, err
	}
	newgidmap, err := findIDMapTool("newgidmap")
	if err != nil {
		return 0, err
	}

	mapsR, mapsW, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer mapsW.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		mapsR.Close()
		return 0, err
	}
	defer readyR.Close()

	cmd := exec.Command("/proc/self/exe")
	cmd.Args = []string{"rrun-pause"}
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), envPauseStage+"=1")
	cmd.ExtraFiles = []*os.File{mapsR, readyW} // fds 3 and 4
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		Setsid:     true,
	}
	err = cmd.Start()
	mapsR.Close()
	readyW.Close()
	if err != nil {
		return 0, userNSError(err)
	}
	pid := cmd.Process.Pid
	fail := func(err error) (int, error) {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
		return 0, err
	}
	if err := runIDMap(newuidmap, pid, mapArgs(uid, uidRanges)); err != nil {
		return fail(err)
	}
	if err := runIDMap(newgidmap, pid, mapArgs(gid, gidRanges)); err != nil {
		return fail(err)
	}
	if _, err := mapsW.Write([]byte{1}); err != nil {
		return fail(fmt.Errorf("signalling the namespace holder: %w", err))
	}
	// The child closes its end after one report, or dies: read to EOF.
	timer := time.AfterFunc(30*time.Second, func() { _ = cmd.Process.Kill() })
	report, err := io.ReadAll(readyR)
	timer.Stop()
	if msg := string(report); err != nil || msg != "ok" {
		if msg == "" {
			msg = fmt.Sprintf("it exited without a word (%v)", err)
		}
		return fail(fmt.Errorf("starting the rootless namespace holder: %s", msg))
	}
	// The holder outlives this command: never wait for it.
	_ = cmd.Process.Release()
	return pid, nil
}

func runIDMap(tool string, pid int, args []string) error {
	out, err := exec.Command(tool, append([]string{strconv.Itoa(pid)}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %d %s: %v: %s\n  check that the ranges in /etc/subuid and /etc/subgid are the user's and do not overlap", tool, pid, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func subIDError(err error, file, name string) error {
	if !errors.Is(err, ErrNoSubIDs) {
		return err
	}
	return fmt.Errorf("%w\n  rrun maps the container's users to the user's subordinate ids; as root, add a line such as\n    %s:100000:65536\n  to %s (pick a range no other user has), or run: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 %s", err, name, file, name)
}

// findIDMapTool finds newuidmap/newgidmap and checks that it can do its
// job: without setuid or file capabilities it fails with a confusing EPERM.
func findIDMapTool(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		for _, dir := range []string{"/usr/bin", "/usr/sbin", "/bin", "/sbin"} {
			if _, serr := os.Stat(filepath.Join(dir, name)); serr == nil {
				path, err = filepath.Join(dir, name), nil
				break
			}
		}
	}
	if err != nil {
		return "", fmt.Errorf("%s not found: install the uidmap package (Debian/Ubuntu: apt-get install uidmap; Fedora/RHEL: dnf install shadow-utils)", name)
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if st.Mode()&os.ModeSetuid != 0 {
		return path, nil
	}
	if sz, err := unix.Getxattr(path, "security.capability", nil); err == nil && sz > 0 {
		return path, nil
	}
	return "", fmt.Errorf("%s is neither setuid root nor has file capabilities, so it cannot write id maps: as root run `chmod u+s %s` or reinstall the uidmap package", path, path)
}

// userNSError explains a failed clone(CLONE_NEWUSER).
func userNSError(err error) error {
	if reason := userNSDisabledReason(readSysctl); reason != "" {
		return fmt.Errorf("cannot create a user namespace: %s", reason)
	}
	return fmt.Errorf("cannot create a user namespace: %w", err)
}

func readSysctl(name string) string {
	data, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(name, ".", "/"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// userNSDisabledReason names the kernel setting that forbids unprivileged
// user namespaces, with the command that allows them.
func userNSDisabledReason(sysctl func(string) string) string {
	switch {
	case sysctl("kernel.unprivileged_userns_clone") == "0":
		return "unprivileged user namespaces are disabled: as root run `sysctl -w kernel.unprivileged_userns_clone=1` (and persist it in /etc/sysctl.d/)"
	case sysctl("user.max_user_namespaces") == "0":
		return "user namespaces are limited to 0: as root run `sysctl -w user.max_user_namespaces=28633` (and persist it in /etc/sysctl.d/)"
	case sysctl("kernel.apparmor_restrict_unprivileged_userns") == "1":
		return "AppArmor restricts unprivileged user namespaces: add an AppArmor profile that allows `userns` for rrun, or as root run `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`"
	}
	return ""
}
