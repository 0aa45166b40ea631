package apisvc

import (
	"net/http"
	"os"
	"runtime"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/api/types/system"

	"github.com/rrun/rrun/pkg/version"
)

func (s *Server) systemRoutes() []route {
	return []route{
		{"GET", "/_ping", s.ping},
		{"HEAD", "/_ping", s.ping},
		{"GET", "/version", s.version},
		{"GET", "/info", s.info},
	}
}

// ping answers "OK" with dockerd's headers; the client reads Api-Version
// from them to negotiate.
func (s *Server) ping(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
	h.Set("Pragma", "no-cache")
	h.Set("Builder-Version", "1")
	if r.Method == http.MethodHead {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Content-Length", "0")
		return nil
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	_, err := w.Write([]byte("OK"))
	return err
}

func (s *Server) version(w http.ResponseWriter, r *http.Request) error {
	info, err := s.eng.Info()
	if err != nil {
		return err
	}
	v := system.VersionResponse{
		Platform:      system.PlatformInfo{Name: "rrun"},
		Version:       version.Version,
		APIVersion:    APIVersion,
		MinAPIVersion: MinAPIVersion,
		GitCommit:     version.GitCommit,
		GoVersion:     runtime.Version(),
		Os:            runtime.GOOS,
		Arch:          runtime.GOARCH,
		KernelVersion: info.Host.Kernel,
		Components: []system.ComponentVersion{{
			Name: "Engine", Version: version.Version,
			Details: map[string]string{
				"ApiVersion": APIVersion, "MinAPIVersion": MinAPIVersion, "GitCommit": version.GitCommit,
				"GoVersion": runtime.Version(), "Os": runtime.GOOS, "Arch": runtime.GOARCH,
				"KernelVersion": info.Host.Kernel, "Experimental": "false",
			},
		}},
	}
	return writeJSON(w, http.StatusOK, v)
}

// info is docker's system info, from rrun's.
func (s *Server) info(w http.ResponseWriter, r *http.Request) error {
	info, err := s.eng.Info()
	if err != nil {
		return err
	}
	counts, err := s.eng.Counts(r.Context())
	if err != nil {
		return err
	}
	name, _ := os.Hostname()
	out := system.Info{
		ID:                 "rrun",
		Containers:         counts.Containers,
		ContainersRunning:  counts.Running,
		ContainersPaused:   counts.Paused,
		ContainersStopped:  counts.Stopped,
		Images:             info.Store.Images,
		Driver:             info.Store.Driver,
		DriverStatus:       info.Store.DriverStatus,
		Plugins:            system.PluginsInfo{Volume: []string{"local"}, Network: []string{"bridge", "host", "null"}, Log: []string{"json-file", "none"}},
		MemoryLimit:        info.Host.Cgroups.Limits,
		SwapLimit:          info.Host.Cgroups.Limits,
		CPUCfsPeriod:       info.Host.Cgroups.Limits,
		CPUCfsQuota:        info.Host.Cgroups.Limits,
		CPUShares:          info.Host.Cgroups.Limits,
		CPUSet:             info.Host.Cgroups.Limits,
		PidsLimit:          info.Host.Cgroups.Limits,
		IPv4Forwarding:     true,
		NFd:                countFDs(),
		NGoroutines:        runtime.NumGoroutine(),
		LoggingDriver:      "json-file",
		CgroupDriver:       "cgroupfs",
		CgroupVersion:      cgroupVersion(info.Host.Cgroups.Version),
		KernelVersion:      info.Host.Kernel,
		OperatingSystem:    info.Host.OS,
		OSVersion:          "",
		OSType:             "linux",
		Architecture:       info.Host.Arch,
		IndexServerAddress: "https://index.docker.io/v1/",
		RegistryConfig:     &registry.ServiceConfig{IndexConfigs: map[string]*registry.IndexInfo{"docker.io": {Name: "docker.io", Official: true, Secure: true, Mirrors: []string{}}}},
		NCPU:               info.Host.CPUs,
		MemTotal:           info.Host.MemTotalBytes,
		DockerRootDir:      info.Store.GraphRoot,
		Name:               name,
		Labels:             []string{},
		ServerVersion:      version.Version,
		Runtimes:           map[string]system.RuntimeWithStatus{"runc": {Runtime: system.Runtime{Path: "rrun (libcontainer, built in)"}}},
		DefaultRuntime:     "runc",
		Isolation:          container.IsolationDefault,
		InitBinary:         "rrun-init",
		SecurityOptions:    []string{"name=seccomp,profile=builtin", "name=rootless", "name=cgroupns"},
		CDISpecDirs:        []string{},
		Warnings:           []string{},
	}
	if info.Host.Cgroups.Note != "" {
		out.Warnings = append(out.Warnings, "WARNING: "+info.Host.Cgroups.Note)
	}
	if info.Store.Warning != "" {
		out.Warnings = append(out.Warnings, "WARNING: "+info.Store.Warning)
	}
	return writeJSON(w, http.StatusOK, out)
}

// cgroupVersion is docker's "1" or "2".
func cgroupVersion(v string) string {
	if v == "v2" {
		return "2"
	}
	return "1"
}

func countFDs() int {
	entries, _ := os.ReadDir("/proc/self/fd")
	return len(entries)
}
