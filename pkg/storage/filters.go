package storage

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
	"go.podman.io/image/v5/docker/reference"
)

// Filters are docker's --filter key=value pairs, grouped by key. Values
// of one key widen the match (any may match), except label, whose values
// must all match; different keys narrow it.
type Filters map[string][]string

// ParseFilters reads --filter arguments of the form key=value.
func ParseFilters(args []string) (Filters, error) {
	f := Filters{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("bad format of filter %q (expected name=value)", a))
		}
		f[strings.ToLower(k)] = append(f[strings.ToLower(k)], v)
	}
	return f, nil
}

// imageFilter compiles filters into a predicate, resolving before/since
// to the images they name.
func (s *Store) imageFilter(f Filters) (func(*imageRecord) bool, error) {
	var preds []func(*imageRecord) bool
	for key, values := range f {
		switch key {
		case "dangling":
			want, err := boolFilter(key, values)
			if err != nil {
				return nil, err
			}
			preds = append(preds, func(r *imageRecord) bool { return (len(r.img.Names) == 0) == want })
		case "label":
			preds = append(preds, func(r *imageRecord) bool { return MatchLabels(r.config.Config.Labels, values) })
		case "reference":
			for _, v := range values {
				if _, err := path.Match(v, ""); err != nil {
					return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid reference filter %q", v))
				}
			}
			preds = append(preds, func(r *imageRecord) bool {
				return slices.ContainsFunc(values, func(pattern string) bool { return matchesReference(r, pattern) })
			})
		case "before", "since":
			var bounds []*imageRecord
			for _, v := range values {
				rec, err := s.lookupRecord(v)
				if err != nil {
					return nil, err
				}
				bounds = append(bounds, rec)
			}
			before := key == "before"
			preds = append(preds, func(r *imageRecord) bool {
				for _, b := range bounds {
					if before && !r.created().Before(b.created()) || !before && !r.created().After(b.created()) {
						return false
					}
				}
				return true
			})
		default:
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter '%s'", key))
		}
	}
	return func(r *imageRecord) bool {
		for _, p := range preds {
			if !p(r) {
				return false
			}
		}
		return true
	}, nil
}

// MatchLabels reports whether labels have every key or key=value of
// filters: docker's label filter, for images, containers, volumes, events.
func MatchLabels(labels map[string]string, filters []string) bool {
	for _, f := range filters {
		if !hasLabel(labels, f) {
			return false
		}
	}
	return true
}

// matchesReference matches a pattern against an image's names, familiar
// (alpine:latest) and full, with and without the tag, as docker does.
func matchesReference(r *imageRecord, pattern string) bool {
	for _, n := range r.img.Names {
		named, err := reference.ParseNormalizedNamed(n)
		if err != nil {
			continue
		}
		for _, candidate := range []string{
			reference.FamiliarString(named), reference.FamiliarName(named),
			named.String(), named.Name(),
		} {
			if ok, _ := path.Match(pattern, candidate); ok {
				return true
			}
		}
	}
	return false
}

func boolFilter(key string, values []string) (bool, error) {
	if len(values) != 1 {
		return false, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("filter %s takes one value", key))
	}
	switch strings.ToLower(values[0]) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter '%s=%s': want true or false", key, values[0]))
}

func sortNewestFirst(records []*imageRecord) {
	slices.SortStableFunc(records, func(a, b *imageRecord) int {
		return b.created().Compare(a.created())
	})
}
