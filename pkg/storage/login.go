package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/pkg/docker/config"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage/pkg/homedir"
)

// DefaultRegistry is the registry login and logout use when given none.
const DefaultRegistry = "docker.io"

// dockerHubKey is docker's key for Docker Hub in config.json, and what
// its CLI prints for it.
const dockerHubKey = "https://index.docker.io/v1/"

// NormalizeRegistry turns what users give docker login (a host[:port],
// a URL, one of Docker Hub's names) into the registry host.
func NormalizeRegistry(server string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(server, "https://"), "http://")
	s, _, _ = strings.Cut(s, "/")
	switch s {
	case "", "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		return DefaultRegistry
	}
	return s
}

// DisplayRegistry is a registry as docker's login and logout print it.
func DisplayRegistry(registry string) string {
	if registry == DefaultRegistry {
		return dockerHubKey
	}
	return registry
}

// LoginOptions are a login's credentials and registry settings (TLS,
// credentials file).
type LoginOptions struct {
	RegistryOptions
	Username, Password string
}

// Login checks the credentials against the registry's /v2/ endpoint and,
// if it accepts them, stores them; it returns where. The file is
// --authfile (or REGISTRY_AUTH_FILE) when given, else docker's
// config.json ($DOCKER_CONFIG or ~/.docker), so that rrun and the docker
// CLI share logins; pulls read that file after containers' auth.json.
// Login needs no storage and runs outside the user namespace.
func Login(ctx context.Context, server string, opts LoginOptions) (string, error) {
	registry := NormalizeRegistry(server)
	sys, err := authContext(registry, opts.RegistryOptions)
	if err != nil {
		return "", err
	}
	if err := docker.CheckAuth(ctx, sys, opts.Username, opts.Password, registry); err != nil {
		var unauth docker.ErrUnauthorizedForCredentials
		if errors.As(err, &unauth) {
			return "", errdefs.ErrUnauthenticated.WithMessage(fmt.Sprintf("login to %s failed: %v", registry, err))
		}
		if errors.Is(err, context.Canceled) {
			return "", err
		}
		return "", errdefs.ErrUnavailable.WithMessage(fmt.Sprintf("login to %s failed: %v", registry, err))
	}
	where, err := config.SetCredentials(sys, registry, opts.Username, opts.Password)
	if err != nil {
		return "", fmt.Errorf("storing the credentials for %s: %w", registry, err)
	}
	return where, nil
}

// StoredCredentials returns the credentials a pull from registry would
// use (all the files pulls read), or empty ones.
func StoredCredentials(server string, opts RegistryOptions) (types.DockerAuthConfig, error) {
	registry := NormalizeRegistry(server)
	sys, err := registryContext(registry, opts)
	if err != nil {
		return types.DockerAuthConfig{}, err
	}
	return config.GetCredentials(sys, registry)
}

// Logout removes the credentials for server from the file Login writes,
// or every credential in it with all. It reports false when there were
// none for server.
func Logout(server string, all bool, opts RegistryOptions) (bool, error) {
	registry := NormalizeRegistry(server)
	sys, err := authContext(registry, opts)
	if err != nil {
		return false, err
	}
	if all {
		if err := config.RemoveAllAuthentication(sys); err != nil {
			return false, fmt.Errorf("removing all credentials: %w", err)
		}
		return true, nil
	}
	err = config.RemoveAuthentication(sys, registry)
	if errors.Is(err, config.ErrNotLoggedIn) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("removing the credentials for %s: %w", registry, err)
	}
	return true, nil
}

// authContext is the system context for editing credentials: an explicit
// file is written as containers' auth.json, docker's config.json in
// docker's own format (Docker Hub's key "https://index.docker.io/v1/",
// other fields kept).
func authContext(registry string, opts RegistryOptions) (*types.SystemContext, error) {
	sys, err := registryContext(registry, opts)
	if err != nil {
		return nil, err
	}
	if sys.AuthFilePath == "" {
		sys.DockerCompatAuthFilePath = dockerConfigFile()
	}
	return sys, nil
}

// dockerConfigFile is where the docker CLI keeps credentials.
func dockerConfigFile() string {
	if dir := os.Getenv("DOCKER_CONFIG"); dir != "" {
		return filepath.Join(dir, "config.json")
	}
	return filepath.Join(homedir.Get(), ".docker", "config.json")
}
