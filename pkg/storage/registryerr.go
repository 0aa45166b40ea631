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
				return errdefs.ErrNotFound.WithMessage(fmt.Sprintf("manifest for %s not found: %v", reference.FamiliarString(named), err))
			}
		case errcode.ErrorCodeDenied, errcode.ErrorCodeUnauthorized:
			if op == opPush {
				// The registry's own words ("denied: requested access to
				// the resource is denied") are what docker shows.
				return errdefs.ErrPermissionDenied.WithMessage(fmt.Sprintf("push access denied for %s, the repository may not exist or may require 'rrun login': %v", reference.FamiliarName(named), err))
			}
			return errdefs.ErrPermissionDenied.WithMessage(fmt.Sprintf("pull access denied for %s, repository does not exist or may require 'rrun login': %v", reference.FamiliarName(named), err))
		}
	}
	var unauth docker.ErrUnauthorizedForCredentials
	if errors.As(err, &unauth) {
		return errdefs.ErrUnauthenticated.WithMessage(fmt.Sprintf("%s access denied for %s: %v", op, reference.FamiliarName(named), err))
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	verb := "pulling"
	if op == opPush {
		verb = "pushing"
	}
	return errdefsUnavailable(fmt.Errorf("%s %s: %w", verb, reference.FamiliarString(named), err))
}

// errdefsUnavailable marks registry trouble (down, refusing, bad TLS) as
// unavailable while keeping the cause readable.
func errdefsUnavailable(err error) error {
	return errdefs.ErrUnavailable.WithMessage(err.Error())
}
