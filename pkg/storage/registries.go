package storage

import (
	"fmt"

	"go.podman.io/image/v5/pkg/sysregistriesv2"
)

// Registries is what registries.conf says, for `rrun info`.
type Registries struct {
	Search   []string   `json:"search"`
	Registry []Registry `json:"registries,omitempty"`
}

// Registry is one [[registry]] table.
type Registry struct {
	Prefix   string `json:"prefix"`
	Location string `json:"location"`
	Insecure bool   `json:"insecure,omitempty"`
	Blocked  bool   `json:"blocked,omitempty"`
}

// Registries reads the registries configuration in effect.
func (s *Store) Registries() (Registries, error) {
	sys, err := s.systemContext("", RegistryOptions{})
	if err != nil {
		return Registries{}, err
	}
	search, err := sysregistriesv2.UnqualifiedSearchRegistries(sys)
	if err != nil {
		return Registries{}, fmt.Errorf("reading registries.conf: %w", err)
	}
	if len(search) == 0 {
		search = []string{"docker.io"}
	}
	regs, err := sysregistriesv2.GetRegistries(sys)
	if err != nil {
		return Registries{}, fmt.Errorf("reading registries.conf: %w", err)
	}
	out := Registries{Search: search}
	for _, r := range regs {
		out.Registry = append(out.Registry, Registry{Prefix: r.Prefix, Location: r.Location, Insecure: r.Insecure, Blocked: r.Blocked})
	}
	return out, nil
}
