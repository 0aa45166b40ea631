package engine

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	"github.com/rrun/rrun/pkg/storage"
)

// ListOptions are docker ps's.
type ListOptions struct {
	All     bool
	Limit   int // the n most recently created; 0: no limit
	Filters map[string][]string
	Size    bool // compute SizeRw and SizeRootFs (reads the layers: slower)
}

// containerView is a container with its checked state, the unit listing,
// filtering and inspecting work on.
type containerView struct {
	c  *Container
	st *State
}

// views loads every container, newest first.
func (e *Engine) views() ([]containerView, error) {
	scs, err := e.Images.Containers().Containers()
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	var out []containerView
	for _, sc := range scs {
		c, err := e.loadContainer(sc.ID)
		if err != nil {
			continue // not one of rrun's containers (or being created)
		}
		st, err := e.currentState(c.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, containerView{c: c, st: st})
	}
	slices.SortFunc(out, func(a, b containerView) int { return b.c.Created.Compare(a.c.Created) })
	return out, nil
}

// List returns containers as docker's /containers/json does.
func (e *Engine) List(ctx context.Context, opts ListOptions) ([]container.Summary, error) {
	views, err := e.views()
	if err != nil {
		return nil, err
	}
	match, err := e.containerFilter(opts.Filters, views)
	if err != nil {
		return nil, err
	}
	out := []container.Summary{}
	for _, v := range views {
		if !opts.All && !isRunning(v.st) && len(opts.Filters["status"]) == 0 {
			continue
		}
		if !match(v) {
			continue
		}
		sum := v.summary()
		if opts.Size {
			e.sizes(&sum, v.c)
		}
		out = append(out, sum)
		if opts.Limit > 0 && len(out) == opts.Limit {
			break
		}
	}
	return out, nil
}

func (v containerView) summary() container.Summary {
	s := container.Summary{
		ID:      v.c.ID,
		Names:   []string{"/" + v.c.Name},
		Image:   v.c.Config.Image,
		ImageID: v.c.ImageID,
		Command: strings.Join(append(append([]string{}, v.c.Config.Entrypoint...), v.c.Config.Cmd...), " "),
		Created: v.c.Created.Unix(),
		Labels:  v.c.Config.Labels,
		State:   v.st.Status,
		Status:  statusText(v.st),
		Ports:   []container.PortSummary{},
		Mounts:  []container.MountPoint{},
	}
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	s.Ports = portSummaries(v.c, v.st)
	if isRunning(v.st) && len(v.st.Networks) > 0 {
		s.NetworkSettings = &container.NetworkSettingsSummary{Networks: v.st.Networks}
	}
	s.HostConfig.NetworkMode = networkMode(v.c)
	return s
}

// sizes fills in docker's SizeRw (the container's own layer and files)
// and SizeRootFs (that plus its image).
func (e *Engine) sizes(s *container.Summary, c *Container) {
	if rw, err := e.Images.Containers().ContainerSize(c.ID); err == nil {
		s.SizeRw = rw
	}
	s.SizeRootFs = s.SizeRw
	if img, err := e.Images.Inspect(context.Background(), c.ImageID); err == nil {
		s.SizeRootFs += img.Size
	}
}

// networkMode is the mode docker reports: its default is the bridge.
func networkMode(c *Container) string {
	if m := string(c.HostConfig.NetworkMode); m != "" && m != network.NetworkDefault {
		return m
	}
	return network.NetworkBridge
}

// statusText is docker's human status: "Up 5 minutes", "Exited (0) 2
// hours ago", "Created".
func statusText(st *State) string {
	switch st.Status {
	case container.StateRunning:
		return "Up " + units.HumanDuration(time.Since(st.StartedAt))
	case container.StatePaused:
		return "Up " + units.HumanDuration(time.Since(st.StartedAt)) + " (Paused)"
	case container.StateRestarting:
		return fmt.Sprintf("Restarting (%d) %s ago", st.ExitCode, units.HumanDuration(time.Since(st.FinishedAt)))
	case container.StateExited:
		return fmt.Sprintf("Exited (%d) %s ago", st.ExitCode, units.HumanDuration(time.Since(st.FinishedAt)))
	case container.StateDead:
		return "Dead"
	}
	return "Created"
}

// containerFilter compiles docker ps's filters: id, name, label, status,
// exited, ancestor, before, since.
func (e *Engine) containerFilter(f map[string][]string, views []containerView) (func(containerView) bool, error) {
	var preds []func(containerView) bool
	find := func(ref string) (*containerView, error) {
		c, err := e.lookupContainer(ref)
		if err != nil {
			return nil, err
		}
		for i := range views {
			if views[i].c.ID == c.ID {
				return &views[i], nil
			}
		}
		return nil, noSuchContainer(ref)
	}
	for key, values := range f {
		values := values
		switch key {
		case "id":
			preds = append(preds, func(v containerView) bool {
				return slices.ContainsFunc(values, func(p string) bool { return strings.HasPrefix(v.c.ID, p) })
			})
		case "name":
			preds = append(preds, func(v containerView) bool {
				return slices.ContainsFunc(values, func(p string) bool { return strings.Contains(v.c.Name, strings.TrimPrefix(p, "/")) })
			})
		case "label":
			preds = append(preds, func(v containerView) bool { return storage.MatchLabels(v.c.Config.Labels, values) })
		case "status":
			for _, s := range values {
				if err := container.ValidateContainerState(container.ContainerState(s)); err != nil {
					return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter 'status=%s'", s))
				}
			}
			preds = append(preds, func(v containerView) bool { return slices.Contains(values, string(v.st.Status)) })
		case "exited":
			preds = append(preds, func(v containerView) bool {
				return v.st.Status == container.StateExited && slices.Contains(values, fmt.Sprint(v.st.ExitCode))
			})
		case "ancestor":
			var ids []string
			for _, ref := range values {
				img, err := e.Images.ResolveImage(ref)
				if err != nil {
					continue // docker matches nothing for an unknown image
				}
				ids = append(ids, img.ID)
			}
			preds = append(preds, func(v containerView) bool { return slices.Contains(ids, v.c.ImageID) })
		case "before", "since":
			var bounds []time.Time
			for _, ref := range values {
				b, err := find(ref)
				if err != nil {
					return nil, err
				}
				bounds = append(bounds, b.c.Created)
			}
			before := key == "before"
			preds = append(preds, func(v containerView) bool {
				for _, t := range bounds {
					if before && !v.c.Created.Before(t) || !before && !v.c.Created.After(t) {
						return false
					}
				}
				return true
			})
		default:
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter '%s'", key))
		}
	}
	return func(v containerView) bool {
		for _, p := range preds {
			if !p(v) {
				return false
			}
		}
		return true
	}, nil
}

// portSummaries lists a container's ports as docker's ps does: each bound
// host address of a running container, and exposed ports without one.
func portSummaries(c *Container, st *State) []container.PortSummary {
	out := []container.PortSummary{}
	bound := map[network.Port]bool{}
	if isRunning(st) {
		for port, bindings := range st.Ports {
			for _, b := range bindings {
				hp, _ := strconv.ParseUint(b.HostPort, 10, 16)
				out = append(out, container.PortSummary{IP: b.HostIP, PrivatePort: port.Num(), PublicPort: uint16(hp), Type: string(port.Proto())})
				bound[port] = true
			}
		}
	}
	for port := range c.Config.ExposedPorts {
		if !bound[port] {
			out = append(out, container.PortSummary{PrivatePort: port.Num(), Type: string(port.Proto())})
		}
	}
	slices.SortFunc(out, func(a, b container.PortSummary) int {
		if a.PrivatePort != b.PrivatePort {
			return int(a.PrivatePort) - int(b.PrivatePort)
		}
		return strings.Compare(a.IP.String(), b.IP.String())
	})
	return out
}

// ContainerCounts are docker info's container figures.
type ContainerCounts struct{ Containers, Running, Paused, Stopped int }

// Counts counts the containers by state.
func (e *Engine) Counts(ctx context.Context) (ContainerCounts, error) {
	views, err := e.views()
	if err != nil {
		return ContainerCounts{}, err
	}
	var n ContainerCounts
	for _, v := range views {
		n.Containers++
		switch v.st.Status {
		case container.StateRunning, container.StateRestarting:
			n.Running++
		case container.StatePaused:
			n.Paused++
		default:
			n.Stopped++
		}
	}
	return n, nil
}
