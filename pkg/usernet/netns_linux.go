package usernet

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Network namespaces are held by bind mounts of their nsfs file, as
// `ip netns` and podman do, so that they outlive the threads that made
// them. The mounts live in the rootless mount namespace (the caller runs
// inside it), where every rrun process of the user sees them.
//
// A thread that has entered another network namespace can never come back
// here: returning to the host's namespace needs privileges over it that a
// rootless user lacks. So every such thread is locked and thrown away when
// its goroutine ends (runtime.LockOSThread without Unlock).

// The main thread must never be one of those threads: it cannot exit, and
// /proc/self/ns/net shows its namespace, which libcontainer takes for the
// process's own. Locking the main goroutine to it from the start keeps
// every other goroutine off it.
func init() { runtime.LockOSThread() }

// NewNS creates a network namespace held at path.
func NewNS(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o600)
	if err != nil {
		return fmt.Errorf("creating network namespace file: %w", err)
	}
	f.Close()
	err = onDisposableThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("creating a network namespace: %w", err)
		}
		src := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
		if err := unix.Mount(src, path, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("holding the network namespace at %s: %w", path, err)
		}
		return nil
	})
	if err != nil {
		_ = os.Remove(path)
	}
	return err
}

// IsNS says whether path holds a network namespace.
func IsNS(path string) bool {
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && st.Type == unix.NSFS_MAGIC
}

// RemoveNS releases the namespace held at path; it is gone once nothing
// else holds it. A missing path is not an error.
func RemoveNS(path string) error {
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("releasing network namespace %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// InNS runs fn on a thread inside the network namespace at path. Sockets
// and devices fn creates belong to that namespace and may be used from any
// thread afterwards.
func InNS(path string, fn func() error) error {
	ns, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening network namespace: %w", err)
	}
	defer ns.Close()
	return onDisposableThread(func() error {
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("entering network namespace %s: %w", path, err)
		}
		return fn()
	})
}

// onDisposableThread runs fn on a new locked thread that dies with it.
func onDisposableThread(fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		done <- fn()
	}()
	return <-done
}

// SocketMaker creates sockets inside one network namespace from a thread
// that stays there, so that a forwarded connection costs one socket(2) and
// no namespace switch.
type SocketMaker struct {
	reqs chan socketReq
}

type socketReq struct {
	domain, typ int
	reply       chan socketResult
}

type socketResult struct {
	fd  int
	err error
}

// NewSocketMaker starts a socket-making thread in the namespace at path;
// Close stops it.
func NewSocketMaker(path string) (*SocketMaker, error) {
	ns, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening network namespace: %w", err)
	}
	m := &SocketMaker{reqs: make(chan socketReq)}
	ready := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET)
		ns.Close()
		ready <- err
		if err != nil {
			return
		}
		for r := range m.reqs {
			fd, err := unix.Socket(r.domain, r.typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
			r.reply <- socketResult{fd, err}
		}
	}()
	if err := <-ready; err != nil {
		return nil, fmt.Errorf("entering network namespace %s: %w", path, err)
	}
	return m, nil
}

// Socket returns a new non-blocking socket inside the namespace.
func (m *SocketMaker) Socket(domain, typ int) (int, error) {
	reply := make(chan socketResult, 1)
	m.reqs <- socketReq{domain, typ, reply}
	r := <-reply
	return r.fd, r.err
}

// Close stops the thread.
func (m *SocketMaker) Close() { close(m.reqs) }
