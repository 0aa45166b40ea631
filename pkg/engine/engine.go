// Package engine is the one place that knows how images and containers
// live. The CLI (cmd/) and the Engine API server (pkg/apisvc/) are two
// thin faces of it: whatever both need is written here once.
package engine

import (
	"fmt"

	"github.com/rrun/rrun/pkg/storage"
)

// Options configure an engine. The zero value means all defaults.
type Options struct {
	Root          string       `json:"root"`          // storage root; default DefaultRoot()
	RunRoot       string       `json:"runRoot"`       // run-time state; default DefaultRunRoot()
	StorageDriver string       `json:"storageDriver"` // overlay, fuse-overlayfs, vfs or "" to choose
	StorageOpts   []string     `json:"storageOpts"`   // extra containers/storage driver options
	Warn          func(string) `json:"-"`             // user-facing warnings
}

// Complete fills in the default paths.
func (o *Options) Complete() error {
	if o.Root == "" {
		root, err := DefaultRoot()
		if err != nil {
			return err
		}
		o.Root = root
	}
	if o.RunRoot == "" {
		o.RunRoot = DefaultRunRoot()
	}
	return nil
}

// PrepareRunRoot creates the run-time directory, private to the user.
// It must happen before the namespaces are looked up there.
func (o *Options) PrepareRunRoot() error { return ensurePrivateDir(o.RunRoot) }

// Engine is an open view of the user's images (and, later, containers).
type Engine struct {
	opts   Options
	Images *storage.Store
}

// Open opens the engine's stores. It must run inside the user's rootless
// namespaces (see rootless.Enter).
func Open(opts Options) (*Engine, error) {
	if err := opts.Complete(); err != nil {
		return nil, err
	}
	if err := opts.PrepareRunRoot(); err != nil {
		return nil, err
	}
	e := &Engine{opts: opts}
	if err := e.openStore(); err != nil {
		return nil, err
	}
	return e, nil
}

// RunRoot is where the engine keeps run-time state (and the API socket).
func (e *Engine) RunRoot() string { return e.opts.RunRoot }

// Close releases the stores; it may be called more than once.
func (e *Engine) Close() error {
	if e.Images == nil {
		return nil
	}
	err := e.Images.Close()
	e.Images = nil
	return err
}

// openStore opens the image store unless it is open.
func (e *Engine) openStore() error {
	if e.Images != nil {
		return nil
	}
	store, err := storage.Open(storage.Options{
		GraphRoot:     e.opts.Root,
		RunRoot:       e.opts.RunRoot,
		Driver:        e.opts.StorageDriver,
		DriverOptions: e.opts.StorageOpts,
		Warn:          e.opts.Warn,
		Events:        e.emit, // image events, beside the containers'
	})
	if err != nil {
		return fmt.Errorf("opening storage: %w", err)
	}
	e.Images = store
	return nil
}
