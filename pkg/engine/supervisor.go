package engine

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// The supervisor is rrun re-executed once per run root, detached, inside
// the user's namespaces: it runs the monitor of every container started
// there, each as a goroutine. Containers outlive the commands that start
// them because of it. It leaves once it has watched no container for a
// while, and the next start brings it back.
//
// Why one process and not one per container, as conmon: a Go process
// costs megabytes of resident memory whatever it does, and a running
// container should not. The price is shared fate: if the supervisor is
// killed, every container of the run root loses its monitor (they keep
// running, and `ps`/`inspect` say the monitor died).
const (
	envSupervisor    = "_RRUN_SUPERVISOR"
	supervisorSocket = "supervisor.sock"
	supervisorIdle   = 30 * time.Second
)

// MaybeRunSupervisor runs the supervisor when this process was started as
// one, and then never returns. main calls it early.
func MaybeRunSupervisor() {
	raw := os.Getenv(envSupervisor)
	if raw == "" {
		return
	}
	os.Unsetenv(envSupervisor)
	var opts Options
	if err := json.Unmarshal([]byte(raw), &opts); err != nil {
		fmt.Fprintf(os.Stderr, "rrun supervisor: %v\n", err)
		os.Exit(1)
	}
	if err := runSupervisor(opts, os.NewFile(3, "ready")); err != nil {
		logrus.Errorf("rrun supervisor: %v", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runSupervisor(opts Options, ready *os.File) error {
	signal.Ignore(syscall.SIGHUP, syscall.SIGPIPE)
	// One supervisor per run root: wait for a predecessor that is still
	// winding down to let go.
	lock, err := os.OpenFile(filepath.Join(opts.RunRoot, "supervisor.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return err
	}
	_ = os.Remove(filepath.Join(opts.RunRoot, supervisorSocket))
	ln, err := listenUnix(opts.RunRoot, supervisorSocket)
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	defer ln.Close()
	_, _ = ready.Write([]byte("ready\n"))
	ready.Close()

	var active atomic.Int64
	ul := ln.(*net.UnixListener)
	for {
		_ = ul.SetDeadline(time.Now().Add(supervisorIdle))
		conn, err := ul.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if active.Load() == 0 {
					// Nothing to watch: leave. A start racing with this
					// sees the socket gone and launches a successor.
					_ = os.Remove(filepath.Join(opts.RunRoot, supervisorSocket))
					return nil
				}
				continue
			}
			return err
		}
		active.Add(1)
		go func() {
			defer active.Add(-1)
			serveMonitor(conn)
		}()
	}
}

// serveMonitor reads a start request and runs that container's monitor,
// reporting to the starter over the connection.
func serveMonitor(conn net.Conn) {
	line, err := bufio.NewReader(conn).ReadBytes('\n')
	var args monitorArgs
	if err != nil || json.Unmarshal(line, &args) != nil {
		conn.Close()
		return
	}
	if args.Network != nil {
		serveNetworkChange(conn, args.Options, args.Network)
		return
	}
	m := &monitor{args: args, report: conn}
	if err := m.run(); err != nil {
		m.fail(err)
		logrus.Debugf("monitor of %s: %v", shortID(args.ID), err)
	}
	m.done()
}

// dialSupervisor connects to the run root's supervisor, starting one
// when there is none.
func (e *Engine) dialSupervisor() (net.Conn, error) {
	if conn, err := dialUnix(e.opts.RunRoot, supervisorSocket); err == nil {
		return conn, nil
	}
	lock, err := os.OpenFile(filepath.Join(e.opts.RunRoot, "supervisor.spawn.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return nil, err
	}
	if conn, err := dialUnix(e.opts.RunRoot, supervisorSocket); err == nil {
		return conn, nil // another command started it meanwhile
	}
	if err := e.spawnSupervisor(); err != nil {
		return nil, err
	}
	return dialUnix(e.opts.RunRoot, supervisorSocket)
}

func (e *Engine) spawnSupervisor() error {
	opts, err := json.Marshal(e.opts)
	if err != nil {
		return err
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer readyR.Close()
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = []string{"rrun-supervisor"}
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), envSupervisor+"="+string(opts))
	cmd.ExtraFiles = []*os.File{readyW}
	// Its warnings (and a crash, should one happen) go to a log beside
	// its socket, as it has no terminal.
	if logf, err := os.OpenFile(filepath.Join(e.opts.RunRoot, "supervisor.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err == nil {
		defer logf.Close()
		cmd.Stderr = logf
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	readyW.Close()
	if err != nil {
		return fmt.Errorf("starting rrun's supervisor: %w", err)
	}
	go func() { _ = cmd.Wait() }() // reap it should it fail at once
	line, _ := bufio.NewReader(readyR).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		return errors.New("rrun's supervisor did not start")
	}
	return nil
}
