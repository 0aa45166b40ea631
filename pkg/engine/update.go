package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/opencontainers/runc/libcontainer"

	"github.com/rrun/rrun/pkg/oci"
	"github.com/rrun/rrun/pkg/rootless"
)

// Update changes a container's resource limits and restart policy, as
// docker update does: the fields cfg sets replace the container's, are
// recorded, and apply from its next start. A running container with a
// cgroup v2 of its own gets the new limits at once; without one (cgroup
// v1 or hybrid hosts, no systemd delegation) they are recorded and a
// warning says they cannot be applied. The restart policy always applies.
func (e *Engine) Update(ctx context.Context, ref string, cfg container.UpdateConfig) (*container.UpdateResponse, error) {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return nil, err
	}
	unlock, err := e.lockContainer(c.ID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if c, err = e.loadContainer(c.ID); err != nil {
		return nil, err
	}
	hc := *c.HostConfig
	limits, err := mergeResources(&hc.Resources, cfg.Resources)
	if err != nil {
		return nil, err
	}
	if cfg.RestartPolicy.Name != "" {
		if err := container.ValidateRestartPolicy(cfg.RestartPolicy); err != nil {
			return nil, errdefs.ErrInvalidArgument.WithMessage(err.Error())
		}
		if hc.AutoRemove && !cfg.RestartPolicy.IsNone() {
			return nil, errdefs.ErrInvalidArgument.WithMessage("Restart policy cannot be updated because AutoRemove is enabled for the container")
		}
		hc.RestartPolicy = cfg.RestartPolicy
	}

	resp := &container.UpdateResponse{Warnings: []string{}}
	if limits {
		st, err := e.currentState(c.ID)
		if err != nil {
			return nil, err
		}
		dir := ""
		if isRunning(st) {
			dir = ownCgroup(procRoot, st.Pid, c.ID)
		}
		switch cg := DetectCgroups(rootless.HostUID()); {
		case dir != "":
			if err := e.applyResources(c.ID, dir, hc.Resources); err != nil {
				return nil, fmt.Errorf("Cannot update container %s: %w", c.ID, err) //nolint:staticcheck // dockerd's wording
			}
		case !cg.Limits:
			resp.Warnings = append(resp.Warnings, "the new resource limits are recorded, but this host cannot apply them ("+cg.Note+")")
		case isRunning(st):
			resp.Warnings = append(resp.Warnings, "container "+c.Name+" runs without a cgroup of its own: the new resource limits apply from its next start")
		}
	}
	c.HostConfig = &hc
	if err := e.saveContainer(c); err != nil {
		return nil, fmt.Errorf("updating container %s: %w", c.Name, err)
	}
	e.emit(containerEvent(events.ActionUpdate, c))
	return resp, nil
}

// mergeResources sets in have the limits that update sets (non-zero), with
// dockerd's checks, and says whether it set any.
func mergeResources(have *container.Resources, update container.Resources) (bool, error) {
	set := false
	if update.Memory != 0 {
		if have.MemorySwap > 0 && update.Memory > have.MemorySwap && update.MemorySwap == 0 {
			return false, conflictingUpdate("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time")
		}
		have.Memory, set = update.Memory, true
	}
	if update.MemorySwap != 0 {
		have.MemorySwap, set = update.MemorySwap, true
	}
	if update.MemoryReservation != 0 {
		have.MemoryReservation, set = update.MemoryReservation, true
	}
	// --cpus and a CFS period or quota exclude each other.
	switch {
	case update.NanoCPUs > 0 && have.CPUQuota > 0:
		return false, conflictingUpdate("Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set")
	case update.CPUQuota > 0 && have.NanoCPUs > 0:
		return false, conflictingUpdate("Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set")
	case update.NanoCPUs > 0 && have.CPUPeriod > 0:
		return false, conflictingUpdate("Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set")
	case update.CPUPeriod > 0 && have.NanoCPUs > 0:
		return false, conflictingUpdate("Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set")
	}
	if update.NanoCPUs != 0 {
		have.NanoCPUs, set = update.NanoCPUs, true
	}
	if update.CPUQuota != 0 {
		have.CPUQuota, set = update.CPUQuota, true
	}
	if update.CPUPeriod != 0 {
		have.CPUPeriod, set = update.CPUPeriod, true
	}
	if update.CPUShares != 0 {
		have.CPUShares, set = update.CPUShares, true
	}
	if update.CpusetCpus != "" {
		have.CpusetCpus, set = update.CpusetCpus, true
	}
	if update.CpusetMems != "" {
		have.CpusetMems, set = update.CpusetMems, true
	}
	if update.BlkioWeight != 0 {
		have.BlkioWeight, set = update.BlkioWeight, true
	}
	if update.PidsLimit != nil {
		limit := *update.PidsLimit
		have.PidsLimit, set = &limit, true
	}
	if err := oci.ValidateResources(*have); err != nil {
		return false, err
	}
	return set, nil
}

// applyResources sets a running container's cgroup limits through the
// runtime, as runc update does.
func (e *Engine) applyResources(id, cgroupDir string, r container.Resources) error {
	lc, err := libcontainer.Load(filepath.Join(e.opts.RunRoot, "runc"), id)
	if err != nil {
		return err
	}
	cfg := lc.Config()
	if cfg.Cgroups == nil || cfg.Cgroups.Resources == nil {
		return fmt.Errorf("the runtime has no cgroup for the container")
	}
	cr := cfg.Cgroups.Resources
	cr.Memory, cr.MemoryReservation = r.Memory, r.MemoryReservation
	if _, err := os.Stat(filepath.Join(cgroupDir, "memory.swap.max")); err == nil {
		cr.MemorySwap = r.MemorySwap
		if cr.MemorySwap == 0 && r.Memory > 0 {
			cr.MemorySwap = 2 * r.Memory // docker's default
		}
	}
	cr.CpuPeriod, cr.CpuQuota = uint64(r.CPUPeriod), r.CPUQuota
	if r.NanoCPUs > 0 {
		const period = 100000 // µs, docker's for --cpus
		cr.CpuPeriod, cr.CpuQuota = period, r.NanoCPUs*period/1e9
	}
	if r.CPUShares > 0 {
		cr.CpuShares, cr.CpuWeight = uint64(r.CPUShares), 0 // the runtime converts shares to a v2 weight
	}
	cr.CpusetCpus, cr.CpusetMems = r.CpusetCpus, r.CpusetMems
	if r.BlkioWeight > 0 {
		cr.BlkioWeight = r.BlkioWeight
	}
	if r.PidsLimit != nil {
		limit := *r.PidsLimit
		if limit <= 0 {
			limit = -1 // docker: 0 and negative mean unlimited
		}
		cr.PidsLimit = &limit
	}
	return lc.Set(cfg)
}

// conflictingUpdate is dockerd's error for an update that contradicts the
// container's settings.
func conflictingUpdate(msg string) error {
	return errdefs.ErrInvalidArgument.WithMessage(msg)
}
