// Package version holds rrun's version, set at build time by the Makefile
// with -ldflags "-X github.com/rrun/rrun/pkg/version.Version=…".
package version

// Version is rrun's release, or a git description for development builds.
var Version = "0.1.0-dev"

// GitCommit is the commit the binary was built from, when known.
var GitCommit = ""
