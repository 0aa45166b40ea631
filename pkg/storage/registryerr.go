package storage

import (
	"context"
	"errors"
	"fmt"

	"github.com/containerd/errdefs"
	"github.com/docker/distribution/registry/api/errcode"
	v2 "github.com/docker/distribution/registry/api/v2"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
)

// registryOp names what was being done with a registry, for messages.
type registryOp string

const (
	opPull registryOp = "pull"
	opPush registryOp = "push"
)

// classifyRegistryError gives registry failures docker's classes, so the
// API answers 404 for an unknown image and 401/403-like errors stay clear.
func classifyRegistryError(op registryOp, named reference.Named, err error) error {
	var ec errcode.ErrorCoder
	if errors.As(err, &ec) {
		switch ec.ErrorCode() {
		case v2.ErrorCodeManifestUnknown, v2.ErrorCodeNameUnknown:
			if op == opPull {
				return fmt.Errorf("manifest for %s not found: %v: %w", reference.FamiliarString(named), err, errdefs.ErrNotFound)
			}
		case errcode.ErrorCodeDenied, errcode.ErrorCodeUnauthorized:
			if op == opPush {
				// docker shows the registry's "denied: requested access to the resource is denied".
				return fmt.Errorf("push access denied for %s, the repository may not exist or may require 'rrun login': %v: %w", reference.FamiliarName(named), err, errdefs.ErrPermissionDenied)
			}
			return fmt.Errorf("pull access denied for %s, repository does not exist or may require 'rrun login': %v: %w", reference.FamiliarName(named), err, errdefs.ErrPermissionDenied)
		}
	}
	var unauth docker.ErrUnauthorizedForCredentials
	if errors.As(err, &unauth) {
		return fmt.Errorf("%s access denied for %s: %v: %w", op, reference.FamiliarName(named), err, errdefs.ErrUnauthenticated)
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	verb := "pulling"
	if op == opPush {
		verb = "pushing"
	}
	return fmt.Errorf("%s %s: %w", verb, reference.FamiliarString(named), errdefsUnavailable(err))
}

// errdefsUnavailable marks registry trouble (down, refusing, bad TLS) as
// unavailable while keeping the cause readable.
func errdefsUnavailable(err error) error {
	return fmt.Errorf("%v: %w", err, errdefs.ErrUnavailable)
}
