package engine

import (
	"context"
	"path/filepath"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	mobystorage "github.com/moby/moby/api/types/storage"

	"github.com/rrun/rrun/pkg/usernet"
)

// Inspect returns docker's container inspect document.
func (e *Engine) Inspect(ctx context.Context, ref string) (*container.InspectResponse, error) {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return nil, err
	}
	st, err := e.currentState(c.ID)
	if err != nil {
		return nil, err
	}
	dir, err := e.containerDir(c.ID)
	if err != nil {
		return nil, err
	}
	var path string
	var args []string
	if cmd := append(append([]string{}, c.Config.Entrypoint...), c.Config.Cmd...); len(cmd) > 0 {
		path, args = cmd[0], cmd[1:]
	}
	if args == nil {
		args = []string{}
	}
	resp := &container.InspectResponse{
		ID:      c.ID,
		Created: c.Created.Format(time.RFC3339Nano),
		Path:    path,
		Args:    args,
		State: &container.State{
			Status:     st.Status,
			Running:    st.Status == container.StateRunning,
			Paused:     st.Status == container.StatePaused,
			Restarting: st.Status == container.StateRestarting,
			OOMKilled:  st.OOMKilled,
			Dead:       st.Status == container.StateDead,
			Pid:        st.Pid,
			ExitCode:   st.ExitCode,
			Error:      st.Error,
			StartedAt:  dockerTime(st.StartedAt),
			FinishedAt: dockerTime(st.FinishedAt),
		},
		Image:          c.ImageID,
		ResolvConfPath: filepath.Join(dir, "resolv.conf"),
		HostnamePath:   filepath.Join(dir, "hostname"),
		HostsPath:      filepath.Join(dir, "hosts"),
		LogPath:        filepath.Join(dir, logFile),
		Name:           "/" + c.Name,
		RestartCount:   st.RestartCount,
		Driver:         e.Images.Driver(),
		Platform:       "linux",
		HostConfig:     c.HostConfig,
		GraphDriver:    &mobystorage.DriverData{Name: e.Images.Driver(), Data: map[string]string{}},
		Mounts:         e.mountPoints(c),
		Config:         c.Config,
		NetworkSettings: &container.NetworkSettings{
			Ports:    network.PortMap{},
			Networks: map[string]*network.EndpointSettings{},
		},
	}
	if isRunning(st) {
		resp.NetworkSettings.Ports = st.Ports
		resp.NetworkSettings.Networks = st.Networks
		if usernet.IsNS(e.netnsPath(c.ID)) {
			resp.NetworkSettings.SandboxKey = e.netnsPath(c.ID)
		}
	}
	if resp.NetworkSettings.Networks == nil {
		resp.NetworkSettings.Networks = map[string]*network.EndpointSettings{}
	}
	if resp.NetworkSettings.Ports == nil {
		resp.NetworkSettings.Ports = network.PortMap{}
	}
	if !isRunning(st) {
		resp.State.Pid = 0
	}
	if c.HostConfig.LogConfig.Type == "none" {
		resp.LogPath = ""
	}
	return resp, nil
}

// dockerTime formats times as docker does, with its zero value for never.
func dockerTime(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.UTC().Format(time.RFC3339Nano)
}
