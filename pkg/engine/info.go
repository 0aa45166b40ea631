package engine

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"

	"github.com/rrun/rrun/pkg/rootless"
	"github.com/rrun/rrun/pkg/storage"
	"github.com/rrun/rrun/pkg/usernet"
	"github.com/rrun/rrun/pkg/version"
)

// Info describes rrun, the host and the store, for `rrun info`.
type Info struct {
	Version    string             `json:"version"`
	Host       HostInfo           `json:"host"`
	Store      StoreInfo          `json:"store"`
	Network    NetworkInfo        `json:"network"`
	Registries storage.Registries `json:"registries"`
}

// NetworkInfo is what the host allows of rootless networking.
type NetworkInfo struct {
	Stack string `json:"stack"`
	// TAP and Ping are "ok" or what is missing and how to fix it.
	TAP  string `json:"tap"`
	Ping string `json:"ping"`
}

// HostInfo is what the host allows rootless containers.
type HostInfo struct {
	OS            string    `json:"os"`
	Kernel        string    `json:"kernel"`
	Arch          string    `json:"arch"`
	Rootless      bool      `json:"rootless"`
	HostUID       int       `json:"hostUID"`
	UIDMap        []IDMap   `json:"uidMap"`
	GIDMap        []IDMap   `json:"gidMap"`
	Cgroups       CgroupSet `json:"cgroups"`
	CPUs          int       `json:"cpus"`
	MemTotalBytes int64     `json:"memTotal"`
}

// IDMap is one line of /proc/self/uid_map: Size ids from ContainerID map
// to HostID.
type IDMap struct {
	ContainerID int `json:"containerID"`
	HostID      int `json:"hostID"`
	Size        int `json:"size"`
}

// StoreInfo describes the image store.
type StoreInfo struct {
	Driver       string      `json:"driver"`
	DriverStatus [][2]string `json:"driverStatus"`
	Warning      string      `json:"warning,omitempty"`
	GraphRoot    string      `json:"graphRoot"`
	RunRoot      string      `json:"runRoot"`
	Images       int         `json:"images"`
}

// Info gathers the report.
func (e *Engine) Info() (*Info, error) {
	images, err := e.Images.List(context.Background(), nil)
	if err != nil {
		return nil, err
	}
	regs, err := e.Images.Registries()
	if err != nil {
		return nil, err
	}
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	info := &Info{
		Version: version.Version,
		Host: HostInfo{
			OS:            osRelease(),
			Kernel:        unix.ByteSliceToString(uts.Release[:]),
			Arch:          runtime.GOARCH,
			Rootless:      true,
			HostUID:       rootless.HostUID(),
			UIDMap:        readIDMap("/proc/self/uid_map"),
			GIDMap:        readIDMap("/proc/self/gid_map"),
			Cgroups:       DetectCgroups(rootless.HostUID()),
			CPUs:          runtime.NumCPU(),
			MemTotalBytes: memTotal(),
		},
		Store: StoreInfo{
			Driver:       e.Images.Driver(),
			DriverStatus: e.Images.DriverStatus(),
			Warning:      e.Images.Warning,
			GraphRoot:    e.Images.GraphRoot(),
			RunRoot:      e.Images.RunRoot(),
			Images:       len(images),
		},
		Network:    networkInfo(),
		Registries: regs,
	}
	if info.Store.Driver == storage.DriverVFS && info.Store.Warning == "" {
		info.Store.Warning = "vfs copies every layer in full: expect more disk use and slower container starts than with overlay"
	}
	return info, nil
}

func readIDMap(path string) []IDMap {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []IDMap
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		c, _ := strconv.Atoi(f[0])
		h, _ := strconv.Atoi(f[1])
		s, _ := strconv.Atoi(f[2])
		out = append(out, IDMap{ContainerID: c, HostID: h, Size: s})
	}
	return out
}

func osRelease() string {
	f, err := os.Open("/etc/os-release")
	if err != nil {
		return runtime.GOOS
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return runtime.GOOS
}

func memTotal() int64 {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}

// CgroupSet says which cgroup hierarchy the host runs and whether rootless
// containers can get resource limits on it.
type CgroupSet struct {
	Version     string   `json:"version"` // v2, v1 or hybrid
	Limits      bool     `json:"limits"`  // memory/cpu/pids limits possible
	Controllers []string `json:"controllers,omitempty"`
	Note        string   `json:"note,omitempty"`
}

// DetectCgroups reads the host's cgroup layout. Rootless limits need the
// unified (v2) hierarchy with controllers delegated to the user's systemd
// service, as podman requires.
func DetectCgroups(uid int) CgroupSet {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		return CgroupSet{Version: "unknown", Note: "cannot read /sys/fs/cgroup: " + err.Error()}
	}
	if st.Type != unix.CGROUP2_SUPER_MAGIC {
		version := "v1"
		var u unix.Statfs_t
		if unix.Statfs("/sys/fs/cgroup/unified", &u) == nil && u.Type == unix.CGROUP2_SUPER_MAGIC {
			version = "hybrid"
		}
		return CgroupSet{Version: version, Note: "cgroup " + version + " host: rootless containers run without resource limits (--memory, --cpus, --pids-limit need cgroup v2 with systemd delegation)"}
	}
	user := filepath.Join("/sys/fs/cgroup/user.slice", "user-"+strconv.Itoa(uid)+".slice", "user@"+strconv.Itoa(uid)+".service")
	data, err := os.ReadFile(filepath.Join(user, "cgroup.controllers"))
	if err != nil {
		return CgroupSet{Version: "v2", Note: "no delegated cgroup for the user (no systemd user session): rootless containers run without resource limits"}
	}
	ctrls := strings.Fields(string(data))
	set := CgroupSet{Version: "v2", Controllers: ctrls, Limits: len(ctrls) > 0}
	if !set.Limits {
		set.Note = "no controllers are delegated to the user: see systemd's Delegate= (user@.service)"
	}
	return set
}

// limitsWarning says, once per create, that resource limits cannot be
// applied on this host, as rootless podman warns.
func (e *Engine) limitsWarning(hc *container.HostConfig) string {
	r := hc.Resources
	asked := r.Memory != 0 || r.NanoCPUs != 0 || r.CPUShares != 0 || (r.PidsLimit != nil && *r.PidsLimit > 0) ||
		r.CpusetCpus != "" || r.MemorySwap != 0 || r.BlkioWeight != 0 || r.CPUQuota != 0
	if !asked {
		return ""
	}
	if cg := DetectCgroups(rootless.HostUID()); !cg.Limits {
		return "resource limits are ignored: " + cg.Note
	}
	return ""
}

func networkInfo() NetworkInfo {
	n := NetworkInfo{Stack: "gVisor netstack in rrun's supervisor (bridge networks), published ports with source addresses kept", TAP: "ok", Ping: "ok"}
	tun, ping := usernet.Check()
	if tun != nil {
		n.TAP = tun.Error()
	}
	if ping != nil {
		n.Ping = ping.Error()
	}
	return n
}
