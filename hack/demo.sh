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
run rrun run --rm alpine sh -c 'echo "hello from $(hostname), pid $$, uid $(id -u), alpine $(cat /etc/alpine-release)"'
run rrun run -d --name demo-web alpine sh -c 'while true; do date; sleep 1; done'
run rrun ps
step "sleep 2; rrun logs --tail 2 demo-web"
sleep 2
as_user rrun logs --tail 2 demo-web
run rrun exec demo-web sh -c "grep -E '^(Name|Uid|CapEff)' /proc/1/status"
run rrun rm -f demo-web

# Networking: a published port (the container sees the client's address)
# and a user-defined network where containers find each other by name.
run rrun run -d --name demo-http -p 127.0.0.1:18480:80 alpine sh -c 'echo "hello over -p" > /i && exec httpd -f -p 80 -h /'
step "curl -s http://127.0.0.1:18480/i"
for _ in $(seq 50); do curl -sf http://127.0.0.1:18480/i && break; sleep 0.1; done
run rrun port demo-http
run rrun network create demo-net
run rrun network connect demo-net demo-http
run rrun run --rm --network demo-net alpine wget -qO- http://demo-http/i
run rrun rm -f demo-http
run rrun network rm demo-net
echo
echo "Demo done: $user pulled alpine and ran containers in it, with their own network, without root or a daemon."
