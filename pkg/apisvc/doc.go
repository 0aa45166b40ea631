// Package apisvc serves the Docker Engine API over pkg/engine, so that the
// docker CLI, compose, the SDKs and curl work against rrun as they do
// against dockerd. It owns HTTP only: routes (one table per resource, in
// <resource>.go), API version handling, docker's headers, and the mapping
// of the engine's typed errors (containerd/errdefs) to docker's status
// codes and {"message": …} bodies. All behaviour lives in the engine; the
// server keeps no state of its own, so containers started through it and
// through the CLI are the same containers.
package apisvc
