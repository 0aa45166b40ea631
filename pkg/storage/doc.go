// Package storage owns images and layers: it opens the user's
// containers/storage store with the best driver the host allows, and pulls,
// lists, tags, removes, pushes, saves, loads and imports images with
// containers/image. It speaks Docker's image model (names normalised to
// docker.io, config digests as ids, moby API types for listings) because
// both rrun's CLI and its Engine API server show images the way docker does.
//
// It must be used from inside the rootless user namespace (pkg/rootless):
// layer files are owned by the user's subordinate ids.
package storage
