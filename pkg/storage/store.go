package storage

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/moby/moby/api/types/events"
	"github.com/sirupsen/logrus"
	cstorage "go.podman.io/storage"
	"go.podman.io/storage/types"
)

// Options says where the store lives and how to open it.
type Options struct {
	GraphRoot string // images, layers and container root filesystems
	RunRoot   string // mount state, cleared by a reboot
	// Driver is overlay, fuse-overlayfs or vfs; empty means the one the
	// store was created with, else storage.conf's, else the best that works.
	Driver        string
	DriverOptions []string // extra containers/storage driver options
	// Warn receives warnings meant for the user, such as the cost of vfs.
	Warn func(string)
	// Events receives docker's image events (pull, push, tag, untag,
	// delete, import, load, save); nil drops them.
	Events func(events.Message)
}

// Store is the user's image and layer store.
type Store struct {
	cs     cstorage.Store
	driver driverChoice
	events func(events.Message) // Options.Events
	// Warning explains a poor driver choice; empty when all is well.
	Warning string
}

// Open opens (creating if needed) the store, choosing its driver as
// Options.Driver explains and remembering the choice in the graph root.
func Open(opts Options) (*Store, error) {
	conf, err := types.LoadStoreOptions(types.LoadOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading storage.conf: %w", err)
	}
	requested := opts.Driver
	if requested == "" {
		requested = conf.GraphDriverName
	}
	mountProgram, confOptions := splitMountProgram(conf.GraphDriverOptions)
	if requested == DriverVFS {
		mountProgram = ""
	}
	if err := os.MkdirAll(opts.GraphRoot, 0o700); err != nil {
		return nil, fmt.Errorf("creating storage directory: %w", err)
	}
	recorded, err := readDriverRecord(opts.GraphRoot)
	if err != nil {
		return nil, err
	}
	candidates, err := driverCandidates(requested, mountProgram, recorded)
	if err != nil {
		return nil, err
	}

	var failures []string
	for _, d := range candidates {
		cs, err := cstorage.GetStore(types.StoreOptions{
			GraphRoot:          opts.GraphRoot,
			RunRoot:            opts.RunRoot,
			GraphDriverName:    d.graphDriver(),
			GraphDriverOptions: append(append(d.options(), confOptions...), opts.DriverOptions...),
		})
		if err != nil {
			logrus.Debugf("storage driver %s: %v", d.Name, err)
			failures = append(failures, fmt.Sprintf("%s: %v", d.Name, err))
			continue
		}
		s := &Store{cs: cs, driver: d, events: opts.Events}
		if recorded == nil {
			if err := writeDriverRecord(opts.GraphRoot, d); err != nil {
				_, _ = cs.Shutdown(false)
				return nil, fmt.Errorf("recording the storage driver: %w", err)
			}
			if d.Name == DriverVFS && len(candidates) > 1 {
				s.Warning = vfsWarning
				if opts.Warn != nil {
					opts.Warn(vfsWarning)
				}
			}
		}
		return s, nil
	}
	return nil, fmt.Errorf("no storage driver works in %s:\n  %s", opts.GraphRoot, strings.Join(failures, "\n  "))
}

// splitMountProgram takes storage.conf's mount_program out of its driver
// options: it decides between native overlay and fuse-overlayfs.
func splitMountProgram(options []string) (string, []string) {
	var prog string
	var rest []string
	for _, o := range options {
		key, value, _ := strings.Cut(o, "=")
		if key == "mount_program" || key == "overlay.mount_program" || key == "overlay2.mount_program" {
			prog = value
			continue
		}
		rest = append(rest, o)
	}
	return prog, rest
}

// Close releases the store; mounts made by running containers stay.
func (s *Store) Close() error {
	_, err := s.cs.Shutdown(false)
	if errors.Is(err, cstorage.ErrLayerUsedByContainer) {
		return nil
	}
	return err
}

// Driver names the driver in use: overlay, fuse-overlayfs or vfs.
func (s *Store) Driver() string { return s.driver.Name }

// GraphRoot and RunRoot are the store's directories.
func (s *Store) GraphRoot() string { return s.cs.GraphRoot() }
func (s *Store) RunRoot() string   { return s.cs.RunRoot() }

// DriverStatus is the driver's own report, as pairs for `rrun info`.
func (s *Store) DriverStatus() [][2]string {
	status, err := s.cs.Status()
	if err != nil {
		return [][2]string{{"Error", err.Error()}}
	}
	return status
}

// Containers exposes the underlying store to the container engine, which
// keeps container root filesystems in it.
func (s *Store) Containers() cstorage.Store { return s.cs }
