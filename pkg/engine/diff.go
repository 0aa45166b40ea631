package engine

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/container"
	"go.podman.io/storage/pkg/archive"
)

// initPaths are the mount points the runtime creates in a container's
// root filesystem for the files and filesystems it mounts there. Docker
// makes them in a separate "init" layer under the container's, so its
// diff never shows them; rrun leaves them out of the diff instead.
var initPaths = map[string]bool{
	"/.dockerenv":        true,
	"/dev/console":       true,
	"/dev/pts":           true,
	"/dev/shm":           true,
	"/etc/hostname":      true,
	"/etc/hosts":         true,
	"/etc/mtab":          true,
	"/etc/resolv.conf":   true,
	"/proc":              true,
	"/sys":               true,
	"/sys/fs/cgroup":     true,
	"/dev/mqueue":        true,
	"/run/.containerenv": true,
}

// Changes lists what a container changed in its filesystem, docker's GET
// /containers/{id}/changes: files and directories added (A), changed (C)
// or deleted (D) in its layer, sorted by path. Volumes and other mounts
// are not part of the layer.
func (e *Engine) Changes(ctx context.Context, name string) ([]container.FilesystemChange, error) {
	c, err := e.lookupContainer(name)
	if err != nil {
		return nil, err
	}
	sc, err := e.Images.Containers().Container(c.ID)
	if err != nil {
		return nil, fmt.Errorf("looking up the layer of container %s: %w", c.Name, err)
	}
	changes, err := e.Images.Containers().Changes("", sc.LayerID)
	if err != nil {
		return nil, fmt.Errorf("listing the changes of container %s: %w", c.Name, err)
	}
	return filesystemChanges(changes), nil
}

// filesystemChanges turns the store's changes into docker's, without the
// runtime's mount points: a directory that shows as changed only because
// one was created in it is left out too.
func filesystemChanges(changes []archive.Change) []container.FilesystemChange {
	out := []container.FilesystemChange{}
	hidden := map[string]bool{} // directories of left-out mount points
	for _, ch := range changes {
		if initPaths[ch.Path] {
			for dir := path.Dir(ch.Path); dir != "/"; dir = path.Dir(dir) {
				hidden[dir] = true
			}
			continue
		}
		var kind container.ChangeType
		switch ch.Kind {
		case archive.ChangeAdd:
			kind = container.ChangeAdd
		case archive.ChangeDelete:
			kind = container.ChangeDelete
		default:
			kind = container.ChangeModify
		}
		out = append(out, container.FilesystemChange{Kind: kind, Path: ch.Path})
	}
	out = slices.DeleteFunc(out, func(ch container.FilesystemChange) bool {
		if ch.Kind != container.ChangeModify || !hidden[ch.Path] {
			return false
		}
		// Changed because a mount point was made in it, unless something
		// else under it changed too.
		return !slices.ContainsFunc(out, func(o container.FilesystemChange) bool {
			return strings.HasPrefix(o.Path, ch.Path+"/")
		})
	})
	slices.SortFunc(out, func(a, b container.FilesystemChange) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// hiddenChanges are the paths of changes that filesystemChanges leaves out.
func hiddenChanges(changes []archive.Change) []string {
	shown := map[string]bool{}
	for _, ch := range filesystemChanges(changes) {
		shown[ch.Path] = true
	}
	var out []string
	for _, ch := range changes {
		if !shown[ch.Path] {
			out = append(out, ch.Path)
		}
	}
	return out
}
