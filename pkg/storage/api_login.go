package storage

import (
	"context"
	"errors"
	"fmt"

	"github.com/containerd/errdefs"
	"go.podman.io/image/v5/docker"
)

// CheckLogin checks credentials against a registry's /v2/ endpoint as
// Login does, without storing them: the API's POST /auth, where the
// docker CLI keeps the credentials itself.
func CheckLogin(ctx context.Context, server string, opts LoginOptions) error {
	registry := NormalizeRegistry(server)
	sys, err := registryContext(registry, opts.RegistryOptions)
	if err != nil {
		return err
	}
	if err := docker.CheckAuth(ctx, sys, opts.Username, opts.Password, registry); err != nil {
		var unauth docker.ErrUnauthorizedForCredentials
		if errors.As(err, &unauth) {
			return errdefs.ErrUnauthenticated.WithMessage(fmt.Sprintf("login to %s failed: %v", registry, err))
		}
		if errors.Is(err, context.Canceled) {
			return err
		}
		return errdefs.ErrUnavailable.WithMessage(fmt.Sprintf("login to %s failed: %v", registry, err))
	}
	return nil
}
