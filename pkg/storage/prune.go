package storage

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"
)

// PruneOptions choose what Prune removes.
type PruneOptions struct {
	// All removes every image no container uses, not only dangling
	// (untagged) ones: docker image prune -a.
	All bool
	// Filters are docker's prune filters: until=<time>, label=<key>[=<value>],
	// label!=<key>[=<value>], and dangling=true|false (false is All).
	Filters Filters
}

// Prune removes unused images as docker image prune does and reports what
// went and how much space that freed.
func (s *Store) Prune(ctx context.Context, opts PruneOptions) (*image.PruneReport, error) {
	match, all, err := pruneFilter(opts.Filters, opts.All, time.Now())
	if err != nil {
		return nil, err
	}
	records, err := s.records()
	if err != nil {
		return nil, err
	}
	used, err := s.usedImages()
	if err != nil {
		return nil, err
	}
	layerSizes, err := s.allLayerSizes()
	if err != nil {
		return nil, err
	}
	report := &image.PruneReport{ImagesDeleted: []image.DeleteResponse{}}
	for _, r := range records {
		if used[r.img.ID] || !all && len(r.img.Names) > 0 || !match(r) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return report, err
		}
		resp, err := s.Remove(ctx, r.img.ID, RemoveOptions{Force: true})
		if err != nil {
			return report, fmt.Errorf("pruning image %s: %w", shortID(r.img.ID), err)
		}
		report.ImagesDeleted = append(report.ImagesDeleted, resp...)
		for _, d := range resp {
			// Remove reports the image and each layer it deleted.
			report.SpaceReclaimed += uint64(layerSizes[strings.TrimPrefix(d.Deleted, "sha256:")])
		}
	}
	s.imageEvent(events.ActionPrune, "", "", map[string]string{"reclaimed": strconv.FormatUint(report.SpaceReclaimed, 10)})
	return report, nil
}

// usedImages are the images containers are built on.
func (s *Store) usedImages() (map[string]bool, error) {
	cs, err := s.cs.Containers()
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	used := map[string]bool{}
	for _, c := range cs {
		used[c.ImageID] = true
	}
	return used, nil
}

// allLayerSizes maps every layer to its unpacked size.
func (s *Store) allLayerSizes() (map[string]int64, error) {
	layers, err := s.cs.Layers()
	if err != nil {
		return nil, fmt.Errorf("listing layers: %w", err)
	}
	sizes := make(map[string]int64, len(layers))
	for _, l := range layers {
		sizes[l.ID] = max(l.UncompressedSize, 0)
	}
	return sizes, nil
}

// pruneFilter compiles prune's filters; all says whether tagged images
// are candidates too.
func pruneFilter(f Filters, all bool, now time.Time) (match func(*imageRecord) bool, pruneAll bool, err error) {
	var preds []func(*imageRecord) bool
	for key, values := range f {
		switch key {
		case "dangling":
			dangling, err := boolFilter(key, values)
			if err != nil {
				return nil, false, err
			}
			all = !dangling
		case "until":
			if len(values) != 1 {
				return nil, false, errdefs.ErrInvalidArgument.WithMessage("filter until takes one value")
			}
			until, err := ParseTimestamp(values[0], now)
			if err != nil {
				return nil, false, err
			}
			preds = append(preds, func(r *imageRecord) bool { return r.created().Before(until) })
		case "label", "label!":
			want := key == "label"
			preds = append(preds, func(r *imageRecord) bool {
				for _, v := range values {
					if hasLabel(r.config.Config.Labels, v) != want {
						return false
					}
				}
				return true
			})
		default:
			return nil, false, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter '%s'", key))
		}
	}
	return func(r *imageRecord) bool {
		for _, p := range preds {
			if !p(r) {
				return false
			}
		}
		return true
	}, all, nil
}

// hasLabel matches key or key=value against labels.
func hasLabel(labels map[string]string, filter string) bool {
	k, want, hasValue := strings.Cut(filter, "=")
	got, ok := labels[k]
	return ok && (!hasValue || got == want)
}

// ParseTimestamp reads docker's time filter values: a duration before now
// ("24h", "90m"), Unix seconds ("1700000000", "1700000000.5"), or an
// RFC 3339 date or date-time, local time when no zone is given.
func ParseTimestamp(value string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(value); err == nil {
		return now.Add(-d), nil
	}
	if secs, err := strconv.ParseFloat(value, 64); err == nil && !strings.ContainsAny(value, "eE") {
		whole := int64(secs)
		return time.Unix(whole, int64((secs-float64(whole))*1e9)), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		loc := time.Local
		if t, err := time.ParseInLocation(layout, value, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter 'until=%s': want a duration (24h), Unix seconds or a date (2006-01-02T15:04:05)", value))
}
