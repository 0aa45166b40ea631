// Command rrun runs OCI containers for an unprivileged user, with no root
// and no daemon. The same binary is the CLI, the rootless namespace holder
// and the re-executed helpers of the storage library; main only dispatches.
package main

import (
	"os"

	"go.podman.io/storage/pkg/reexec"

	"github.com/rrun/rrun/cmd"
	"github.com/rrun/rrun/pkg/engine"
	"github.com/rrun/rrun/pkg/oci"
	"github.com/rrun/rrun/pkg/rootless"
)

func main() {
	// The container's init: libcontainer's nsexec (a C constructor) has
	// already set up its namespaces.
	oci.MaybeRunInit()
	// docker's --init: this binary, mounted in the container as PID 1.
	oci.MaybeRunContainerInit()
	// containers/storage unpacks layers in a re-executed, chrooted copy
	// of this binary; those runs end here.
	if reexec.Init() {
		return
	}
	rootless.MaybeRunPause()
	engine.MaybeRunSupervisor()
	os.Exit(cmd.Run(os.Args))
}
