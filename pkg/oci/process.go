package oci

import (
	"fmt"
	"path"
	"strings"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/generate"
)

// DefaultPathEnv is docker's PATH for Linux containers whose image sets none.
const DefaultPathEnv = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// InitPathInContainer is where InitPath is mounted (docker: /sbin/docker-init).
const InitPathInContainer = "/sbin/rrun-init"

// ProcessArgs combines Entrypoint and Cmd as docker does: the entrypoint,
// when set, runs with Cmd as its arguments; otherwise Cmd is the command.
// (`--entrypoint ""` arrives here as an empty Entrypoint, leaving Cmd.)
func ProcessArgs(entrypoint, cmd []string) ([]string, error) {
	args := append(append([]string{}, entrypoint...), cmd...)
	if len(args) == 0 {
		return nil, errdefs.ErrInvalidArgument.WithMessage("no command specified")
	}
	return args, nil
}

// WithProcessArgs sets the command line from Entrypoint and Cmd.
func WithProcessArgs(g *generate.Generator, in *SpecInput) error {
	args, err := ProcessArgs(in.Config.Entrypoint, in.Config.Cmd)
	if err != nil {
		return err
	}
	g.SetProcessArgs(args)
	return nil
}

// Env is the container's environment as docker builds it
// (container.CreateDaemonEnvironment): PATH, HOSTNAME and, with a TTY,
// TERM=xterm first, then the config's variables replacing or adding to
// them. A variable given without "=" unsets it.
func Env(configEnv []string, hostname string, tty bool) []string {
	env := []string{"PATH=" + DefaultPathEnv, "HOSTNAME=" + hostname}
	if tty {
		env = append(env, "TERM=xterm")
	}
	index := make(map[string]int, len(env))
	for i, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		index[k] = i
	}
	for _, kv := range configEnv {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := index[k]; ok {
			env[i] = kv
			continue
		}
		index[k] = len(env)
		env = append(env, kv)
	}
	out := env[:0]
	for _, kv := range env {
		if strings.Contains(kv, "=") {
			out = append(out, kv)
		}
	}
	return out
}

// WithEnv sets the environment (see Env).
func WithEnv(g *generate.Generator, in *SpecInput) error {
	g.ClearProcessEnv()
	g.AddMultipleProcessEnv(Env(in.Config.Env, containerHostname(in), in.Config.Tty))
	return nil
}

// WithCwd sets the working directory: WorkingDir, or "/". runc creates it
// in the rootfs when it is missing, as docker does.
func WithCwd(g *generate.Generator, in *SpecInput) error {
	cwd := in.Config.WorkingDir
	if cwd == "" {
		cwd = "/"
	}
	if !path.IsAbs(cwd) {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("the working directory '%s' is invalid, it needs to be an absolute path", cwd))
	}
	g.SetProcessCwd(path.Clean(cwd))
	return nil
}

// WithTerminal gives the process a terminal when the container has a TTY,
// with the initial size the client asked for (HostConfig.ConsoleSize is
// height, width).
func WithTerminal(g *generate.Generator, in *SpecInput) error {
	g.SetProcessTerminal(in.Config.Tty)
	if h, w := in.HostConfig.ConsoleSize[0], in.HostConfig.ConsoleSize[1]; in.Config.Tty && h > 0 && w > 0 {
		g.SetProcessConsoleSize(w, h)
	}
	return nil
}

// WithInit runs InitPath as PID 1 in front of the command, bind-mounted
// read-only, as docker's --init does with docker-init. Every container has
// its own PID namespace here, so the init always has children to reap.
func WithInit(g *generate.Generator, in *SpecInput) error {
	if in.InitPath == "" {
		return nil
	}
	if !path.IsAbs(in.InitPath) {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("init binary path %q is not absolute", in.InitPath))
	}
	g.SetProcessArgs(append([]string{InitPathInContainer, "--"}, g.Config.Process.Args...))
	g.AddMount(specs.Mount{
		Destination: InitPathInContainer,
		Type:        "bind",
		Source:      in.InitPath,
		Options:     []string{"bind", "ro"},
	})
	return nil
}
