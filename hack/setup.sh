#!/usr/bin/env bash
# Prepares this host for rrun's tests. Run as root; idempotent, and quick
# when there is nothing to do.
#
# Usage: hack/setup.sh [USER...]          (default user: rrun-test)
#
#  1. installs the Debian packages the build and the tests need;
#  2. opens /dev/fuse and /dev/net/tun to unprivileged users, and ICMP
#     (ping) sockets to every group;
#  3. creates each test user with subordinate id ranges, a runtime directory
#     and a registries.conf that sends docker.io to the local registry, and
#     checks that unprivileged user namespaces are allowed;
#  4. starts the local registry (hack/registry.sh start);
#  5. builds the test images and pushes those the registry lacks.
#
# Nothing a test user needs is left in the repository, which may live where
# those users cannot read (under /root, say).
#
# Environment: REGISTRY_ADDR (default 127.0.0.1:5000).
set -euo pipefail

HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(dirname "$HACK_DIR")
# shellcheck source=hack/lib.sh
. "$HACK_DIR/lib.sh"

PACKAGES=(
	uidmap fuse-overlayfs busybox-static docker-registry libseccomp-dev pkg-config
	gcc libc6-dev make git iproute2 procps util-linux ca-certificates curl attr iperf3 python3-docker docker-compose
)

# install_packages installs those of PACKAGES that dpkg does not list as
# installed; apt's output is shown only if it fails.
install_packages() {
	local missing=() pkg status
	local -A state=()
	while read -r pkg status; do
		state[$pkg]=$status
	done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
	for pkg in "${PACKAGES[@]}"; do
		[[ ${state[$pkg]:-} == installed ]] || missing+=("$pkg")
	done
	if ((${#missing[@]} == 0)); then
		info "packages: all ${#PACKAGES[@]} installed"
		return
	fi

	local out
	out=$(mktemp)
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get update -q >"$out" 2>&1 ||
		! apt-get install -y -q "${missing[@]}" >>"$out" 2>&1; then
		cat "$out" >&2
		rm -f "$out"
		die "installing ${missing[*]} failed"
	fi
	rm -f "$out"
	info "packages: installed ${missing[*]}"
}

# stop_debian_registry_service stops the docker-registry that the Debian
# package's init script starts on install where services may start (not in
# a Docker-built image: policy-rc.d forbids it there). It listens on :5000 on
# every address with an htpasswd setup of its own and would take our port.
stop_debian_registry_service() {
	local pidfile=/var/run/docker-registry.pid pid cmdline
	pid=$(cat "$pidfile" 2>/dev/null) || return 0
	# Only that service's process, not whatever reused a stale pid.
	cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || cmdline=
	if [[ $cmdline == "/usr/bin/docker-registry serve /etc/docker/registry/config.yml " ]]; then
		info "registry: stopping Debian's docker-registry service (pid $pid), it holds port 5000"
		/etc/init.d/docker-registry stop >/dev/null
	fi
	# start-stop-daemon leaves the pid file behind.
	rm -f "$pidfile"
}

# open_device makes the character device $1 (major $2, minor $3) usable by
# every user, creating it if the container runtime did not.
open_device() {
	local path=$1 major=$2 minor=$3
	if [[ ! -c $path ]]; then
		mkdir -p "$(dirname "$path")"
		mknod -m 0666 "$path" c "$major" "$minor"
		changed+=("created $path")
	fi
	if [[ $(stat -c %a "$path") != 666 ]]; then
		chmod 0666 "$path"
		changed+=("chmod 0666 $path")
	fi
}

prepare_devices() {
	local changed=()
	open_device /dev/fuse 10 229
	open_device /dev/net/tun 10 200
	# Ping from containers uses unprivileged ICMP sockets on the host, as
	# Fedora and Ubuntu allow every group by default; Debian allows none.
	if [[ $(sysctl -n net.ipv4.ping_group_range) != "0"*"2147483647" ]]; then
		sysctl -qw net.ipv4.ping_group_range="0 2147483647"
		changed+=("net.ipv4.ping_group_range=0 2147483647")
	fi
	if ((${#changed[@]} == 0)); then
		info "devices: /dev/fuse and /dev/net/tun already 0666, ping sockets allowed"
	else
		info "devices: $(join_list "${changed[@]}")"
	fi
}

# next_subid_start prints the start of a free 65536-id range: above every
# range of /etc/subuid and /etc/subgid, and not below 100000 (useradd's
# default start).
next_subid_start() {
	awk -F: 'NF >= 3 { end = $2 + $3; if (end > max) max = end }
		END { print (max > 100000 ? max : 100000) }' /etc/subuid /etc/subgid
}

# ensure_subids gives user $1 (uid $2) subordinate uid and gid ranges if it
# has none; useradd does that for new users, not for older ones.
ensure_subids() {
	local user=$1 uid=$2 args=() start
	touch /etc/subuid /etc/subgid
	start=$(next_subid_start)
	grep -qE "^($user|$uid):" /etc/subuid || args+=(--add-subuids "$start-$((start + 65535))")
	grep -qE "^($user|$uid):" /etc/subgid || args+=(--add-subgids "$start-$((start + 65535))")
	if ((${#args[@]})); then
		usermod "${args[@]}" "$user"
		notes+=("subordinate ids $start-$((start + 65535))")
	fi
}

# run_as runs a command as user $1 from /, since the caller's directory (the
# repository) may be closed to that user.
run_as() {
	local user=$1
	shift
	(cd / && runuser -u "$user" -- "$@")
}

registries_conf() {
	cat <<EOF
# Written by rrun's hack/setup.sh: image names resolve to the local test
# registry, which is the only one reachable in the test environment.
unqualified-search-registries = ["docker.io"]

[[registry]]
prefix = "docker.io"
location = "$REGISTRY_ADDR"
insecure = true

[[registry]]
location = "$REGISTRY_ADDR"
insecure = true
EOF
}

# write_registries_conf writes the user's registries.conf as the user, so
# that it and its directories get the right owner and a symlink in the home
# directory cannot redirect a write done as root.
write_registries_conf() {
	# $HOME is expanded by the user's shell.
	# shellcheck disable=SC2016
	local user=$1 want have file='$HOME/.config/containers/registries.conf'
	want=$(registries_conf)
	have=$(run_as "$user" sh -c "cat \"$file\" 2>/dev/null" || true)
	[[ $have == "$want" ]] && return 0
	printf '%s\n' "$want" | run_as "$user" sh -c \
		"mkdir -p \"\$HOME/.config/containers\" && cat >\"$file.tmp\" && mv \"$file.tmp\" \"$file\""
	notes+=("wrote ~/.config/containers/registries.conf")
}

prepare_user() {
	local user=$1 uid gid notes=()
	if ! id -u "$user" >/dev/null 2>&1; then
		useradd -m -s /bin/bash "$user"
		notes+=("created")
	fi
	uid=$(id -u "$user")
	gid=$(id -g "$user")
	ensure_subids "$user" "$uid"

	# XDG_RUNTIME_DIR, as pam_systemd/logind would make it.
	local run=/run/user/$uid
	if [[ ! -d $run || $(stat -c '%u:%g %a' "$run") != "$uid:$gid 700" ]]; then
		install -d -m 0700 -o "$uid" -g "$gid" "$run"
		notes+=("runtime dir $run")
	fi
	write_registries_conf "$user"

	local ids
	ids="subuid $(grep -E "^($user|$uid):" /etc/subuid | head -n1 | cut -d: -f2-)"
	if ((${#notes[@]} == 0)); then
		info "user $user (uid $uid, $ids): ready"
	else
		info "user $user (uid $uid, $ids): $(join_list "${notes[@]}")"
	fi
	check_userns "$user"
}

# set_sysctl writes value $2 to /proc/sys/$1 if it differs, returning
# non-zero if it cannot (a read-only /proc/sys inside a container).
set_sysctl() {
	local file=/proc/sys/$1 value=$2
	[[ $(<"$file") == "$value" ]] && return 0
	if echo "$value" >"$file" 2>/dev/null; then
		info "sysctl: ${1//\//.} = $value"
		return 0
	fi
	warn "cannot set ${1//\//.} = $value (now $(<"$file"))"
	return 1
}

# check_userns makes sure the kernel lets user $1 create user namespaces,
# then tries it, mapping the user's subordinate ids as rrun will.
check_userns() {
	local user=$1
	# Debian's own switch (older kernels), then Ubuntu's AppArmor restriction.
	if [[ -e /proc/sys/kernel/unprivileged_userns_clone ]]; then
		set_sysctl kernel/unprivileged_userns_clone 1 || true
	fi
	if [[ -e /proc/sys/kernel/apparmor_restrict_unprivileged_userns ]]; then
		set_sysctl kernel/apparmor_restrict_unprivileged_userns 0 || true
	fi
	if [[ $(</proc/sys/user/max_user_namespaces) == 0 ]]; then
		set_sysctl user/max_user_namespaces 15000 || true
	fi
	local err
	if ! err=$(run_as "$user" unshare --map-root-user --map-auto true 2>&1); then
		warn "user $user cannot create a user namespace with its subordinate ids: $err"
		warn "rrun will not work for $user; check the sysctls above, /etc/subuid and that newuidmap is setuid"
	fi
}

build_images() {
	if ! command -v go >/dev/null; then
		[[ -x /usr/local/go/bin/go ]] || die "go not found (expected on PATH or in /usr/local/go/bin)"
		PATH=/usr/local/go/bin:$PATH
	fi
	cd "$REPO_ROOT"
	go run -tags "$GO_BUILD_TAGS" ./hack/testimages --registry "$REGISTRY_ADDR"
}

main() {
	need_root
	local users=("$@")
	((${#users[@]})) || users=(rrun-test)

	install_packages
	prepare_devices
	local user
	for user in "${users[@]}"; do
		prepare_user "$user"
	done
	stop_debian_registry_service
	"$HACK_DIR/registry.sh" start
	build_images
}

main "$@"
