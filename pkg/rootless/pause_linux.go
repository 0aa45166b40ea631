package rootless

import (
	"fmt"
	"os"
	"syscall"
)

// MaybeRunPause runs the namespace holder when this process was started as
// one, and then never returns. main calls it before anything else.
//
// The holder runs in two stages. Stage 1 is the freshly cloned child: its
// capabilities were computed at exec time, before newuidmap gave it a uid,
// so it has none. Once the parent says the maps are written it re-executes
// itself; stage 2 starts as uid 0 of the namespace with its full
// capability set, reports "ok" and sleeps until it is told to stop. Stage
// 2 is C, in join_linux.go's constructor: a sleeping process need not pay
// for a Go runtime.
func MaybeRunPause() {
	switch os.Getenv(envPauseStage) {
	case "":
		return
	case "1":
		maps := os.NewFile(3, "maps-written")
		buf := make([]byte, 1)
		if _, err := maps.Read(buf); err != nil {
			os.Exit(1) // the parent died or failed; it reports why
		}
		maps.Close()
		os.Setenv(envPauseStage, "2")
		err := syscall.Exec("/proc/self/exe", os.Args, os.Environ())
		report(fmt.Sprintf("re-executing the namespace holder: %v", err))
		os.Exit(1)
	}
	// Stage 2 never gets here: the cgo constructor holds the namespaces
	// before the Go runtime starts (join_linux.go, hold_namespaces).
	os.Exit(1)
}

func report(msg string) {
	ready := os.NewFile(4, "ready")
	_, _ = ready.Write([]byte(msg))
	ready.Close()
}
