#!/usr/bin/env bash
# The main job, end to end: as an unprivileged user, pull alpine from the
# local registry and show what rrun did. `make demo` prepares the host and
# builds first; run this as root.
#
# Usage: hack/demo.sh USER RRUN_BINARY
set -euo pipefail

user=${1:?usage: hack/demo.sh USER RRUN_BINARY}
binary=${2:?usage: hack/demo.sh USER RRUN_BINARY}

# Install the binary where the user can run it (the repository may be
# unreadable to them, under /root say).
install -m 0755 "$binary" /usr/local/bin/rrun

uid=$(id -u "$user")
as_user() {
	runuser -u "$user" -- env -i HOME="$(getent passwd "$user" | cut -d: -f6)" USER="$user" \
		LOGNAME="$user" PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin XDG_RUNTIME_DIR="/run/user/$uid" "$@"
}
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { step "$*"; as_user "$@"; }

echo "Running as $user (uid $uid), with subordinate ids $(grep "^$user:" /etc/subuid | cut -d: -f2-)"
run rrun --version
run rrun pull alpine
run rrun images
run rrun image inspect --format 'id {{.Id}}, {{.Os}}/{{.Architecture}}, cmd {{json .Config.Cmd}}, {{len .RootFS.Layers}} layers' alpine
step "rrun unshare cat /proc/self/uid_map   # container root is the user; 1.. are the subordinate ids"
as_user rrun unshare cat /proc/self/uid_map
step "rrun info --format '{{.store.driver}}'"
as_user rrun info --format '{{.store.driver}}'
# Containers arrive with the container runtime; until then, show the image's
# root filesystem from inside the namespace, with the image's own busybox.
step 'rrun unshare chroot "$(rrun image mount alpine)" /bin/sh -c "cat /etc/alpine-release; id"'
as_user sh -c 'dir=$(rrun image mount alpine) && rrun unshare chroot "$dir" /bin/sh -c "cat /etc/alpine-release; id"; rrun image unmount alpine'
echo
echo "Demo done: $user pulled alpine and looked inside it without root."
