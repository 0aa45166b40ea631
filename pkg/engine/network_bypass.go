package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/rrun/rrun/pkg/usernet/bypass"
)

// A container on a bridge network has its TCP connects to the host and the
// world handed host sockets (package bypass, as nerdctl's bypass4netns),
// so those flows skip the user-mode stack and run at the host's speed.
// Everything else (other containers, UDP, ICMP, published ports) stays on
// the bridge and the stack. A network created with -o bypass=false, and a
// container without a seccomp profile, keep every flow on the stack.

// optBypass is the network option that turns the bypass off.
const optBypass = "bypass"

// startBypass makes the container's spec notify its connects to rrun and
// serves them; the caller stops it with stopBypass when the run ends.
func (m *monitor) startBypass(spec *specs.Spec, att *attachment) error {
	if att.primary == nil || spec.Linux == nil || spec.Linux.Seccomp == nil {
		return nil
	}
	n, err := m.e.lookupNetwork(att.primary.NetworkID)
	if err != nil || n.Options[optBypass] == "false" {
		return nil
	}
	in, err := m.e.infra()
	if err != nil {
		return err
	}
	// libcontainer dials this path as it is, so it must be short enough
	// for a socket address (108 bytes): not in the container's directory.
	dir := filepath.Join(m.e.opts.RunRoot, "bypass")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	path := filepath.Join(dir, shortID(m.c.ID)+".sock")
	_ = os.Remove(path)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return fmt.Errorf("listening for the connect bypass: %w", err)
	}
	ln.SetUnlinkOnClose(true)
	bypass.AddToProfile(spec.Linux.Seccomp, path)
	m.bypassLn = ln
	policy := in.DirectPolicy(att.primary.IPAddress)
	name := m.c.Name
	// libcontainer sends one listener for the container's init and one
	// for each process exec'd in it; each is served until its processes
	// are gone.
	go func() {
		for {
			fd, _, err := bypass.ReceiveProcessState(ln)
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					logrus.Warnf("container %s: connect bypass: %v", name, err)
				}
				return
			}
			srv := &bypass.Server{Policy: policy, Logf: logrus.Debugf}
			go func() { _ = srv.Serve(context.Background(), fd) }()
		}
	}()
	return nil
}

// stopBypass stops accepting listeners; those served go on until their
// processes are gone.
func (m *monitor) stopBypass() {
	if m.bypassLn != nil {
		m.bypassLn.Close()
		m.bypassLn = nil
	}
}
