package engine

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/sirupsen/logrus"

	"github.com/rrun/rrun/pkg/storage"
)

// PruneContainers removes every container that does not run, as docker
// container prune does, within docker's filters: until=<time> (created
// before), label=<key>[=<value>] (all must match), label!=… (not all
// may match). It reports the ids removed and the space their writable
// layers took. A container that starts meanwhile is left alone.
func (e *Engine) PruneContainers(ctx context.Context, filters map[string][]string) (*container.PruneReport, error) {
	match, err := pruneFilter(filters, time.Now())
	if err != nil {
		return nil, err
	}
	views, err := e.views()
	if err != nil {
		return nil, err
	}
	report := &container.PruneReport{ContainersDeleted: []string{}}
	for _, v := range views {
		if isRunning(v.st) || !match(v.c) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return report, err
		}
		size, _ := e.Images.Containers().ContainerSize(v.c.ID)
		if err := e.Remove(ctx, v.c.ID, RemoveOptions{}); err != nil {
			if !errdefs.IsNotFound(err) && !errdefs.IsConflict(err) {
				logrus.Warnf("pruning container %s: %v", v.c.Name, err)
			}
			continue
		}
		report.ContainersDeleted = append(report.ContainersDeleted, v.c.ID)
		report.SpaceReclaimed += uint64(max(size, 0))
	}
	e.emit(events.Message{
		Type:   events.ContainerEventType,
		Action: events.ActionPrune,
		Actor:  events.Actor{Attributes: map[string]string{"reclaimed": strconv.FormatUint(report.SpaceReclaimed, 10)}},
	})
	return report, nil
}

// pruneFilter compiles container prune's filters with dockerd's rules.
func pruneFilter(f map[string][]string, now time.Time) (func(*Container) bool, error) {
	var preds []func(*Container) bool
	for key, values := range f {
		switch key {
		case "until":
			if len(values) != 1 {
				return nil, errdefs.ErrInvalidArgument.WithMessage("filter until takes one value")
			}
			until, err := storage.ParseTimestamp(values[0], now)
			if err != nil {
				return nil, err
			}
			preds = append(preds, func(c *Container) bool { return c.Created.Before(until) })
		case "label":
			preds = append(preds, func(c *Container) bool { return storage.MatchLabels(c.Config.Labels, values) })
		case "label!":
			preds = append(preds, func(c *Container) bool { return !storage.MatchLabels(c.Config.Labels, values) })
		default:
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter '%s'", key))
		}
	}
	return func(c *Container) bool {
		for _, p := range preds {
			if !p(c) {
				return false
			}
		}
		return true
	}, nil
}
