package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"
)

// pusher copies OCI layouts to a registry with containers/image, the same
// library rrun pulls with.
type pusher struct {
	registry string
	sys      *types.SystemContext
	policy   *signature.PolicyContext
}

// newPusher prepares a pusher whose configuration lives entirely in workDir:
// the host's registries.conf, auth files and blob-info cache are neither
// read nor written, so that a developer's settings (a mirror for docker.io,
// say) cannot redirect the push and nothing lands in ~/.local/share/containers.
func newPusher(registry, workDir string) (*pusher, error) {
	sys := &types.SystemContext{
		BlobInfoCacheDir:            filepath.Join(workDir, "blob-info-cache"),
		SystemRegistriesConfPath:    filepath.Join(workDir, "registries.conf"),
		SystemRegistriesConfDirPath: filepath.Join(workDir, "registries.conf.d"),
		RegistriesDirPath:           filepath.Join(workDir, "registries.d"),
		AuthFilePath:                filepath.Join(workDir, "auth.json"),
		DockerRegistryUserAgent:     "rrun-testimages",
		// The test registry speaks plain HTTP; this lets the client fall back to it.
		DockerInsecureSkipTLSVerify: types.OptionalBoolTrue,
	}
	for _, dir := range []string{sys.BlobInfoCacheDir, sys.SystemRegistriesConfDirPath, sys.RegistriesDirPath} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("preparing containers/image configuration: %w", err)
		}
	}
	if err := os.WriteFile(sys.SystemRegistriesConfPath, nil, 0o600); err != nil {
		return nil, fmt.Errorf("preparing containers/image configuration: %w", err)
	}

	// The images are built here, unsigned; there is nothing to verify.
	policy, err := signature.NewPolicyContext(&signature.Policy{
		Default: signature.PolicyRequirements{signature.NewPRInsecureAcceptAnything()},
	})
	if err != nil {
		return nil, fmt.Errorf("creating signature policy: %w", err)
	}
	return &pusher{registry: registry, sys: sys, policy: policy}, nil
}

func (p *pusher) Close() error {
	return p.policy.Destroy()
}

func (p *pusher) reference(repo, tag string) (types.ImageReference, error) {
	ref, err := docker.ParseReference(fmt.Sprintf("//%s/%s:%s", p.registry, repo, tag))
	if err != nil {
		return nil, fmt.Errorf("parsing reference for %s:%s: %w", repo, tag, err)
	}
	return ref, nil
}

// remoteDigest returns the digest of the manifest the registry has for
// repo:tag, or an error if it has none or cannot be asked.
func (p *pusher) remoteDigest(ctx context.Context, repo, tag string) (digest.Digest, error) {
	ref, err := p.reference(repo, tag)
	if err != nil {
		return "", err
	}
	return docker.GetDigest(ctx, p.sys, ref)
}

// push copies the image in the OCI layout at layoutDir to repo:tag and checks
// that the registry got the manifest unchanged, with digest want.
func (p *pusher) push(ctx context.Context, layoutDir, repo, tag string, want digest.Digest) error {
	src, err := layout.NewReference(layoutDir, layoutRefName)
	if err != nil {
		return fmt.Errorf("opening OCI layout %s: %w", layoutDir, err)
	}
	dest, err := p.reference(repo, tag)
	if err != nil {
		return err
	}
	manifest, err := copy.Image(ctx, p.policy, dest, src, &copy.Options{
		SourceCtx:          p.sys,
		DestinationCtx:     p.sys,
		ImageListSelection: copy.CopyAllImages,
		// Recompressing would change the digests the up-to-date check relies on.
		PreserveDigests: true,
	})
	if err != nil {
		return fmt.Errorf("pushing %s:%s: %w", repo, tag, err)
	}
	if got := digest.FromBytes(manifest); got != want {
		return fmt.Errorf("pushing %s:%s: registry has manifest %s, built %s", repo, tag, got, want)
	}
	return nil
}
