package oci

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
)

// MaybeRunContainerInit runs rrun's built-in init (docker's --init) when
// this binary was started as /sbin/rrun-init inside a container, and then
// never returns. Like tini, it runs the command as its child, forwards
// the signals it gets to it, reaps every orphan that lands on PID 1, and
// exits with the command's status. rrun is built static, so the same
// binary runs in any image.
func MaybeRunContainerInit() {
	if filepath.Base(os.Args[0]) != filepath.Base(InitPathInContainer) {
		return
	}
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "rrun-init: no command given")
		os.Exit(125)
	}
	os.Exit(runInit(args))
}

func runInit(args []string) int {
	path, err := exec.LookPath(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "rrun-init: %v\n", err)
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return 127
		}
		return 126
	}
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs)
	child, err := os.StartProcess(path, args, &os.ProcAttr{
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
		Env:   os.Environ(),
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "rrun-init: %v\n", err)
		return 126
	}
	exited := make(chan int, 1)
	go reap(child.Pid, exited)
	for {
		select {
		case code := <-exited:
			return code
		case s := <-sigs:
			if s == syscall.SIGCHLD || s == syscall.SIGURG { // ours, not the command's
				continue
			}
			_ = child.Signal(s)
		}
	}
}

// reap collects every child that exits, reporting the command's status.
func reap(main int, exited chan<- int) {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			exited <- 255
			return
		}
		if pid == main {
			if ws.Signaled() {
				exited <- 128 + int(ws.Signal())
			} else {
				exited <- ws.ExitStatus()
			}
			return
		}
	}
}
