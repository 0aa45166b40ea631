package engine

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/volume"
	"github.com/moby/sys/mountinfo"
	"github.com/sirupsen/logrus"
	"go.podman.io/storage/pkg/directory"
	"go.podman.io/storage/pkg/mount"
	"golang.org/x/sys/unix"
)

// Volumes live as with docker's local driver: <root>/volumes/NAME/_data
// holds the data, NAME/volume.json rrun's record of the volume. A volume
// whose options ask for a tmpfs gets one mounted at _data, in rrun's
// mount namespace, when a container first needs it; one that binds a host
// directory (type=none,o=bind,device=DIR) is that directory.

const (
	volumeDataDir    = "_data"
	volumeRecordFile = "volume.json"
	localDriver      = "local"
	// anonymousLabel marks anonymous volumes, as docker ≥ 23 does: volume
	// prune removes only those unless asked for all.
	anonymousLabel = "com.docker.volume.anonymous"
)

// validVolumeName is docker's rule for volume names.
var validVolumeName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// volumeRecord is what rrun keeps about a volume, volume.json.
type volumeRecord struct {
	Name      string            `json:"name"`
	Driver    string            `json:"driver"`            // always "local"
	Labels    map[string]string `json:"labels,omitempty"`  // the user's
	Options   map[string]string `json:"options,omitempty"` // the local driver's: type, device, o
	CreatedAt time.Time         `json:"createdAt"`
	// Anonymous volumes were named by rrun for a container (-v /dst, an
	// image's VOLUME) or created without a name.
	Anonymous bool `json:"anonymous,omitempty"`
}

// volumesDir holds named volumes, beside the storage so they survive with it.
func (e *Engine) volumesDir() string { return filepath.Join(e.opts.Root, "volumes") }

func (e *Engine) volumeDir(name string) string { return filepath.Join(e.volumesDir(), name) }

// volumeDataPath is a volume's Mountpoint, as docker inspect shows it.
func (e *Engine) volumeDataPath(name string) string {
	return filepath.Join(e.volumeDir(name), volumeDataDir)
}

// lockVolumes serialises creating and removing volumes between rrun's
// processes; the returned function releases the lock.
func (e *Engine) lockVolumes() (func(), error) {
	if err := os.MkdirAll(e.volumesDir(), 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", e.volumesDir(), err)
	}
	// A dot file: no volume can have that name.
	f, err := os.OpenFile(filepath.Join(e.volumesDir(), ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking volumes: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking volumes: %w", err)
	}
	return func() { f.Close() }, nil
}

func noSuchVolume(name string) error {
	return errdefs.ErrNotFound.WithMessage(fmt.Sprintf("get %s: no such volume", name))
}

// loadVolume reads a volume's record. A volume directory without one (made
// by an older rrun) reads as a plain local volume.
func (e *Engine) loadVolume(name string) (*volumeRecord, error) {
	if !validVolumeName.MatchString(name) {
		return nil, noSuchVolume(name)
	}
	var v volumeRecord
	err := readJSON(filepath.Join(e.volumeDir(name), volumeRecordFile), &v)
	switch {
	case err == nil:
		v.Name = name
		return &v, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("reading volume %s: %w", name, err)
	}
	st, err := os.Stat(e.volumeDataPath(name))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, noSuchVolume(name)
		}
		return nil, fmt.Errorf("volume %s: %w", name, err)
	}
	return &volumeRecord{Name: name, Driver: localDriver, CreatedAt: st.ModTime().UTC()}, nil
}

// loadVolumes reads every volume, sorted by name.
func (e *Engine) loadVolumes() ([]*volumeRecord, error) {
	entries, err := os.ReadDir(e.volumesDir())
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("listing volumes: %w", err)
	}
	var out []*volumeRecord
	for _, de := range entries {
		if !de.IsDir() || !validVolumeName.MatchString(de.Name()) {
			continue
		}
		v, err := e.loadVolume(de.Name())
		if errdefs.IsNotFound(err) {
			continue // half made or half removed
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil // ReadDir sorts by name
}

// createVolume creates a volume unless one of that name exists, which it
// returns as it is (docker's create is idempotent the same way); created
// says which happened.
func (e *Engine) createVolume(req volume.CreateRequest, anonymous bool) (v *volumeRecord, created bool, err error) {
	if req.Driver != "" && req.Driver != localDriver {
		return nil, false, errdefs.ErrNotImplemented.WithMessage(fmt.Sprintf("create %s: volume driver %q is not supported: rrun has only the local driver", req.Name, req.Driver))
	}
	if !validVolumeName.MatchString(req.Name) {
		return nil, false, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("create %s: %q includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path", req.Name, req.Name))
	}
	if _, err := parseLocalOptions(req.DriverOpts); err != nil {
		return nil, false, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("create %s: %v", req.Name, err))
	}
	unlock, err := e.lockVolumes()
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	if v, err := e.loadVolume(req.Name); !errdefs.IsNotFound(err) {
		return v, false, err
	}
	v = &volumeRecord{
		Name:      req.Name,
		Driver:    localDriver,
		Labels:    maps.Clone(req.Labels),
		Options:   maps.Clone(req.DriverOpts),
		CreatedAt: time.Now().UTC(),
		Anonymous: anonymous,
	}
	if _, ok := v.Labels[anonymousLabel]; ok {
		delete(v.Labels, anonymousLabel)
		v.Anonymous = true
	}
	if err := os.MkdirAll(e.volumeDataPath(v.Name), 0o755); err != nil {
		return nil, false, fmt.Errorf("creating volume %s: %w", v.Name, err)
	}
	if err := writeJSON(filepath.Join(e.volumeDir(v.Name), volumeRecordFile), v); err != nil {
		_ = os.RemoveAll(e.volumeDir(v.Name))
		return nil, false, fmt.Errorf("recording volume %s: %w", v.Name, err)
	}
	e.emit(volumeEvent(events.ActionCreate, v.Name))
	return v, true, nil
}

// deleteVolume removes a volume and its data, and returns the space that
// freed. A tmpfs is unmounted first; a bound host directory is left alone.
// The caller holds the volumes lock and has checked that no container
// uses the volume.
func (e *Engine) deleteVolume(v *volumeRecord) (int64, error) {
	data := e.volumeDataPath(v.Name)
	if mounted, _ := mountinfo.Mounted(data); mounted {
		if err := unix.Unmount(data, unix.MNT_DETACH); err != nil {
			return 0, fmt.Errorf("remove %s: unmounting %s: %w", v.Name, data, err)
		}
	}
	if mounted, _ := mountinfo.Mounted(data); mounted {
		return 0, fmt.Errorf("remove %s: %s is still a mount point", v.Name, data)
	}
	size, _ := directory.Size(data)
	if err := os.RemoveAll(e.volumeDir(v.Name)); err != nil {
		return 0, fmt.Errorf("remove %s: %w", v.Name, err)
	}
	e.emit(volumeEvent(events.ActionDestroy, v.Name))
	return size, nil
}

// volumeEvent is docker's event for a volume action.
func volumeEvent(action events.Action, name string) events.Message {
	return events.Message{
		Type:   events.VolumeEventType,
		Action: action,
		Actor:  events.Actor{ID: name, Attributes: map[string]string{"driver": localDriver}},
	}
}

// apiVolume is docker's view of a volume.
func (e *Engine) apiVolume(v *volumeRecord) volume.Volume {
	labels := maps.Clone(v.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	if v.Anonymous {
		labels[anonymousLabel] = ""
	}
	opts := maps.Clone(v.Options)
	if opts == nil {
		opts = map[string]string{}
	}
	return volume.Volume{
		CreatedAt:  v.CreatedAt.Local().Format(time.RFC3339),
		Driver:     localDriver,
		Labels:     labels,
		Mountpoint: e.volumeDataPath(v.Name),
		Name:       v.Name,
		Options:    opts,
		Scope:      "local",
	}
}

// localMount is how a local volume is mounted, from its options.
type localMount struct {
	tmpfs   bool   // a tmpfs mounted at _data
	tmpfsO  string // its mount options (o=size=…,mode=…)
	bindDir string // a host directory used in place of _data
}

// errLocalOptions is the message for local driver options rrun cannot honour.
const errLocalOptions = "rrun's local driver supports type=tmpfs and bind (o=bind,device=…)"

// parseLocalOptions checks a local volume's options as docker's local
// driver does (the same keys, the same required pairs) and accepts what a
// rootless user can mount: a tmpfs, or a bind of a host directory.
func parseLocalOptions(opts map[string]string) (localMount, error) {
	var lm localMount
	if len(opts) == 0 {
		return lm, nil
	}
	for k := range opts {
		switch k {
		case "type", "device", "o":
		case "size":
			return lm, fmt.Errorf("option \"size\" needs XFS project quotas: %s", errLocalOptions)
		default:
			return lm, fmt.Errorf("invalid option: %q", k)
		}
	}
	// docker's mandatory pairs: device and type go together, o needs both.
	for opt, needs := range map[string][]string{"device": {"type"}, "type": {"device"}, "o": {"device", "type"}} {
		if _, ok := opts[opt]; !ok {
			continue
		}
		for _, n := range needs {
			if _, ok := opts[n]; !ok {
				return lm, fmt.Errorf("missing required option: %q", n)
			}
		}
	}
	o := opts["o"]
	switch typ := opts["type"]; {
	case typ == "tmpfs":
		if _, data := mount.ParseOptions(o); data != "" {
			for _, kv := range strings.Split(data, ",") {
				if k, _, _ := strings.Cut(kv, "="); !tmpfsData[k] {
					return lm, fmt.Errorf("invalid tmpfs option %q", kv)
				}
			}
		}
		lm.tmpfs, lm.tmpfsO = true, o
	case (typ == "none" || typ == "bind") && isBindOption(o):
		dev := opts["device"]
		if !filepath.IsAbs(dev) {
			return lm, fmt.Errorf("bind device %q: must be an absolute path", dev)
		}
		lm.bindDir = filepath.Clean(dev)
	default:
		return lm, errors.New(errLocalOptions)
	}
	return lm, nil
}

// tmpfsData are the key=value options tmpfs takes.
var tmpfsData = map[string]bool{
	"size": true, "mode": true, "uid": true, "gid": true, "nr_inodes": true, "nr_blocks": true, "mpol": true,
}

// isBindOption reports whether o is "bind" or "rbind", the only mount
// options a bound host directory may have here.
func isBindOption(o string) bool {
	return o == "bind" || o == "rbind"
}

// volumePath returns the host directory to mount for a volume, creating
// the volume when it does not exist yet (as `docker run -v name:/dst`
// does) and mounting its tmpfs when it has one.
func (e *Engine) volumePath(name string) (string, error) {
	v, err := e.loadVolume(name)
	if errdefs.IsNotFound(err) {
		v, _, err = e.createVolume(volume.CreateRequest{Name: name}, false)
	}
	if err != nil {
		return "", err
	}
	return e.mountVolume(v)
}

// mountVolume readies a volume for containers and returns its directory.
func (e *Engine) mountVolume(v *volumeRecord) (string, error) {
	lm, err := parseLocalOptions(v.Options)
	if err != nil {
		return "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("volume %s: %v", v.Name, err))
	}
	if lm.bindDir != "" {
		st, err := os.Stat(lm.bindDir)
		if err != nil {
			return "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("volume %s: bind device: %v", v.Name, err))
		}
		if !st.IsDir() {
			return "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("volume %s: bind device %s is not a directory", v.Name, lm.bindDir))
		}
		return lm.bindDir, nil
	}
	data := e.volumeDataPath(v.Name)
	if err := os.MkdirAll(data, 0o755); err != nil {
		return "", fmt.Errorf("volume %s: %w", v.Name, err)
	}
	if !lm.tmpfs {
		return data, nil
	}
	// The tmpfs lives in rrun's mount namespace, shared by the containers
	// that use the volume, until the volume is removed or the namespace
	// ends (a reboot).
	if mounted, err := mountinfo.Mounted(data); err != nil || mounted {
		return data, err
	}
	if err := mount.Mount("tmpfs", data, "tmpfs", lm.tmpfsO); err != nil {
		return "", fmt.Errorf("volume %s: mounting its tmpfs: %w", v.Name, err)
	}
	logrus.Debugf("volume %s: tmpfs mounted at %s", v.Name, data)
	return data, nil
}

// volumeRefs maps each volume name to the ids of the containers that use
// it, in the order given.
func volumeRefs(cs []*Container) map[string][]string {
	refs := map[string][]string{}
	for _, c := range cs {
		for _, name := range containerVolumeNames(c) {
			if ids := refs[name]; len(ids) == 0 || ids[len(ids)-1] != c.ID {
				refs[name] = append(refs[name], c.ID)
			}
		}
	}
	return refs
}

// volumeUsers is volumeRefs over every container.
func (e *Engine) volumeUsers() (map[string][]string, error) {
	scs, err := e.Images.Containers().Containers()
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	var cs []*Container
	for _, sc := range scs {
		if c, err := e.loadContainer(sc.ID); err == nil {
			cs = append(cs, c)
		}
	}
	return volumeRefs(cs), nil
}

// inUse is docker's conflict for removing a volume containers use.
func inUse(name string, ids []string) error {
	return errdefs.ErrConflict.WithMessage(fmt.Sprintf("remove %s: volume is in use - [%s]", name, strings.Join(ids, ", ")))
}
