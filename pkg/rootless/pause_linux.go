package rootless

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// MaybeRunPause runs the namespace holder when this process was started as
// one, and then never returns. main calls it before anything else.
//
// The holder runs in two stages. Stage 1 is the freshly cloned child: its
// capabilities were computed at exec time, before newuidmap gave it a uid,
// so it has none. Once the parent says the maps are written it re-executes
// itself; stage 2 starts as uid 0 of the namespace with its full
// capability set, reports "ok" and sleeps until it is told to stop.
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
	case "2":
		if os.Getuid() != 0 {
			report(fmt.Sprintf("uid %d in the new namespace, want 0: the id maps were not applied", os.Getuid()))
			os.Exit(1)
		}
		report("ok")
		holdNamespaces()
	}
	os.Exit(1)
}

func report(msg string) {
	ready := os.NewFile(4, "ready")
	_, _ = ready.Write([]byte(msg))
	ready.Close()
}

// holdNamespaces keeps the process, and so the namespaces, alive until it
// is asked to stop. Hangups from a closed terminal are ignored.
func holdNamespaces() {
	signal.Ignore(syscall.SIGHUP, syscall.SIGPIPE)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	os.Exit(0)
}
