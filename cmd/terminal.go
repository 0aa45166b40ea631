package cmd

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/containerd/console"

	"github.com/rrun/rrun/pkg/engine"
)

// useTerminal connects streams to the user's terminal for a container
// (or exec) that has one: raw mode and detach keys when input is
// attached, and the window size now and on every change. The returned
// function restores the terminal.
func useTerminal(streams *engine.AttachStreams, detachKeys string) (func(), error) {
	keys, err := parseDetachKeys(detachKeys)
	if err != nil {
		return nil, err
	}
	restore, resize, err := setupTerminal(streams.Stdin != nil)
	if err != nil {
		return nil, err
	}
	streams.Resize = resize
	if streams.Stdin != nil {
		streams.DetachKeys = keys
	}
	return restore, nil
}

// setupTerminal puts the terminal in raw mode (when input is attached)
// and reports its size now and on every SIGWINCH.
func setupTerminal(input bool) (restore func(), resize <-chan [2]uint16, err error) {
	current, err := console.ConsoleFromFile(os.Stdin)
	if err != nil {
		if input {
			return nil, nil, usageError("the input device is not a TTY")
		}
		return func() {}, nil, nil
	}
	if input {
		if err := current.SetRaw(); err != nil {
			return nil, nil, err
		}
	}
	ch := make(chan [2]uint16, 4)
	send := func() {
		if ws, err := current.Size(); err == nil && ws.Width > 0 {
			select {
			case ch <- [2]uint16{ws.Width, ws.Height}:
			default:
			}
		}
	}
	send()
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	go func() {
		for range winch {
			send()
		}
	}()
	return func() {
		signal.Stop(winch)
		_ = current.Reset()
	}, ch, nil
}
