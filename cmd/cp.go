package cmd

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
)

func cpFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "archive", Aliases: []string{"a"}, Usage: "archive mode: keep the source's owners (uid/gid) when copying into a container, instead of making the files root's"},
		&cli.BoolFlag{Name: "follow-link", Aliases: []string{"L"}, Usage: "always follow symbolic links in SRC_PATH"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress the closing summary (it is only printed to a terminal anyway)"},
	}
}

func cpCommand() *cli.Command {
	return &cli.Command{
		Name:  "cp",
		Usage: "Copy files/folders between a container and the local filesystem",
		Description: `Use '-' as the source to read a tar archive from stdin
and extract it to a directory destination in a container.
Use '-' as the destination to stream a tar archive of a
container source to stdout.

Files copied out of a container belong to you; files copied into a
container belong to its root (0:0) unless -a keeps the source's owners.
As with docker, a container (running or not) is its filesystem with its
volumes and bind mounts: not its tmpfs mounts, nor /proc, /sys or /dev.`,
		ArgsUsage: "CONTAINER:SRC_PATH DEST_PATH|-\n   rrun cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
		Flags:     cpFlags(),
		Action:    cpAction,
	}
}

const cpUsage = "Usage: rrun cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n       rrun cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH"

func cpAction(c *cli.Context) error {
	if c.NArg() != 2 {
		return usageError("\"cp\" requires exactly 2 arguments\n%s", cpUsage)
	}
	src, dst := c.Args().Get(0), c.Args().Get(1)
	if src == "" {
		return usageError("source can not be empty")
	}
	if dst == "" {
		return usageError("destination can not be empty")
	}
	srcContainer, srcPath := splitCpArg(src)
	dstContainer, dstPath := splitCpArg(dst)
	switch {
	case srcContainer != "" && dstContainer != "":
		return errors.New("copying between containers is not supported")
	case srcContainer == "" && dstContainer == "":
		return errors.New("must specify at least one container source")
	}
	// docker prints its summary only when its output is a terminal.
	var progress *os.File
	if !c.Bool("quiet") && isTerminal(c.App.Writer) {
		progress = os.Stderr
	}
	return withEngine(c, func(eng *engine.Engine) error {
		if srcContainer != "" {
			opts := engine.CopyFromOptions{
				Container:   srcContainer,
				Path:        srcPath,
				Destination: dstPath,
				FollowLink:  c.Bool("follow-link"),
				Stdout:      c.App.Writer,
			}
			if progress != nil {
				opts.Progress = progress
			}
			return eng.CopyFromContainer(c.Context, opts)
		}
		opts := engine.CopyToOptions{
			Container:  dstContainer,
			Path:       dstPath,
			Source:     srcPath,
			FollowLink: c.Bool("follow-link"),
			CopyUIDGID: c.Bool("archive"),
			Stdin:      os.Stdin,
		}
		if progress != nil {
			opts.Progress = progress
		}
		return eng.CopyToContainer(c.Context, opts)
	})
}

// splitCpArg splits CONTAINER:PATH, as docker does: an absolute path, or
// a relative one starting with ".", is local even with a colon in it
// (./file:name.txt).
func splitCpArg(arg string) (container, path string) {
	if filepath.IsAbs(arg) {
		return "", arg
	}
	container, path, ok := strings.Cut(arg, ":")
	if !ok || strings.HasPrefix(container, ".") {
		return "", arg
	}
	return container, path
}
