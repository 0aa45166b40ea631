package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	cstorage "go.podman.io/storage"
)

// CreateOptions are docker's create request.
type CreateOptions struct {
	Name       string // empty: a generated name
	Config     *container.Config
	HostConfig *container.HostConfig
	Network    *network.NetworkingConfig
}

// CreateResult is docker's create response.
type CreateResult struct {
	ID       string
	Warnings []string
}

// Create makes a container from a local image: its writable layer in the
// store and its record. A missing image is a not-found error, so that a
// client can pull and retry, as docker's CLI does.
func (e *Engine) Create(ctx context.Context, opts CreateOptions) (*CreateResult, error) {
	if opts.Config == nil || opts.Config.Image == "" {
		return nil, errdefs.ErrInvalidArgument.WithMessage("no image specified")
	}
	hc := opts.HostConfig
	if hc == nil {
		hc = &container.HostConfig{}
	}
	if hc.AutoRemove && hc.RestartPolicy.Name != "" && hc.RestartPolicy.Name != container.RestartPolicyDisabled {
		return nil, errdefs.ErrInvalidArgument.WithMessage("conflicting options: cannot specify both --restart and --rm")
	}
	if err := checkLogConfig(hc.LogConfig); err != nil {
		return nil, err
	}
	// dockerd records its default log driver on containers created without
	// one, and clients read it back (docker-py's containers.run collects
	// output only for json-file and journald).
	if hc.LogConfig.Type == "" {
		hc.LogConfig.Type = "json-file"
	}
	img, err := e.Images.ResolveImage(opts.Config.Image)
	if err != nil {
		return nil, err
	}
	cfg := *opts.Config
	mergeImageConfig(&cfg, &img.Config.Config)
	if len(cfg.Entrypoint) == 0 && len(cfg.Cmd) == 0 {
		return nil, errdefs.ErrInvalidArgument.WithMessage("no command specified")
	}

	name := opts.Name
	if name != "" {
		name = strings.TrimPrefix(name, "/")
		if err := checkName(name); err != nil {
			return nil, err
		}
	}
	id := newID()
	if name == "" {
		name = e.freeName()
	}
	var warnings []string
	if w := e.limitsWarning(hc); w != "" {
		warnings = append(warnings, w)
	}
	if hc.NetworkMode.IsContainer() && (len(hc.PortBindings) > 0 || hc.PublishAllPorts) {
		return nil, errdefs.ErrInvalidArgument.WithMessage("conflicting options: port publishing and the container type network mode")
	}
	if hc.NetworkMode.IsHost() && len(hc.PortBindings) > 0 {
		warnings = append(warnings, "Published ports are discarded when using host network mode")
	}

	// Rename checks and moves names under this lock (the store would
	// silently take a name from its holder); creating one does too.
	unlockNames, err := e.lockNames()
	if err != nil {
		return nil, err
	}
	_, err = e.Images.Containers().CreateContainer(id, []string{name}, strings.TrimPrefix(img.ID, "sha256:"), "", "", nil)
	unlockNames()
	if err != nil {
		if errors.Is(err, cstorage.ErrDuplicateName) {
			return nil, e.nameConflict(name)
		}
		return nil, fmt.Errorf("creating the container's storage: %w", err)
	}
	anonymous, removeVolumes, err := e.createContainerVolumes(&cfg, hc)
	if err != nil {
		_ = e.Images.Containers().DeleteContainer(id)
		return nil, err
	}
	c := &Container{
		ID:               id,
		Name:             name,
		Created:          time.Now().UTC(),
		ImageID:          img.ID,
		Config:           &cfg,
		HostConfig:       hc,
		Network:          opts.Network,
		AnonymousVolumes: anonymous,
	}
	if err := e.saveContainer(c); err != nil {
		_ = e.Images.Containers().DeleteContainer(id)
		removeVolumes()
		return nil, fmt.Errorf("recording container %s: %w", name, err)
	}
	if err := e.saveState(id, &State{Status: container.StateCreated}); err != nil {
		_ = e.Images.Containers().DeleteContainer(id)
		removeVolumes()
		return nil, err
	}
	e.emit(containerEvent("create", c))
	return &CreateResult{ID: id, Warnings: warnings}, nil
}

// nameConflict is docker's message for a name in use.
func (e *Engine) nameConflict(name string) error {
	holder := ""
	if sc, err := e.Images.Containers().Container(name); err == nil {
		holder = sc.ID
	}
	return errdefs.ErrConflict.WithMessage(fmt.Sprintf("Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name.", name, holder))
}

// freeName picks a generated name no container has.
func (e *Engine) freeName() string {
	for i := 0; ; i++ {
		name := randomName()
		if i > 10 {
			name = fmt.Sprintf("%s_%d", name, i)
		}
		if _, err := e.Images.Containers().Container(name); err != nil {
			return name
		}
	}
}

// mergeImageConfig fills in what the user left unset from the image, with
// docker's rules: the user's entrypoint replaces the image's and its cmd;
// environment variables merge by name, the user's winning.
func mergeImageConfig(cfg *container.Config, img *dockerspec.DockerOCIImageConfig) {
	if cfg.User == "" {
		cfg.User = img.User
	}
	if cfg.WorkingDir == "" {
		cfg.WorkingDir = img.WorkingDir
	}
	if cfg.StopSignal == "" {
		cfg.StopSignal = img.StopSignal
	}
	if len(cfg.Entrypoint) == 0 && cfg.Entrypoint == nil {
		cfg.Entrypoint = img.Entrypoint
		if len(cfg.Cmd) == 0 {
			cfg.Cmd = img.Cmd
		}
	}
	if len(cfg.Entrypoint) == 1 && cfg.Entrypoint[0] == "" {
		cfg.Entrypoint = nil // --entrypoint "" clears the image's
	}
	cfg.Env = mergeEnv(img.Env, cfg.Env)
	if cfg.Healthcheck == nil && img.Healthcheck != nil {
		hc := container.HealthConfig(*img.Healthcheck)
		cfg.Healthcheck = &hc
	}
	if len(img.Labels) > 0 {
		labels := map[string]string{}
		for k, v := range img.Labels {
			labels[k] = v
		}
		for k, v := range cfg.Labels {
			labels[k] = v
		}
		cfg.Labels = labels
	}
	for p := range img.ExposedPorts {
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = map[network.Port]struct{}{}
		}
		if port, err := network.ParsePort(p); err == nil {
			cfg.ExposedPorts[port] = struct{}{}
		}
	}
	for v := range img.Volumes {
		if cfg.Volumes == nil {
			cfg.Volumes = map[string]struct{}{}
		}
		cfg.Volumes[v] = struct{}{}
	}
}

// mergeEnv is the image's environment overridden by the user's.
func mergeEnv(image, user []string) []string {
	set := map[string]bool{}
	for _, kv := range user {
		k, _, _ := strings.Cut(kv, "=")
		set[k] = true
	}
	var out []string
	for _, kv := range image {
		k, _, _ := strings.Cut(kv, "=")
		if !set[k] {
			out = append(out, kv)
		}
	}
	return append(out, user...)
}

// checkLogConfig accepts the log drivers rrun implements.
func checkLogConfig(lc container.LogConfig) error {
	switch lc.Type {
	case "", "json-file", "none":
	default:
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("logging driver %q is not supported by rrun: use json-file or none", lc.Type))
	}
	for k := range lc.Config {
		if k != "max-size" && k != "max-file" {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("unknown log opt '%s' for %s log driver", k, lc.Type))
		}
	}
	return nil
}
