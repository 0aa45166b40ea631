package apisvc

import (
	"net/http"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/api/types/volume"

	"github.com/rrun/rrun/pkg/engine"
)

func (s *Server) systemDfRoutes() []route {
	return []route{
		{"GET", "/system/df", s.systemDf},
	}
}

// dfTypeVersion is the API version whose /system/df answers with the
// per-type usage (ImageUsage, ContainerUsage, …); 1.52 answers with both
// shapes, and from 1.53 on the legacy fields are gone (moby's API
// CHANGELOG).
const (
	dfTypeVersion     = "1.52"
	dfNoLegacyVersion = "1.53"
)

// legacyDiskUsage is /system/df's answer before API 1.52, the shape the
// docker CLI up to 28 reads: flat lists it does its own sums over.
type legacyDiskUsage struct {
	LayersSize int64               `json:"LayersSize,omitempty"`
	Images     []image.Summary     `json:"Images"`
	Containers []container.Summary `json:"Containers"`
	Volumes    []volume.Volume     `json:"Volumes"`
	BuildCache []build.CacheRecord `json:"BuildCache"`
}

// bothDiskUsage is API 1.52's answer: the legacy fields and the new ones.
type bothDiskUsage struct {
	legacyDiskUsage
	system.DiskUsage
}

// dfData is what /system/df reports, gathered once for either shape.
type dfData struct {
	images     *image.DiskUsage
	containers *container.DiskUsage
	volumes    *volume.DiskUsage
	buildCache *build.DiskUsage
}

// dfTypes reads the type= parameters (API 1.42): which object types to
// report; none means all of them.
func dfTypes(r *http.Request) (map[system.DiskUsageObject]bool, error) {
	want := map[system.DiskUsageObject]bool{}
	for _, t := range r.URL.Query()["type"] {
		switch o := system.DiskUsageObject(t); o {
		case system.ContainerObject, system.ImageObject, system.VolumeObject, system.BuildCacheObject:
			want[o] = true
		default:
			return nil, invalid("unknown object type: " + t)
		}
	}
	if len(want) == 0 {
		for _, o := range []system.DiskUsageObject{system.ContainerObject, system.ImageObject, system.VolumeObject, system.BuildCacheObject} {
			want[o] = true
		}
	}
	return want, nil
}

func (s *Server) systemDf(w http.ResponseWriter, r *http.Request) error {
	want, err := dfTypes(r)
	if err != nil {
		return err
	}
	var d dfData
	ctx := r.Context()
	if want[system.ImageObject] {
		if d.images, err = s.eng.Images.ImageDiskUsage(ctx); err != nil {
			return err
		}
	}
	if want[system.ContainerObject] {
		list, err := s.eng.List(ctx, engine.ListOptions{All: true, Size: true})
		if err != nil {
			return err
		}
		d.containers = containerUsage(list)
	}
	if want[system.VolumeObject] {
		list, err := s.eng.VolumeDiskUsage(ctx)
		if err != nil {
			return err
		}
		d.volumes = volumeUsage(list)
	}
	if want[system.BuildCacheObject] {
		d.buildCache = &build.DiskUsage{Items: []build.CacheRecord{}}
	}
	return writeJSON(w, http.StatusOK, dfResponse(requestVersion(r), boolValue(r, "verbose"), d))
}

// containerUsage sums the containers' writable layers; those that run
// are active, the others' space is reclaimable.
func containerUsage(list []container.Summary) *container.DiskUsage {
	du := &container.DiskUsage{Items: list, TotalCount: int64(len(list))}
	for _, c := range list {
		du.TotalSize += c.SizeRw
		if c.State == container.StateRunning || c.State == container.StatePaused || c.State == container.StateRestarting {
			du.ActiveCount++
		} else {
			du.Reclaimable += c.SizeRw
		}
	}
	return du
}

// volumeUsage sums the volumes' sizes; those no container uses are
// reclaimable.
func volumeUsage(list []volume.Volume) *volume.DiskUsage {
	du := &volume.DiskUsage{Items: list, TotalCount: int64(len(list))}
	for _, v := range list {
		if v.UsageData == nil {
			continue
		}
		du.TotalSize += v.UsageData.Size
		if v.UsageData.RefCount > 0 {
			du.ActiveCount++
		} else {
			du.Reclaimable += v.UsageData.Size
		}
	}
	return du
}

// dfResponse shapes the answer for the client's API version: the legacy
// lists below 1.52, both shapes at 1.52 (the legacy fields only when not
// verbose), the per-type usage alone from 1.53 on; the per-type usage
// lists its items only when verbose.
func dfResponse(version string, verbose bool, d dfData) any {
	if compareVersions(version, dfTypeVersion) < 0 {
		return legacyShape(d)
	}
	typed := typedShape(d, verbose)
	if compareVersions(version, dfNoLegacyVersion) < 0 && !verbose {
		return bothDiskUsage{legacyDiskUsage: legacyShape(d), DiskUsage: typed}
	}
	return typed
}

func legacyShape(d dfData) legacyDiskUsage {
	var out legacyDiskUsage
	if d.images != nil {
		out.LayersSize = d.images.TotalSize
		out.Images = orEmpty(d.images.Items)
	}
	if d.containers != nil {
		out.Containers = orEmpty(d.containers.Items)
	}
	if d.volumes != nil {
		out.Volumes = orEmpty(d.volumes.Items)
	}
	if d.buildCache != nil {
		out.BuildCache = orEmpty(d.buildCache.Items)
	}
	return out
}

func typedShape(d dfData, verbose bool) system.DiskUsage {
	var out system.DiskUsage
	if d.images != nil {
		u := *d.images
		if !verbose {
			u.Items = nil
		}
		out.ImageUsage = &u
	}
	if d.containers != nil {
		u := *d.containers
		if !verbose {
			u.Items = nil
		}
		out.ContainerUsage = &u
	}
	if d.volumes != nil {
		u := *d.volumes
		if !verbose {
			u.Items = nil
		}
		out.VolumeUsage = &u
	}
	if d.buildCache != nil {
		u := *d.buildCache
		if !verbose {
			u.Items = nil
		}
		out.BuildCacheUsage = &u
	}
	return out
}

// orEmpty makes a nil list an empty one, so it is [] in JSON.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
