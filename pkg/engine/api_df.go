package engine

import (
	"context"
	"io/fs"
	"path/filepath"

	"github.com/moby/moby/api/types/volume"
)

// VolumeDiskUsage lists every volume with docker's UsageData, as the
// volume part of docker's /system/df: the space its data takes and how
// many containers use it. Files the user cannot read (a container's
// private directories) are left out of the size rather than failing.
func (e *Engine) VolumeDiskUsage(ctx context.Context) ([]volume.Volume, error) {
	records, err := e.loadVolumes()
	if err != nil {
		return nil, err
	}
	users, err := e.volumeUsers()
	if err != nil {
		return nil, err
	}
	out := make([]volume.Volume, 0, len(records))
	for _, v := range records {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		av := e.apiVolume(v)
		av.UsageData = &volume.UsageData{
			Size:     treeSize(e.volumeDataPath(v.Name)),
			RefCount: int64(len(users[v.Name])),
		}
		out = append(out, av)
	}
	return out, nil
}

// treeSize adds up the apparent sizes of the regular files under dir.
func treeSize(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable: skip it
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				total += fi.Size()
			}
		}
		return nil
	})
	return total
}
