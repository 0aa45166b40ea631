package oci

import (
	"fmt"
	"os"
	"strings"

	"github.com/moby/moby/api/types/mount"
)

// tmpfsFlags groups the flag options a tmpfs mount may carry: options in
// one group override each other, the last one given winning (moby
// mount.MergeTmpfsOptions), so "exec" undoes the default "noexec".
var tmpfsFlags = map[string]string{
	"ro": "ro", "rw": "ro",
	"suid": "suid", "nosuid": "suid",
	"dev": "dev", "nodev": "dev",
	"exec": "exec", "noexec": "exec",
	"sync": "sync", "async": "sync",
	"dirsync": "dirsync",
	"mand":    "mand", "nomand": "mand",
	"atime": "atime", "noatime": "atime",
	"diratime": "diratime", "nodiratime": "diratime",
	"relatime": "relatime", "norelatime": "relatime",
	"strictatime": "strictatime", "nostrictatime": "strictatime",
	"private": "propagation", "rprivate": "propagation",
	"shared": "propagation", "rshared": "propagation",
	"slave": "propagation", "rslave": "propagation",
	"unbindable": "propagation", "runbindable": "propagation",
}

// tmpfsData are the key=value options tmpfs accepts.
var tmpfsData = map[string]bool{
	"size": true, "mode": true, "uid": true, "gid": true,
	"nr_inodes": true, "nr_blocks": true, "mpol": true,
}

// TmpfsOptions are the options of a tmpfs mount given with --tmpfs or
// --mount type=tmpfs: docker's noexec, nosuid, nodev and rprivate, then
// the user's options ("size=64m,mode=1777,exec"), the last of each kind
// winning.
func TmpfsOptions(data string) ([]string, error) {
	opts := []string{"noexec", "nosuid", "nodev", "rprivate"}
	if data != "" {
		opts = append(opts, strings.Split(data, ",")...)
	}
	seen := map[string]bool{}
	var out []string
	for i := len(opts) - 1; i >= 0; i-- {
		o := opts[i]
		if o == "defaults" {
			continue
		}
		key, ok := tmpfsFlags[o]
		if !ok {
			k, _, hasValue := strings.Cut(o, "=")
			if !hasValue || !tmpfsData[k] {
				return nil, fmt.Errorf("invalid tmpfs option %q", o)
			}
			key = "data:" + k
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append([]string{o}, out...)
	}
	return out, nil
}

// tmpfsMountData turns --mount type=tmpfs options into the same option
// string --tmpfs takes (moby ConvertTmpfsOptions), sizes in bytes.
func tmpfsMountData(m mount.Mount) (string, error) {
	var opts []string
	if m.ReadOnly {
		opts = append(opts, "ro")
	}
	if o := m.TmpfsOptions; o != nil {
		if o.Mode != 0 {
			opts = append(opts, fmt.Sprintf("mode=%o", unixMode(o.Mode)))
		}
		if o.SizeBytes < 0 {
			return "", fmt.Errorf("invalid tmpfs size %d", o.SizeBytes)
		}
		if o.SizeBytes > 0 {
			opts = append(opts, fmt.Sprintf("size=%d", o.SizeBytes))
		}
		for _, kv := range o.Options {
			switch len(kv) {
			case 1:
				opts = append(opts, kv[0])
			case 2:
				opts = append(opts, kv[0]+"="+kv[1])
			default:
				return "", fmt.Errorf("invalid tmpfs option %q", kv)
			}
		}
	}
	data := strings.Join(opts, ",")
	if _, err := TmpfsOptions(data); err != nil {
		return "", err
	}
	return data, nil
}

// unixMode is a mode as chmod(2) takes it. The docker CLI sends "1777" as
// the number 0o1777, while Go clients may use os.ModeSticky: accept both.
func unixMode(m os.FileMode) uint32 {
	mode := uint32(m) & 0o7777
	if m&os.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&os.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&os.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}
