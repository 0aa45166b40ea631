package storage

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage/pkg/configfile"
)

// RegistryOptions are the registry settings of one pull, push or login.
type RegistryOptions struct {
	// TLSVerify forces (true) or disables (false) TLS verification; nil
	// leaves it to registries.conf, with loopback registries insecure as
	// dockerd treats them.
	TLSVerify *bool
	// AuthFile overrides the credential files (auth.json, then
	// ~/.docker/config.json); REGISTRY_AUTH_FILE does too.
	AuthFile string
	// Credentials, when set, are used instead of any file.
	Credentials *types.DockerAuthConfig
	// Platform selects from multi-platform images: os/arch[/variant].
	Platform string
}

// systemContext is containers/image's view of the options for a registry.
func (s *Store) systemContext(registry string, opts RegistryOptions) (*types.SystemContext, error) {
	sys, err := registryContext(registry, opts)
	if err != nil {
		return nil, err
	}
	// Keep containers/image's caches with rrun's data, not podman's.
	sys.BlobInfoCacheDir = filepath.Join(s.GraphRoot(), "cache")
	return sys, nil
}

// registryContext is systemContext without a store, for what needs no
// storage (login, logout).
func registryContext(registry string, opts RegistryOptions) (*types.SystemContext, error) {
	sys := &types.SystemContext{
		DockerRegistryUserAgent:  "rrun",
		DockerAuthConfig:         opts.Credentials,
		AuthFilePath:             opts.AuthFile,
		DockerCompatAuthFilePath: "",
	}
	if sys.AuthFilePath == "" {
		sys.AuthFilePath = os.Getenv("REGISTRY_AUTH_FILE")
	}
	switch {
	case opts.TLSVerify != nil:
		sys.DockerInsecureSkipTLSVerify = types.NewOptionalBool(!*opts.TLSVerify)
	case isLoopbackRegistry(registry):
		sys.DockerInsecureSkipTLSVerify = types.OptionalBoolTrue
	}
	if opts.Platform != "" {
		p, err := ParsePlatform(opts.Platform)
		if err != nil {
			return nil, err
		}
		sys.OSChoice, sys.ArchitectureChoice, sys.VariantChoice = p.OS, p.Architecture, p.Variant
	}
	return sys, nil
}

// isLoopbackRegistry reports whether a registry host[:port] is on this
// machine; dockerd lets those speak plain HTTP without configuration.
func isLoopbackRegistry(registry string) bool {
	host := registry
	if h, _, err := net.SplitHostPort(registry); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// registryOf gives the registry host of a named reference.
func registryOf(named reference.Named) string { return reference.Domain(named) }

// policyContext honours policy.json where the user or the system has one;
// with none, images are accepted as docker accepts them.
func policyContext(sys *types.SystemContext) (*signature.PolicyContext, error) {
	policy, err := signature.DefaultPolicy(sys)
	if errors.Is(err, configfile.ErrConfigFileNotFound) {
		policy = &signature.Policy{Default: signature.PolicyRequirements{signature.NewPRInsecureAcceptAnything()}}
	} else if err != nil {
		return nil, fmt.Errorf("reading the signature policy: %w", err)
	}
	return signature.NewPolicyContext(policy)
}
