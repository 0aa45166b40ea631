package oci

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/containerd/errdefs"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/moby/sys/user"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-tools/generate"
	"golang.org/x/sys/unix"
)

// ResolveUser resolves docker's --user ("name|uid[:group|gid]", "" for
// root) and --group-add against the container's own /etc/passwd and
// /etc/group, as docker's getUser does: a name must be found there, a
// numeric id need not be. The primary group is also the first additional
// group (moby's fix for CVE-2023-25173), followed by the user's groups
// from /etc/group and the --group-add ones.
func ResolveUser(rootfs, spec string, groupAdd []string) (specs.User, error) {
	passwd, err := openInRootfs(rootfs, "/etc/passwd")
	if err != nil {
		return specs.User{}, err
	}
	if passwd != nil {
		defer passwd.Close()
	}
	group, err := openInRootfs(rootfs, "/etc/group")
	if err != nil {
		return specs.User{}, err
	}
	if group != nil {
		defer group.Close()
	}

	// A nil *os.File in an io.Reader is not a nil io.Reader, and
	// moby/sys/user treats only the latter as "no such file".
	var passwdR, groupR io.Reader
	if passwd != nil {
		passwdR = passwd
	}
	if group != nil {
		groupR = group
	}
	exec, err := user.GetExecUser(spec, nil, passwdR, groupR)
	if err != nil {
		return specs.User{}, errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	u := specs.User{UID: uint32(exec.Uid), GID: uint32(exec.Gid)}
	gids := append([]int{exec.Gid}, exec.Sgids...)

	if len(groupAdd) > 0 {
		// The group file was read to its end above; read it again.
		if group != nil {
			if _, err := group.Seek(0, io.SeekStart); err != nil {
				return specs.User{}, fmt.Errorf("reading the container's /etc/group: %w", err)
			}
		}
		added, err := user.GetAdditionalGroups(groupAdd, groupR)
		if err != nil {
			return specs.User{}, errdefs.ErrInvalidArgument.WithMessage(err.Error())
		}
		slices.Sort(added) // they come from a map
		gids = append(gids, added...)
	}
	for _, gid := range gids {
		if !slices.Contains(u.AdditionalGids, uint32(gid)) {
			u.AdditionalGids = append(u.AdditionalGids, uint32(gid))
		}
	}
	return u, nil
}

// WithUser sets the process's uid, gid, groups (see ResolveUser) and umask.
func WithUser(g *generate.Generator, in *SpecInput) error {
	u, err := ResolveUser(in.Rootfs, in.Config.User, in.HostConfig.GroupAdd)
	if err != nil {
		return err
	}
	if in.HostConfig.Umask != nil {
		umask := *in.HostConfig.Umask
		u.Umask = &umask
	}
	g.Config.Process.User = u
	return nil
}

// openInRootfs opens a regular file of the container for reading,
// resolving the path and its symlinks as if rootfs were "/" so that an
// image cannot make rrun read the host's files, and refusing FIFOs and
// devices that could block or misbehave. A missing file is (nil, nil).
func openInRootfs(rootfs, name string) (*os.File, error) {
	handle, err := pathrs.OpenInRoot(rootfs, name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("opening the container's %s: %w", name, err)
	}
	defer handle.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(handle.Fd()), &st); err != nil {
		return nil, fmt.Errorf("opening the container's %s: %w", name, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("the container's %s is not a regular file", name))
	}
	f, err := pathrs.Reopen(handle, unix.O_RDONLY|unix.O_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("opening the container's %s: %w", name, err)
	}
	return f, nil
}
