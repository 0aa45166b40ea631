package engine

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/rrun/rrun/pkg/storage"
)

// CommitOptions are docker commit's.
type CommitOptions struct {
	// Reference names the new image, REPOSITORY[:TAG]; empty leaves it
	// untagged.
	Reference string
	Author    string   // -a
	Comment   string   // -m
	Changes   []string // -c: Dockerfile instructions applied to the config
	// Pause freezes a running container while its changes are read, as
	// docker does by default. Freezing needs a cgroup v2 of the
	// container's own (see Pause); without one (a cgroup v1 or hybrid
	// host, no systemd delegation) the container is committed as it
	// runs, and what it writes meanwhile may or may not be in the image.
	Pause bool
}

// Commit makes an image from a container, docker's POST /commit: the
// container's image with a layer of the container's changes, configured
// as the container is (its command, entrypoint, environment, …) with
// opts.Changes applied. It returns the image id, sha256:….
func (e *Engine) Commit(ctx context.Context, name string, opts CommitOptions) (string, error) {
	c, err := e.lookupContainer(name)
	if err != nil {
		return "", err
	}
	st, err := e.currentState(c.ID)
	if err != nil {
		return "", err
	}
	if st.Status == container.StateDead {
		return "", errdefs.ErrConflict.WithMessage(fmt.Sprintf("You cannot commit container %s which is Dead", c.ID))
	}
	if opts.Pause && st.Status == container.StateRunning {
		if err := e.Pause(ctx, c.ID); err == nil {
			defer func() { _ = e.Unpause(context.WithoutCancel(ctx), c.ID) }()
		}
	}
	sc, err := e.Images.Containers().Container(c.ID)
	if err != nil {
		return "", fmt.Errorf("looking up the layer of container %s: %w", c.Name, err)
	}
	// The layer holds what `rrun diff` shows: not the runtime's mount points.
	changes, err := e.Images.Containers().Changes("", sc.LayerID)
	if err != nil {
		return "", fmt.Errorf("listing the changes of container %s: %w", c.Name, err)
	}
	id, err := e.Images.Commit(ctx, storage.CommitOptions{
		Exclude:   hiddenChanges(changes),
		Reference: opts.Reference,
		BaseImage: c.ImageID,
		Layer:     sc.LayerID,
		Config:    imageConfig(c.Config),
		Changes:   opts.Changes,
		Author:    opts.Author,
		Comment:   opts.Comment,
		// docker records the container's command alone, without its
		// entrypoint.
		CreatedBy: strings.Join(c.Config.Cmd, " "),
	})
	if err != nil {
		return "", err
	}
	ref := ""
	if named, err := storage.ParseReference(opts.Reference); opts.Reference != "" && err == nil {
		ref = storage.FamiliarString(named.String()) // with docker's default tag
	}
	e.emit(containerEvent(events.ActionCommit, c, "comment", opts.Comment, "imageID", id, "imageRef", ref))
	return id, nil
}

// imageConfig is the image configuration docker commits for a container:
// its own configuration (the image's defaults merged in at create), in
// the fields an image configuration has.
func imageConfig(cfg *container.Config) dockerspec.DockerOCIImageConfig {
	out := dockerspec.DockerOCIImageConfig{
		ImageConfig: ocispec.ImageConfig{
			User:        cfg.User,
			Env:         slices.Clone(cfg.Env),
			Entrypoint:  slices.Clone(cfg.Entrypoint),
			Cmd:         slices.Clone(cfg.Cmd),
			WorkingDir:  cfg.WorkingDir,
			Labels:      maps.Clone(cfg.Labels),
			StopSignal:  cfg.StopSignal,
			ArgsEscaped: cfg.ArgsEscaped, //nolint:staticcheck // docker keeps it
		},
		DockerOCIImageConfigExt: dockerspec.DockerOCIImageConfigExt{
			Healthcheck: cfg.Healthcheck,
			OnBuild:     slices.Clone(cfg.OnBuild),
			Shell:       slices.Clone(cfg.Shell),
		},
	}
	if len(cfg.ExposedPorts) > 0 {
		out.ExposedPorts = map[string]struct{}{}
		for p := range cfg.ExposedPorts {
			out.ExposedPorts[p.String()] = struct{}{}
		}
	}
	if len(cfg.Volumes) > 0 {
		out.Volumes = maps.Clone(cfg.Volumes)
	}
	return out
}
