package oci

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runc/libcontainer/utils"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	// Cgroup v1 device rules need this driver registered, as runc's own
	// main does; without it every start fails to "set devices limit".
	_ "github.com/opencontainers/cgroups/devices"
	// runc's nsexec: a C constructor that sets up namespaces for "init"
	// before the Go runtime starts.
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
)

// MaybeRunInit runs libcontainer's container init when this process was
// started as one ("rrun init" with libcontainer's pipes in the environment)
// and never returns then. main calls it first.
func MaybeRunInit() {
	if len(os.Args) > 1 && os.Args[1] == "init" && os.Getenv("_LIBCONTAINER_INITPIPE") != "" {
		libcontainer.Init() // does not return
	}
}

// Runtime runs containers with runc's libcontainer inside this process's
// user namespace: no runtime binary, no nested user namespace.
type Runtime struct {
	Root string // libcontainer's state directory (in the run root)
}

// Create prepares a container from its spec; any stale state a previous
// run left under the same id is destroyed first.
func (r *Runtime) Create(id string, spec *specs.Spec) (*libcontainer.Container, error) {
	if old, err := libcontainer.Load(r.Root, id); err == nil {
		_ = old.Destroy()
	}
	_ = os.RemoveAll(filepath.Join(r.Root, id))
	cfg, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{
		CgroupName:      id,
		Spec:            spec,
		RootlessCgroups: true,
	})
	if err != nil {
		return nil, fmt.Errorf("converting the container's spec: %w", err)
	}
	c, err := libcontainer.Create(r.Root, id, cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the container: %w", err)
	}
	return c, nil
}

// NewProcess turns the spec's process into libcontainer's, as runc does.
func NewProcess(p *specs.Process) (*libcontainer.Process, error) {
	if p == nil {
		return nil, errors.New("the spec has no process")
	}
	noNewPrivs := p.NoNewPrivileges
	lp := &libcontainer.Process{
		Args:            p.Args,
		Env:             p.Env,
		UID:             int(p.User.UID),
		GID:             int(p.User.GID),
		Cwd:             p.Cwd,
		NoNewPrivileges: &noNewPrivs,
		AppArmorProfile: p.ApparmorProfile,
		Label:           p.SelinuxLabel,
		Init:            true,
	}
	if p.ConsoleSize != nil {
		lp.ConsoleWidth, lp.ConsoleHeight = uint16(p.ConsoleSize.Width), uint16(p.ConsoleSize.Height)
	}
	if c := p.Capabilities; c != nil {
		lp.Capabilities = &configs.Capabilities{
			Bounding: c.Bounding, Effective: c.Effective, Inheritable: c.Inheritable,
			Permitted: c.Permitted, Ambient: c.Ambient,
		}
	}
	for _, g := range p.User.AdditionalGids {
		lp.AdditionalGroups = append(lp.AdditionalGroups, int(g))
	}
	for _, rl := range p.Rlimits {
		kind, ok := rlimitKinds[rl.Type]
		if !ok {
			return nil, fmt.Errorf("unknown rlimit %q", rl.Type)
		}
		lp.Rlimits = append(lp.Rlimits, configs.Rlimit{Type: kind, Hard: rl.Hard, Soft: rl.Soft})
	}
	return lp, nil
}

// ConsolePair makes the socket pair through which the container's init
// sends back the master side of the terminal it creates.
func ConsolePair() (parent, child *os.File, err error) {
	return utils.NewSockPair("console")
}

// ReceiveConsole reads the terminal master from the parent socket.
func ReceiveConsole(parent *os.File) (*os.File, error) {
	return utils.RecvFile(parent)
}
