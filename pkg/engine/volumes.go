package engine

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/volume"

	"github.com/rrun/rrun/pkg/storage"
)

// VolumeCreate creates a volume, as docker volume create and POST
// /volumes/create do. Without a name it makes an anonymous volume with a
// random 64-hex name; an existing name returns that volume unchanged.
func (e *Engine) VolumeCreate(ctx context.Context, req volume.CreateRequest) (volume.Volume, error) {
	anonymous := req.Name == ""
	if anonymous {
		req.Name = newVolumeName()
	}
	v, _, err := e.createVolume(req, anonymous)
	if err != nil {
		return volume.Volume{}, err
	}
	return e.apiVolume(v), nil
}

// VolumeInspect returns docker's view of one volume.
func (e *Engine) VolumeInspect(ctx context.Context, name string) (volume.Volume, error) {
	v, err := e.loadVolume(name)
	if err != nil {
		return volume.Volume{}, err
	}
	return e.apiVolume(v), nil
}

// VolumeList returns the volumes that match docker's volume ls filters
// (name, label, dangling, driver), sorted by name.
func (e *Engine) VolumeList(ctx context.Context, filters map[string][]string) ([]volume.Volume, error) {
	match, needRefs, err := volumeListFilter(filters)
	if err != nil {
		return nil, err
	}
	var refs map[string][]string
	if needRefs {
		if refs, err = e.volumeUsers(); err != nil {
			return nil, err
		}
	}
	vs, err := e.loadVolumes()
	if err != nil {
		return nil, err
	}
	out := []volume.Volume{}
	for _, v := range vs {
		av := e.apiVolume(v)
		if match(av, len(refs[v.Name]) > 0) {
			out = append(out, av)
		}
	}
	return out, nil
}

// VolumeRemove removes a volume no container uses; a used one is docker's
// conflict naming the containers. force only makes a missing volume no
// error, as with docker.
func (e *Engine) VolumeRemove(ctx context.Context, name string, force bool) error {
	unlock, err := e.lockVolumes()
	if err != nil {
		return err
	}
	defer unlock()
	v, err := e.loadVolume(name)
	if err != nil {
		if force && errdefs.IsNotFound(err) {
			return nil
		}
		return err
	}
	refs, err := e.volumeUsers()
	if err != nil {
		return err
	}
	if ids := refs[name]; len(ids) > 0 {
		return inUse(name, ids)
	}
	_, err = e.deleteVolume(v)
	return err
}

// VolumePrune removes the volumes no container uses: the anonymous ones,
// as docker ≥ 23 does, or all of them with the filter all=true; label and
// label! filters narrow the choice.
func (e *Engine) VolumePrune(ctx context.Context, filters map[string][]string) (*volume.PruneReport, error) {
	all, match, err := volumePruneFilter(filters)
	if err != nil {
		return nil, err
	}
	unlock, err := e.lockVolumes()
	if err != nil {
		return nil, err
	}
	defer unlock()
	refs, err := e.volumeUsers()
	if err != nil {
		return nil, err
	}
	vs, err := e.loadVolumes()
	if err != nil {
		return nil, err
	}
	report := &volume.PruneReport{VolumesDeleted: []string{}}
	for _, v := range vs {
		if len(refs[v.Name]) > 0 || !all && !v.Anonymous || !match(e.apiVolume(v).Labels) {
			continue
		}
		size, err := e.deleteVolume(v)
		if err != nil {
			return report, err
		}
		report.VolumesDeleted = append(report.VolumesDeleted, v.Name)
		report.SpaceReclaimed += uint64(max(size, 0))
	}
	e.emit(events.Message{
		Type:   events.VolumeEventType,
		Action: events.ActionPrune,
		Actor:  events.Actor{Attributes: map[string]string{"reclaimed": strconv.FormatUint(report.SpaceReclaimed, 10)}},
	})
	return report, nil
}

// removeContainerVolumes removes the anonymous volumes made for a removed
// container, unless another container uses them, as docker rm -v does.
// Like docker, it only logs what it cannot remove.
func (e *Engine) removeContainerVolumes(c *Container) {
	if len(c.AnonymousVolumes) == 0 {
		return
	}
	unlock, err := e.lockVolumes()
	if err != nil {
		e.warnVolume(c, err)
		return
	}
	defer unlock()
	refs, err := e.volumeUsers()
	if err != nil {
		e.warnVolume(c, err)
		return
	}
	for _, name := range sortedValues(c.AnonymousVolumes) {
		if ids := slices.DeleteFunc(refs[name], func(id string) bool { return id == c.ID }); len(ids) > 0 {
			continue
		}
		v, err := e.loadVolume(name)
		if err == nil {
			_, err = e.deleteVolume(v)
		}
		if err != nil && !errdefs.IsNotFound(err) {
			e.warnVolume(c, err)
		}
	}
}

func (e *Engine) warnVolume(c *Container, err error) {
	if e.opts.Warn != nil {
		e.opts.Warn(fmt.Sprintf("removing the volumes of container %s: %v", c.Name, err))
	}
}

func sortedValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// volumeListFilter compiles volume ls's filters; needRefs says whether
// matching needs to know which volumes containers use (dangling).
func volumeListFilter(f map[string][]string) (match func(v volume.Volume, used bool) bool, needRefs bool, err error) {
	var preds []func(volume.Volume, bool) bool
	for key, values := range f {
		values := values
		switch key {
		case "name":
			// docker matches names as unanchored regular expressions.
			var res []*regexp.Regexp
			for _, p := range values {
				re, err := regexp.Compile(p)
				if err != nil {
					return nil, false, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter 'name=%s': %v", p, err))
				}
				res = append(res, re)
			}
			preds = append(preds, func(v volume.Volume, _ bool) bool {
				return slices.ContainsFunc(res, func(re *regexp.Regexp) bool { return re.MatchString(v.Name) })
			})
		case "driver":
			preds = append(preds, func(v volume.Volume, _ bool) bool { return slices.Contains(values, v.Driver) })
		case "label", "label!":
			want := key == "label"
			preds = append(preds, func(v volume.Volume, _ bool) bool { return storage.MatchLabels(v.Labels, values) == want })
		case "dangling":
			dangling, err := filterBool(key, values)
			if err != nil {
				return nil, false, err
			}
			needRefs = true
			preds = append(preds, func(_ volume.Volume, used bool) bool { return used != dangling })
		default:
			return nil, false, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter '%s'", key))
		}
	}
	return func(v volume.Volume, used bool) bool {
		for _, p := range preds {
			if !p(v, used) {
				return false
			}
		}
		return true
	}, needRefs, nil
}

// volumePruneFilter compiles volume prune's filters: all, label, label!.
func volumePruneFilter(f map[string][]string) (all bool, match func(labels map[string]string) bool, err error) {
	var preds []func(map[string]string) bool
	for key, values := range f {
		values := values
		switch key {
		case "all":
			if all, err = filterBool(key, values); err != nil {
				return false, nil, err
			}
		case "label", "label!":
			want := key == "label"
			preds = append(preds, func(labels map[string]string) bool { return storage.MatchLabels(labels, values) == want })
		default:
			return false, nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter '%s'", key))
		}
	}
	return all, func(labels map[string]string) bool {
		for _, p := range preds {
			if !p(labels) {
				return false
			}
		}
		return true
	}, nil
}

// filterBool reads a true/false filter (1/0 too), as docker does.
func filterBool(key string, values []string) (bool, error) {
	if len(values) == 1 {
		switch strings.ToLower(values[0]) {
		case "true", "1":
			return true, nil
		case "false", "0":
			return false, nil
		}
	}
	return false, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter '%s=%s'", key, strings.Join(values, ",")))
}

// newVolumeName is a random 64-hex name, as docker gives anonymous
// volumes, never all digits in its short form.
func newVolumeName() string {
	for {
		if id := newID(); strings.Trim(id[:12], "0123456789") != "" {
			return id
		}
	}
}
