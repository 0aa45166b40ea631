package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	cstorage "go.podman.io/storage"

	"github.com/rrun/rrun/pkg/atomicfile"
)

// Container is rrun's record of a container: docker's configuration as it
// was at create time, with the image's defaults merged in. It is written
// by create, rename and update, as config.json in the container's storage
// directory, which outlives reboots.
type Container struct {
	ID         string                    `json:"id"`
	Name       string                    `json:"name"` // without docker's leading "/"
	Created    time.Time                 `json:"created"`
	ImageID    string                    `json:"imageID"` // sha256:…
	Config     *container.Config         `json:"config"`
	HostConfig *container.HostConfig     `json:"hostConfig"`
	Network    *network.NetworkingConfig `json:"network,omitempty"`
	// AnonymousVolumes names the volumes made for the container's mounts
	// without a source (-v /dst, the image's VOLUMEs), by target, so that
	// every start mounts the same ones (see volumes_container.go).
	AnonymousVolumes map[string]string `json:"anonymousVolumes,omitempty"`
}

// State is a container's run-time state, state.json beside config.json.
// Processes are recorded with their start times and the boot they ran in,
// so a stale record (a reboot, a recycled pid) is recognised as exited.
type State struct {
	Status       container.ContainerState `json:"status"`
	Pid          int                      `json:"pid,omitempty"`
	PidStart     uint64                   `json:"pidStart,omitempty"`
	MonitorPid   int                      `json:"monitorPid,omitempty"`
	MonitorStart uint64                   `json:"monitorStart,omitempty"`
	BootID       string                   `json:"bootID,omitempty"`
	ExitCode     int                      `json:"exitCode"`
	OOMKilled    bool                     `json:"oomKilled,omitempty"`
	Error        string                   `json:"error,omitempty"`
	StartedAt    time.Time                `json:"startedAt"`
	FinishedAt   time.Time                `json:"finishedAt"`
	RestartCount int                      `json:"restartCount,omitempty"`
	// ManualStop is set by stop/kill so that a restart policy of
	// unless-stopped/always does not bring the container back.
	ManualStop bool `json:"manualStop,omitempty"`
	// Networks are the running container's endpoints by network name, and
	// Ports the host ports bound for it (see network_container.go).
	Networks map[string]*network.EndpointSettings `json:"networks,omitempty"`
	Ports    network.PortMap                      `json:"ports,omitempty"`
}

const (
	configFile = "config.json"
	stateFile  = "state.json"
	logFile    = "container.log"
)

// containerDir holds a container's persistent files.
func (e *Engine) containerDir(id string) (string, error) {
	dir, err := e.Images.Containers().ContainerDirectory(id)
	if err != nil {
		return "", fmt.Errorf("container %s: %w", shortID(id), err)
	}
	return dir, nil
}

// runDir holds a container's run-time files: the attach socket and the
// runtime's state. It is cleared by a reboot.
func (e *Engine) runDir(id string) string {
	return filepath.Join(e.opts.RunRoot, "containers", id)
}

func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, 0o600)
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

func (e *Engine) saveContainer(c *Container) error {
	dir, err := e.containerDir(c.ID)
	if err != nil {
		return err
	}
	return writeJSON(filepath.Join(dir, configFile), c)
}

func (e *Engine) loadContainer(id string) (*Container, error) {
	dir, err := e.containerDir(id)
	if err != nil {
		return nil, err
	}
	var c Container
	if err := readJSON(filepath.Join(dir, configFile), &c); err != nil {
		return nil, fmt.Errorf("reading container %s: %w", shortID(id), err)
	}
	return &c, nil
}

// loadState reads the recorded state without checking it against the
// processes; currentState does that.
func (e *Engine) loadState(id string) (*State, error) {
	dir, err := e.containerDir(id)
	if err != nil {
		return nil, err
	}
	var st State
	if err := readJSON(filepath.Join(dir, stateFile), &st); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return &State{Status: container.StateCreated}, nil
		}
		return nil, fmt.Errorf("reading state of container %s: %w", shortID(id), err)
	}
	return &st, nil
}

func (e *Engine) saveState(id string, st *State) error {
	dir, err := e.containerDir(id)
	if err != nil {
		return err
	}
	return writeJSON(filepath.Join(dir, stateFile), st)
}

// currentState is the recorded state checked against reality: a running
// container whose monitor and process are both gone (killed, or a reboot)
// has exited, and says why.
func (e *Engine) currentState(id string) (*State, error) {
	st, err := e.loadState(id)
	if err != nil {
		return nil, err
	}
	if st.Status != container.StateRunning && st.Status != container.StatePaused && st.Status != container.StateRestarting {
		return st, nil
	}
	if processAlive(st.MonitorPid, st.MonitorStart, st.BootID) {
		return st, nil
	}
	if processAlive(st.Pid, st.PidStart, st.BootID) {
		// The container still runs but nobody watches it: say so.
		st.Error = "rrun's monitor for this container died: its output is no longer logged and its exit will not be recorded; its published ports and outbound network are down until the next container start brings rrun's supervisor back"
		return st, nil
	}
	st.Status = container.StateExited
	if st.FinishedAt.IsZero() {
		st.FinishedAt = time.Now()
	}
	if st.ExitCode == 0 {
		st.ExitCode = 255
	}
	if st.Error == "" {
		st.Error = "rrun's monitor and the container's process disappeared (killed, or the machine rebooted)"
	}
	return st, nil
}

// lookupContainer resolves a name, full id or unique id prefix, as docker.
func (e *Engine) lookupContainer(ref string) (*Container, error) {
	ref = strings.TrimPrefix(ref, "/")
	if ref == "" {
		return nil, errdefs.ErrInvalidArgument.WithMessage("container name or ID cannot be empty")
	}
	sc, err := e.Images.Containers().Container(ref)
	if err != nil {
		if errors.Is(err, cstorage.ErrContainerUnknown) {
			return nil, noSuchContainer(ref)
		}
		return nil, fmt.Errorf("looking up container %s: %w", ref, err)
	}
	// containers/storage also matches id prefixes of any length; docker
	// matches names exactly and ids by prefix.
	if sc.ID != ref && !strings.HasPrefix(sc.ID, ref) && !contains(sc.Names, ref) {
		return nil, noSuchContainer(ref)
	}
	return e.loadContainer(sc.ID)
}

func noSuchContainer(ref string) error {
	return errdefs.ErrNotFound.WithMessage("No such container: " + ref)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
