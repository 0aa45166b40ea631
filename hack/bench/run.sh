#!/usr/bin/env bash
# Benchmarks rrun beside rootless podman, in the same run and on the same
# host, as an unprivileged user, and prints a table of figures and ratios.
# Run as root; idempotent. See hack/bench/README.md.
#
# Usage: hack/bench/run.sh [RRUN_BINARY]      (default: bin/rrun of this tree)
#
#  1. hack/setup.sh for the bench user (registry, test images); installs
#     Debian's podman and runc if missing;
#  2. configures the user's rootless podman the way this hybrid-cgroup host
#     needs (see /work/shared/FACTS.md);
#  3. measures, alternating the tools, each in fresh storage:
#     images (each pull sample in a store of its own):
#       - pull of rrun-test/big as the first command (namespace holder not
#         running yet: what a user sees right after login or a reboot);
#       - pull of rrun-test/big with the namespace holder already up (pull
#         speed proper);
#       - `images` latency over a store of 5 images;
#       - peak RSS of the pull and of `images`;
#     containers (rrun, podman with its default network, podman with
#     --network host; holder up, busybox pulled, one store per tool):
#       - `run --rm busybox true`;
#       - `create busybox true`, `start`, `rm`, each timed on its own;
#       - containers per second over sequential `run --rm busybox true`;
#       - memory (PSS, RSS) of the processes each tool keeps: the marginal
#         cost of one more running container (rrun: growth of its shared
#         rrun-supervisor from 1 to BENCH_MEM_N containers; podman: conmon
#         [+ slirp4netns] per container), the per-user fixed processes
#         (rrun-pause + rrun-supervisor; catatonit), the total with
#         BENCH_MEM_N running, and the break-even number of containers;
#     network (rrun's default network, podman's default: slirp4netns with
#     its rootlesskit port handler; one store per tool):
#       - iperf3 throughput, container -> an iperf3 server on the host's
#         address (host.containers.internal), and host -> a container's
#         iperf3 server behind a published port (-p);
#       - connections per second through a published port (an HTTP request
#         each, to busybox httpd in a container; hack/bench/connrate), one at
#         a time and BENCH_CONN_C at a time;
#       - `run --rm alpine true` with the default network and with
#         --network none: what setting up the network adds to a start;
#     serve (the Docker Engine API: `rrun serve`, `podman system service`,
#     each on its own socket, driven by the docker CLI and curl):
#       - docker version, docker ps -a with 0 and 50 containers, curl of
#         /containers/json?all=1, docker run --rm busybox true;
#       - the server's PSS idle after start and after 200 requests;
#  4. prints the tables (medians, min-max), writes key=value results and
#     removes everything it created but the podman/runc packages and the
#     user's podman configuration.
#
# Environment:
#   BENCH_USER         user to measure as (default rrun-test)
#   BENCH_SECTIONS     what to measure: "images containers network serve"
#                      (default), or any of them
#   BENCH_RUNS         pulls per figure and tool (default 5)
#   BENCH_IMAGES_RUNS  `images` runs per tool (default 20)
#   BENCH_CT_RUNS      samples of run --rm, create, start, rm per tool (default 11)
#   BENCH_SEQ          containers per sequential run --rm sample (default 50)
#   BENCH_SEQ_RUNS     sequential samples per tool (default 3)
#   BENCH_MEM_N        running containers per tool for the memory figures (default 10, at least 2)
#   BENCH_MEM_RUNS     memory measurements per tool, each in a fresh store (default 3)
#   BENCH_NET_TIME     seconds of each iperf3 test (default 10)
#   BENCH_NET_RUNS     iperf3 tests per direction and tool (default 1)
#   BENCH_CONN_TIME    seconds of each connection-rate sample (default 3)
#   BENCH_CONN_C       connections at a time for the concurrent rate (default 8)
#   BENCH_START_RUNS   run --rm samples per tool and network mode (default 20)
#   BENCH_SERVE_RUNS   samples of docker version, ps, curl per server (default 10)
#   BENCH_SERVE_CTS    created containers for the serve ps/curl figures (default 50)
#   BENCH_SERVE_REQS   curl requests before the server's second memory figure (default 200)
#   BENCH_SERVE_CT_RUNS docker run --rm samples per server (default 10)
#   BENCH_DRIVER       storage driver for both tools: overlay (default) or vfs
#   BENCH_OUT          key=value results file (default hack/bench/results.txt)
#   REGISTRY_ADDR      local registry (default 127.0.0.1:5000, see hack/lib.sh)
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HACK_DIR=$(dirname "$BENCH_DIR")
REPO_ROOT=$(dirname "$HACK_DIR")
# shellcheck source=hack/lib.sh
. "$HACK_DIR/lib.sh"

BENCH_USER=${BENCH_USER:-rrun-test}
BENCH_RUNS=${BENCH_RUNS:-5}
BENCH_IMAGES_RUNS=${BENCH_IMAGES_RUNS:-20}
BENCH_DRIVER=${BENCH_DRIVER:-overlay}
BENCH_OUT=${BENCH_OUT:-$BENCH_DIR/results.txt}
BENCH_SECTIONS=${BENCH_SECTIONS:-images containers network serve}
BENCH_CT_RUNS=${BENCH_CT_RUNS:-11}
BENCH_SEQ=${BENCH_SEQ:-50}
BENCH_SEQ_RUNS=${BENCH_SEQ_RUNS:-3}
BENCH_MEM_N=${BENCH_MEM_N:-10}
BENCH_MEM_RUNS=${BENCH_MEM_RUNS:-3}
BENCH_NET_TIME=${BENCH_NET_TIME:-10}
BENCH_NET_RUNS=${BENCH_NET_RUNS:-1}
BENCH_CONN_TIME=${BENCH_CONN_TIME:-3}
BENCH_CONN_C=${BENCH_CONN_C:-8}
BENCH_START_RUNS=${BENCH_START_RUNS:-20}
BENCH_SERVE_RUNS=${BENCH_SERVE_RUNS:-10}
BENCH_SERVE_CTS=${BENCH_SERVE_CTS:-50}
BENCH_SERVE_REQS=${BENCH_SERVE_REQS:-200}
BENCH_SERVE_CT_RUNS=${BENCH_SERVE_CT_RUNS:-10}

TOOLS=(rrun podman)
# The container figures compare three variants: each tool with its default
# network (rrun: a bridge behind the user-mode stack of its supervisor, no
# process per container; podman: a slirp4netns process per container), and
# podman with --network host, which sets up no network at all. A variant is
# a tool name, or podman-host (podman with --network host on create and run).
VARIANTS=(rrun podman podman-host)
declare -A VARIANT_OPTS=([rrun]="" [podman]="" [podman-host]="--network host")
CT_IMAGE=docker.io/library/busybox:latest
# The pulled image, and the images of the store that `images` lists (five
# distinct images; alpine:3.20 is alpine:latest, rrun-test/evil is a
# hostile-layer test image and is left out).
BIG_IMAGE=docker.io/rrun-test/big:latest
IMAGES_SET=(
	docker.io/library/busybox:latest docker.io/library/alpine:latest
	docker.io/rrun-test/owners:latest docker.io/rrun-test/multiarch:latest
	"$BIG_IMAGE"
)
# The network section's images: iperf3 (busybox plus the host's iperf3 and
# its libraries, from hack/testimages) for the traffic, alpine for start
# times.
NET_IMAGE=docker.io/rrun-test/iperf3:latest
START_IMAGE=docker.io/library/alpine:latest

# Set by main.
RRUN=
WORK=
USER_HOME=
USER_UID=
CMD=()
declare -A SAMPLES=()   # "tool figure" -> space-separated samples
declare -A MEM_NOTES=() # variant -> the processes found per container
declare -A NET_NOTES=() # tool -> its network, MTU and port handler
declare -A SERVE_NOTES=() # tool -> the server processes counted
HOST_ADDR= # the host's external IPv4 address, iperf3's server binds to it
NET_HOST=  # how containers address the host: host.containers.internal or HOST_ADDR
CONNRATE=  # hack/bench/connrate, built into the bench's directory

# ---------------------------------------------------------------- setup

# ensure_packages installs podman (with runc: crun refuses this hybrid-cgroup
# host; slirp4netns and catatonit are only recommended by Debian's podman,
# and its rootless default network and pause process need them) and GNU
# time when dpkg lacks them; the package lists are refreshed only if
# installing from the current ones fails.
ensure_packages() {
	local pkgs=(podman runc slirp4netns catatonit time) missing=() pkg
	for pkg in "${pkgs[@]}"; do
		[[ $(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) == installed ]] ||
			missing+=("$pkg")
	done
	if ((${#missing[@]} == 0)); then
		info "packages: ${pkgs[*]} installed"
		return
	fi
	local out
	out=$(mktemp)
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -q "${missing[@]}" >"$out" 2>&1; then
		if ! apt-get update -q >>"$out" 2>&1 ||
			! apt-get install -y -q "${missing[@]}" >>"$out" 2>&1; then
			cat "$out" >&2
			rm -f "$out"
			die "installing ${missing[*]} failed"
		fi
	fi
	rm -f "$out"
	info "packages: installed ${missing[*]}"
}

# as_user runs a command as the bench user from / (the repository may be
# closed to that user), in a clean login-like environment. When the caller
# sets STORE_DIR, XDG_RUNTIME_DIR and XDG_DATA_HOME point into it (see
# tool_cmd); else they are the user's.
as_user() {
	local xdg=(XDG_RUNTIME_DIR="/run/user/$USER_UID")
	[[ -z ${STORE_DIR:-} ]] || xdg=(XDG_RUNTIME_DIR="$STORE_DIR/xdg" XDG_DATA_HOME="$STORE_DIR/data")
	(cd / && runuser -u "$BENCH_USER" -- env -i \
		HOME="$USER_HOME" USER="$BENCH_USER" LOGNAME="$BENCH_USER" \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		LANG=C.UTF-8 "${xdg[@]}" "$@")
}

# write_user_file writes stdin to ~/$1 as the user (right owner, and a
# symlink in the home directory cannot redirect a write done as root), only
# when the content differs. Prints "changed" when it wrote.
write_user_file() {
	local rel=$1 want have
	want=$(cat)
	have=$(as_user sh -c "cat \"\$HOME/$rel\" 2>/dev/null" || true)
	[[ $have == "$want" ]] && return 0
	printf '%s\n' "$want" | as_user sh -c \
		"mkdir -p \"\$(dirname \"\$HOME/$rel\")\" && cat >\"\$HOME/$rel.tmp\" && mv \"\$HOME/$rel.tmp\" \"\$HOME/$rel\""
	echo changed
}

CONF_MARK='# Written by rrun'"'"'s hack/bench/run.sh'

# containers.conf settings go to a drop-in file of their own, which podman
# 4.3 reads after containers.conf: the user's containers.conf, if any, is
# left alone and these three keys win.
containers_conf() {
	cat <<EOF
$CONF_MARK: rootless podman on this host.
# crun refuses hybrid cgroups (v1 controllers, empty v2 hierarchy); there is
# no systemd (PID 1) and no journald.
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
}

# storage.conf has no drop-in directory in podman 4.3. Without it podman
# silently uses vfs for a new user. rrun reads the same file for its default
# driver choice, which is fine: both then use the native kernel overlay (and
# the bench passes --storage-driver to both anyway).
storage_conf() {
	cat <<EOF
$CONF_MARK: rootless podman (and rrun, which
# reads storage.conf for its default driver) use the native kernel overlay.
[storage]
driver = "overlay"
EOF
}

configure_podman() {
	local notes=() rel=.config/containers/storage.conf have
	[[ $(containers_conf | write_user_file .config/containers/containers.conf.d/50-rrun-bench.conf) ]] &&
		notes+=("wrote ~/.config/containers/containers.conf.d/50-rrun-bench.conf")

	have=$(as_user sh -c "cat \"\$HOME/$rel\" 2>/dev/null" || true)
	if [[ -z $have || $have == "$CONF_MARK"* ]]; then
		[[ $(storage_conf | write_user_file "$rel") ]] && notes+=("wrote ~/$rel")
	elif ! grep -Eq '^[[:space:]]*driver[[:space:]]*=[[:space:]]*"overlay"' <<<"$have"; then
		# Someone else's file: set only its driver key.
		if grep -Eq '^[[:space:]]*driver[[:space:]]*=' <<<"$have"; then
			have=$(sed -E 's/^[[:space:]]*driver[[:space:]]*=.*/driver = "overlay"/' <<<"$have")
		elif grep -Eq '^\[storage\]' <<<"$have"; then
			have=$(sed -E 's/^\[storage\].*/&\ndriver = "overlay"/' <<<"$have")
		else
			have=$(printf '[storage]\ndriver = "overlay"\n\n%s' "$have")
		fi
		write_user_file "$rel" <<<"$have" >/dev/null
		notes+=("set driver = \"overlay\" in ~/$rel")
	fi
	if ((${#notes[@]} == 0)); then
		info "podman config of $BENCH_USER: up to date"
	else
		info "podman config of $BENCH_USER: $(join_list "${notes[@]}")"
	fi
}

# ------------------------------------------------------------ the tools

# tool_cmd sets CMD to tool $1's command line for the store in directory $2
# (store dir/root, run-time state dir/run). Commands run with STORE_DIR set,
# for both tools alike (rrun ignores these with --root and --runroot):
#  - XDG_RUNTIME_DIR=dir/xdg: podman's rootless pause process is per user,
#    found through XDG_RUNTIME_DIR, not per --runroot as rrun's holder is;
#    so each store has a namespace holder of its own for either tool and the
#    user's real ones are untouched;
#  - XDG_DATA_HOME=dir/data: podman 4.3 keeps containers/image's blob-info
#    cache in ~/.local/share/containers/cache, not under --root as rrun
#    does; so both start each store with an empty cache.
tool_cmd() {
	local tool=$1 dir=$2
	case $tool in
	rrun) CMD=("$RRUN") ;;
	podman | podman-host) CMD=(podman) ;; # podman-host: see VARIANTS
	*) die "unknown tool $tool" ;;
	esac
	CMD+=(--root "$dir/root" --runroot "$dir/run" --storage-driver "$BENCH_DRIVER")
}

# new_store creates an empty directory for a store of tool $1, named $2,
# owned by the user, and prints its path.
new_store() {
	local dir=$WORK/$1-$2
	install -d -m 0700 -o "$BENCH_USER" "$dir" "$dir/xdg" "$dir/data"
	printf '%s\n' "$dir"
}

# store_pids prints the bench user's processes that belong to the store in
# $1: every command runs with XDG_RUNTIME_DIR=$1/xdg (see tool_cmd), and the
# processes the tools leave behind (namespace holders, rrun's supervisor of
# the store's run root, conmon, slirp4netns, podman's cleanup commands)
# inherit it. Container processes
# have the image's environment: see with_descendants.
store_pids() {
	local want="XDG_RUNTIME_DIR=$1/xdg" pid
	for pid in $(pgrep -u "$USER_UID"); do
		grep -qzxF -- "$want" "/proc/$pid/environ" 2>/dev/null && printf '%s\n' "$pid"
	done
	return 0
}

# with_descendants prints the given pids and all their descendants.
with_descendants() {
	ps -e -o pid=,ppid= | awk -v roots="$*" '
		BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
		{ parent[$1] = $2 }
		END {
			do {
				changed = 0
				for (p in parent)
					if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; changed = 1 }
			} while (changed)
			for (p in keep) print p
		}'
}

# argv0 prints the base name of process $1's argv[0] (rrun-supervisor's
# /proc/PID/comm is "exe": it is /proc/self/exe re-executed).
argv0() {
	local a
	a=$(tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | head -n1) || true
	printf '%s\n' "${a##*/}"
}

# in_store runs tool $1 with the store in $2 as the user: in_store TOOL DIR
# ARGS... Its stderr (podman warns that / is not a shared mount on every
# command here) is shown only when it fails.
in_store() {
	local tool=$1 dir=$2
	shift 2
	tool_cmd "$tool" "$dir"
	if ! STORE_DIR=$dir as_user "${CMD[@]}" "$@" 2>"$dir/stderr"; then
		cat "$dir/stderr" >&2
		return 1
	fi
}

# holder_pids prints the namespace holders of the store in $1: rrun's
# (run/pause.pid: "pid starttime") and podman's (xdg/libpod/tmp/pause.pid),
# checking that each is the bench user's rrun-pause or catatonit process so
# that a recycled pid is never killed.
holder_pids() {
	local dir=$1 file pid argv0 uid
	for file in "$dir/run/pause.pid" "$dir/xdg/libpod/tmp/pause.pid"; do
		[[ -f $file ]] || continue
		read -r pid _ <"$file" || true
		[[ $pid =~ ^[0-9]+$ ]] || continue
		uid=$(stat -c %u "/proc/$pid" 2>/dev/null) || continue
		argv0=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -n1) || continue
		[[ $uid == "$USER_UID" ]] || continue
		case ${argv0##*/} in
		rrun-pause | catatonit | podman) printf '%s\n' "$pid" ;;
		esac
	done
}

# destroy_store kills the store's namespace holders (their mount namespaces
# may still hold the overlay driver's private mounts) and every other
# process of the store with its descendants (rrun's supervisor, which stays
# up to 30 s after the store's last container; containers left running by a
# failed run: conmon, slirp4netns, the containers' processes), each
# by its pid, then removes the store as root: its files belong to the user's
# subordinate ids, and root needs no namespace for that.
destroy_store() {
	local dir=$1 pid i pids
	# shellcheck disable=SC2046 # pid lists
	pids=$(with_descendants $(holder_pids "$dir") $(store_pids "$dir"))
	for pid in $pids; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	for pid in $pids; do
		for ((i = 0; i < 100; i++)); do
			[[ -d /proc/$pid && $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]] || break
			sleep 0.02
		done
	done
	rm -rf "$dir"
}

# The timer, run as the user in bash: flushes dirty pages so that the
# previous sample's writeback does not land in this one, then runs the
# command under GNU time (peak RSS, in KiB, to $1.rss) and prints its end and
# start times in microseconds from bash's clock (no fork for the clock
# itself), then the peak RSS. With a count $2 above 1 the command runs that
# many times in a row, without GNU time (peak RSS 0). The command's
# output goes to $1.out; on failure it is shown and the timer fails.
# shellcheck disable=SC2016 # expanded by the user's bash
TIMER='out=$1 n=$2; shift 2
sync
start=$EPOCHREALTIME
if ((n == 1)); then
	if ! /usr/bin/time -f %M -o "$out.rss" "$@" >"$out.out" 2>&1; then
		cat "$out.out" >&2
		exit 1
	fi
else
	for ((i = 0; i < n; i++)); do
		if ! "$@" >"$out.out" 2>&1; then
			cat "$out.out" >&2
			exit 1
		fi
	done
	echo 0 >"$out.rss"
fi
end=$EPOCHREALTIME
echo "${end/./} ${start/./} $(<"$out.rss")"'

# timed TOOL DIR FIGURE ARGS... runs the tool's command in store DIR under
# the timer and adds "FIGURE.s" (wall seconds) and "FIGURE.rss" (MiB)
# samples for the tool (or variant). TIMED_LOOP (default 1) repeats the
# command that many times within one sample.
timed() {
	local tool=$1 dir=$2 figure=$3 res end start rss
	shift 3
	tool_cmd "$tool" "$dir"
	if ! res=$(STORE_DIR=$dir as_user bash -c "$TIMER" timer "$dir/timer" "${TIMED_LOOP:-1}" "${CMD[@]}" "$@"); then
		die "$tool ${*}: failed (store $dir)"
	fi
	read -r end start rss <<<"$res"
	add_sample "$tool" "$figure.s" "$(awk -v e="$end" -v s="$start" 'BEGIN { printf "%.4f", (e - s) / 1e6 }')"
	add_sample "$tool" "$figure.rss" "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')"
}

add_sample() {
	SAMPLES["$1 $2"]+="${SAMPLES["$1 $2"]:+ }$3"
}

# ------------------------------------------------------------ figures

# bench_pull measures tool $1's pull of BIG_IMAGE into a fresh store, run $2:
# first with no namespace holder (the first command a user types), then, in
# another fresh store, with the holder started beforehand by `unshare true`
# on a throwaway store root (so that the pulled store is not even created
# before the timed command, for either tool).
bench_pull() {
	local tool=$1 run=$2 dir
	dir=$(new_store "$tool" "cold-$run")
	timed "$tool" "$dir" pull_first pull "$BIG_IMAGE"
	destroy_store "$dir"

	dir=$(new_store "$tool" "warm-$run")
	tool_cmd "$tool" "$dir"
	CMD[2]=$dir/ns-root # --root of the warm-up command
	STORE_DIR=$dir as_user "${CMD[@]}" unshare true 2>"$dir/stderr" || {
		cat "$dir/stderr" >&2
		die "$tool: starting the namespace holder failed (store $dir)"
	}
	[[ -n $(holder_pids "$dir") ]] || die "$tool: no namespace holder after 'unshare true' (store $dir)"
	timed "$tool" "$dir" pull pull "$BIG_IMAGE"
	destroy_store "$dir"
}

# prepare_images_store fills a store of tool $1 with IMAGES_SET and prints
# its directory; its namespace holder stays up.
prepare_images_store() {
	local tool=$1 dir image n
	dir=$(new_store "$tool" images)
	for image in "${IMAGES_SET[@]}"; do
		in_store "$tool" "$dir" pull -q "$image" >/dev/null ||
			die "$tool: pulling $image failed"
	done
	n=$(in_store "$tool" "$dir" images -q | sort -u | wc -l)
	((n == ${#IMAGES_SET[@]})) || die "$tool lists $n images, want ${#IMAGES_SET[@]}"
	printf '%s\n' "$dir"
}

# ------------------------------------------------------------ containers

# ct_opts sets CT_OPTS to variant $1's options for create and run.
ct_opts() {
	# Word splitting of the option string is intended.
	# shellcheck disable=SC2206
	CT_OPTS=(${VARIANT_OPTS[$1]})
}

# rotated prints VARIANTS rotated left by $1 (which variant goes first
# changes from sample to sample).
rotated() {
	local k=$(($1 % ${#VARIANTS[@]}))
	printf '%s\n' "${VARIANTS[@]:k}" "${VARIANTS[@]:0:k}"
}

# ct_store creates a store for variant $1 named $2, pulls CT_IMAGE into it
# (which starts its namespace holder) and runs one untimed container (the
# tools create their run-time directories, podman its network namespace
# directory, on the first one; rrun starts its supervisor), unless $3 is
# "first": then the caller's first container is the store's first; prints
# its directory.
ct_store() {
	local v=$1 dir
	dir=$(new_store "$v" "$2")
	ct_opts "$v"
	in_store "$v" "$dir" pull -q "$CT_IMAGE" >/dev/null || die "$v: pulling $CT_IMAGE failed (store $dir)"
	[[ ${3:-} == first ]] || in_store "$v" "$dir" run --rm "${CT_OPTS[@]}" "$CT_IMAGE" true >/dev/null ||
		die "$v: run --rm $CT_IMAGE true failed (store $dir)"
	[[ -n $(holder_pids "$dir") ]] || die "$v: no namespace holder after pull and run (store $dir)"
	printf '%s\n' "$dir"
}

# bench_containers measures run --rm, create/start/rm and sequential
# run --rm for every variant, each in a store of its own (given as an
# associative array variant -> dir, by name).
bench_containers() {
	local -n dirs=$1
	local run v order name last
	for ((run = 1; run <= BENCH_CT_RUNS; run++)); do
		mapfile -t order < <(rotated "$run")
		for v in "${order[@]}"; do
			ct_opts "$v"
			timed "$v" "${dirs[$v]}" run_rm run --rm "${CT_OPTS[@]}" "$CT_IMAGE" true
		done
	done
	info "containers: $BENCH_CT_RUNS run --rm per tool done"

	# create, start and rm of a container that exits at once. Between
	# start and rm, untimed: wait for the exit, then let both tools finish
	# their after-exit work (rrun's monitor, podman's `container cleanup`
	# run by conmon), so that rm measures removal, not lock waits.
	for ((run = 1; run <= BENCH_CT_RUNS; run++)); do
		mapfile -t order < <(rotated "$run")
		name=bench-$run
		for v in "${order[@]}"; do
			ct_opts "$v"
			timed "$v" "${dirs[$v]}" create create --name "$name" "${CT_OPTS[@]}" "$CT_IMAGE" true
			timed "$v" "${dirs[$v]}" start start "$name"
		done
		for v in "${order[@]}"; do
			in_store "$v" "${dirs[$v]}" wait "$name" >/dev/null || die "$v: wait $name failed"
		done
		sleep 0.2
		for v in "${order[@]}"; do
			timed "$v" "${dirs[$v]}" rm rm "$name"
		done
	done
	info "containers: $BENCH_CT_RUNS create/start/rm per tool done"

	for ((run = 1; run <= BENCH_SEQ_RUNS; run++)); do
		mapfile -t order < <(rotated "$run")
		for v in "${order[@]}"; do
			ct_opts "$v"
			TIMED_LOOP=$BENCH_SEQ timed "$v" "${dirs[$v]}" seq run --rm "${CT_OPTS[@]}" "$CT_IMAGE" true
			last=${SAMPLES["$v seq.s"]##* }
			add_sample "$v" seq.rate "$(awk -v n="$BENCH_SEQ" -v s="$last" 'BEGIN { printf "%.2f", n / s }')"
		done
		info "containers: sequential run $run/$BENCH_SEQ_RUNS ($BENCH_SEQ run --rm per tool) done"
	done
}

# mem_kib prints "PSS RSS" in KiB of the processes given, from
# /proc/PID/smaps_rollup (0 0 for none).
mem_kib() {
	local pid pss=0 rss=0 a b
	for pid in "$@"; do
		read -r a b < <(awk '/^Pss:/ { p = $2 } /^Rss:/ { r = $2 } END { print p + 0, r + 0 }' \
			"/proc/$pid/smaps_rollup" 2>/dev/null || echo 0 0)
		pss=$((pss + a)) rss=$((rss + b))
	done
	echo "$pss $rss"
}

# mem_start starts the memory containers bench-mem-$3 to bench-mem-$4 of
# variant $1 in store $2: `run -d busybox sleep 1000`.
mem_start() {
	local v=$1 dir=$2 i
	ct_opts "$v"
	for ((i = $3; i <= $4; i++)); do
		in_store "$v" "$dir" run -d --name "bench-mem-$i" "${CT_OPTS[@]}" "$CT_IMAGE" sleep 1000 >/dev/null ||
			die "$v: run -d $CT_IMAGE sleep 1000 failed (store $dir)"
	done
}

# mem_stage measures what store $2 of variant $1 keeps for its running
# containers bench-mem-1 to bench-mem-$3, the store's processes from before
# the first one being the keys of the associative array named $4. The
# containers' own processes (their init, from inspect, and its
# descendants) and the namespace holder are left out; the rest is:
#  - rrun-supervisor: the run root's supervisor, shared by all its
#    containers (rrun), whenever it started;
#  - per container, among the processes that appeared since: the parent
#    of its init unless that is the supervisor (conmon), and processes whose
#    command line names its id or network namespace (slirp4netns);
#  - others, tied to no container: reported, and shared out evenly.
# Sets STAGE_CT_PSS and STAGE_CT_RSS (arrays, KiB per container, others'
# share included), STAGE_SUP_PSS, STAGE_SUP_RSS (KiB, 0 without a
# supervisor), STAGE_SUP (its pids), STAGE_HOLDER_PSS, STAGE_HOLDER_RSS
# (KiB) and STAGE_NOTE (what was found).
mem_stage() {
	local v=$1 dir=$2 k=$3 tool=${1%-host} i pid fmt cpid cid netns
	local -n before_ref=$4
	case $tool in
	rrun) fmt='{{.State.Pid}} {{.Id}}' ;;
	podman) fmt='{{.State.Pid}} {{.Id}} {{.NetworkSettings.SandboxKey}}' ;;
	esac
	local cpids=() cids=() netnss=()
	for ((i = 1; i <= k; i++)); do
		read -r cpid cid netns < <(in_store "$v" "$dir" inspect --format "$fmt" "bench-mem-$i") ||
			die "$v: inspect bench-mem-$i failed"
		[[ $cpid =~ ^[1-9][0-9]*$ && -d /proc/$cpid ]] || die "$v: bench-mem-$i has no running init (pid '$cpid')"
		cpids+=("$cpid") cids+=("$cid") netnss+=("${netns:-}")
	done
	local -A skip=() assigned=() is_sup=()
	local holders new=() sup=()
	holders=$(holder_pids "$dir")
	for pid in $holders $(with_descendants "${cpids[@]}"); do skip[$pid]=1; done
	for pid in $(store_pids "$dir"); do
		[[ -z ${skip[$pid]:-} ]] || continue
		if [[ $(argv0 "$pid") == rrun-supervisor ]]; then
			sup+=("$pid")
			is_sup[$pid]=1
		elif [[ -z ${before_ref[$pid]:-} ]]; then
			new+=("$pid")
		fi
	done
	case $tool in
	rrun) ((${#sup[@]} == 1)) || warn "$v: ${#sup[@]} rrun-supervisor processes in the store, want 1: ${sup[*]}" ;;
	*) ((${#sup[@]} == 0)) || warn "$v: rrun-supervisor processes in a podman store: ${sup[*]}" ;;
	esac

	local members names all_names=() pss rss extra_pss=0 extra_rss=0 cmdline parent p
	local -a ct_pss=() ct_rss=()
	for ((i = 0; i < k; i++)); do
		parent=$(awk '{ print $4 }' "/proc/${cpids[i]}/stat")
		members=()
		for p in "${new[@]}"; do
			cmdline=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) || continue
			if [[ $p == "$parent" || $cmdline == *"${cids[i]}"* ||
				(-n ${netnss[i]} && $cmdline == *"${netnss[i]}"*) ]]; then
				members+=("$p")
				assigned[$p]=1
			fi
		done
		[[ -n ${is_sup[$parent]:-} || " ${members[*]} " == *" $parent "* ]] ||
			warn "$v: the parent of bench-mem-$((i + 1))'s init ($parent, $(argv0 "$parent")) is not a process of the store"
		read -r pss rss < <(mem_kib "${members[@]}")
		ct_pss+=("$pss") ct_rss+=("$rss")
		names=$(for p in "${members[@]}"; do argv0 "$p"; done | sort | paste -sd+)
		all_names+=("${names:-nothing}")
	done
	local other=()
	for p in "${new[@]}"; do
		[[ -n ${assigned[$p]:-} ]] || other+=("$p")
	done
	if ((${#other[@]})); then
		read -r extra_pss extra_rss < <(mem_kib "${other[@]}")
		warn "$v: processes of the store not tied to one container (shared out per container):"
		ps -o pid,ppid,rss,args -p "$(join_list "${other[@]}" | tr -d ' ')" >&2 || true
	fi
	STAGE_CT_PSS=() STAGE_CT_RSS=()
	for ((i = 0; i < k; i++)); do
		STAGE_CT_PSS+=("$(awk -v a="${ct_pss[i]}" -v e="$extra_pss" -v n="$k" 'BEGIN { printf "%.1f", a + e / n }')")
		STAGE_CT_RSS+=("$(awk -v a="${ct_rss[i]}" -v e="$extra_rss" -v n="$k" 'BEGIN { printf "%.1f", a + e / n }')")
	done
	read -r STAGE_SUP_PSS STAGE_SUP_RSS < <(mem_kib "${sup[@]}")
	STAGE_SUP=${sup[*]}
	# shellcheck disable=SC2086 # pid list
	read -r STAGE_HOLDER_PSS STAGE_HOLDER_RSS < <(mem_kib $holders)
	local holder_names
	holder_names=$(for p in $holders; do argv0 "$p"; done | sort | paste -sd+)
	STAGE_NOTE="per container: $(printf '%s\n' "${all_names[@]}" | sort | uniq -c |
		awk '{ printf "%s%d x %s", sep, $1, ($2 == "nothing" ? "no process" : $2); sep = ", " }'); others: ${#other[@]}; holder: ${holder_names:-none}"
	((${#sup[@]} == 0)) || STAGE_NOTE="supervisor: ${#sup[@]} x rrun-supervisor; $STAGE_NOTE"
}

# bench_memory measures, for variant $1 in a fresh store (busybox pulled,
# namespace holder up, no container run yet: rrun's supervisor, if any,
# is started by the first measured container), the memory the tool keeps
# for running `run -d busybox sleep 1000` containers: with 1 running, and
# again once BENCH_MEM_N run (see mem_stage). Adds, in MiB:
#  - mem.pss, mem.rss: marginal memory per running container, one sample
#    per container: its own processes (conmon, slirp4netns) plus the
#    supervisor's growth per added container, (S_N - S_1) / (N - 1);
#  - mem_sup.pss: that supervisor growth alone (0 for podman);
#  - fixed.pss, fixed.rss: the per-user processes with 1 container running:
#    namespace holder and supervisor (rrun-pause + rrun-supervisor; catatonit);
#  - total.pss: everything the tool keeps with BENCH_MEM_N running;
#  - holder.*, sup1.*, supn.*: the parts.
bench_memory() {
	local v=$1 tool=${1%-host} n=$BENCH_MEM_N dir pid i
	dir=$(ct_store "$v" mem first)
	local -A before=() # used by mem_stage, by name
	for pid in $(store_pids "$dir"); do
		# shellcheck disable=SC2034
		before[$pid]=1
		[[ $(argv0 "$pid") != rrun-supervisor ]] ||
			warn "$v: an rrun-supervisor ($pid) runs before the first container: the figures are not those of a fresh one"
	done

	mem_start "$v" "$dir" 1 1
	sleep 2 # podman's and rrun's short-lived helpers are gone by then
	mem_stage "$v" "$dir" 1 before
	local s1p=$STAGE_SUP_PSS s1r=$STAGE_SUP_RSS h1p=$STAGE_HOLDER_PSS h1r=$STAGE_HOLDER_RSS sup1=$STAGE_SUP

	mem_start "$v" "$dir" 2 "$n"
	sleep 2
	mem_stage "$v" "$dir" "$n" before
	[[ $STAGE_SUP == "$sup1" ]] ||
		warn "$v: the supervisor changed between 1 and $n containers ('$sup1', then '$STAGE_SUP')"

	local dp dr total mib='BEGIN { printf "%.3f", a / 1024 }'
	dp=$(awk -v a="$STAGE_SUP_PSS" -v b="$s1p" -v n="$n" 'BEGIN { print (a - b) / (n - 1) }')
	dr=$(awk -v a="$STAGE_SUP_RSS" -v b="$s1r" -v n="$n" 'BEGIN { print (a - b) / (n - 1) }')
	total=$(awk -v h="$STAGE_HOLDER_PSS" -v s="$STAGE_SUP_PSS" -v c="${STAGE_CT_PSS[*]}" \
		'BEGIN { t = h + s; k = split(c, a, " "); for (i = 1; i <= k; i++) t += a[i]; print t }')
	for ((i = 0; i < n; i++)); do
		add_sample "$v" mem.pss "$(awk -v a="${STAGE_CT_PSS[i]}" -v d="$dp" 'BEGIN { printf "%.3f", (a + d) / 1024 }')"
		add_sample "$v" mem.rss "$(awk -v a="${STAGE_CT_RSS[i]}" -v d="$dr" 'BEGIN { printf "%.3f", (a + d) / 1024 }')"
	done
	add_sample "$v" mem_sup.pss "$(awk -v a="$dp" "$mib")"
	add_sample "$v" fixed.pss "$(awk -v a="$((h1p + s1p))" "$mib")"
	add_sample "$v" fixed.rss "$(awk -v a="$((h1r + s1r))" "$mib")"
	add_sample "$v" total.pss "$(awk -v a="$total" "$mib")"
	add_sample "$v" holder.pss "$(awk -v a="$h1p" "$mib")"
	add_sample "$v" holder.rss "$(awk -v a="$h1r" "$mib")"
	add_sample "$v" sup1.pss "$(awk -v a="$s1p" "$mib")"
	add_sample "$v" sup1.rss "$(awk -v a="$s1r" "$mib")"
	add_sample "$v" supn.pss "$(awk -v a="$STAGE_SUP_PSS" "$mib")"
	add_sample "$v" supn.rss "$(awk -v a="$STAGE_SUP_RSS" "$mib")"
	MEM_NOTES[$v]=$STAGE_NOTE
	local sup_note=
	[[ -z $sup1 ]] || sup_note="; supervisor $(awk -v a="$s1p" "$mib") MiB PSS with 1 running, $(awk -v a="$STAGE_SUP_PSS" "$mib") with $n"
	info "memory, $v: $n containers; $STAGE_NOTE$sup_note; holder $(awk -v a="$h1p" "$mib") MiB PSS; total $(awk -v a="$total" "$mib")"

	# rm -f stops them (podman: no 10 s grace period for sleep as pid 1).
	local rm_args=(rm -f)
	[[ $tool == podman ]] && rm_args+=(-t 0)
	local ct_names=()
	mapfile -t ct_names < <(for ((i = 1; i <= n; i++)); do echo "bench-mem-$i"; done)
	in_store "$v" "$dir" "${rm_args[@]}" "${ct_names[@]}" >/dev/null || warn "$v: rm -f of the memory containers failed"
	destroy_store "$dir"
}

# ------------------------------------------------------------ network

# host_addr prints the host's external IPv4 address: the source address of
# its route to the outside (nothing is sent).
host_addr() {
	ip -4 -o route get 192.0.2.255 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "src") { print $(i + 1); exit } }'
}

# free_port prints the first TCP port from $1 upwards that nothing listens on.
free_port() {
	local p=$1
	while [[ -n $(ss -Hltn "sport = :$p") ]]; do
		p=$((p + 1))
	done
	printf '%s\n' "$p"
}

# listener_pids prints the processes listening on TCP port $1.
listener_pids() {
	ss -Hltnp "sport = :$1" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
}

# wait_listen waits up to 5 s for a listener on TCP port $1.
wait_listen() {
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -z $(ss -Hltn "sport = :$1") ]] || return 0
		sleep 0.05
	done
	return 1
}

# iperf_gbps prints the receiver's throughput in Gbit/s (end.sum_received)
# of the iperf3 -J report on stdin.
iperf_gbps() {
	awk -F: '/"sum_received"/ { f = 1 }
		f && /"bits_per_second"/ { gsub(/[^0-9.eE+-]/, "", $2); printf "%.3f\n", $2 / 1e9; found = 1; exit }
		END { if (!found) exit 1 }'
}

# iperf_error prints the "error" of the iperf3 -J report in $1, if any.
iperf_error() {
	sed -n 's/^[[:space:]]*"error":[[:space:]]*"\(.*\)",*$/\1/p' <<<"$1" | head -n1
}

# rm_force removes container $3 of tool $1 in store $2, stopping it at once.
rm_force() {
	local args=(rm -f)
	[[ $1 == podman ]] && args+=(-t 0) # no 10 s grace period
	in_store "$1" "$2" "${args[@]}" "$3" >/dev/null || warn "$1: rm -f $3 failed"
}

# net_store creates the network store of tool $1 (NET_IMAGE and START_IMAGE
# pulled) and runs one untimed container with the default network in it
# (rrun starts its supervisor and network, podman creates its run-time and
# network namespace directories), which shows that container's /etc/hosts
# entry for host.containers.internal and its interfaces' MTUs. Prints the
# directory, then the entry's address (empty if none), then "IF MTU ...".
net_store() {
	local tool=$1 dir image out
	dir=$(new_store "$tool" net)
	for image in "$NET_IMAGE" "$START_IMAGE"; do
		in_store "$tool" "$dir" pull -q "$image" >/dev/null || die "$tool: pulling $image failed (store $dir)"
	done
	# shellcheck disable=SC2016 # expanded by the container's shell
	out=$(in_store "$tool" "$dir" run --rm "$NET_IMAGE" sh -c \
		'cat /etc/hosts; for i in /sys/class/net/*; do echo "mtu ${i##*/} $(cat "$i/mtu")"; done') ||
		die "$tool: run --rm $NET_IMAGE with the default network failed (store $dir)"
	printf '%s\n' "$dir"
	awk '!/^#/ && !/^mtu / && !found { for (i = 2; i <= NF; i++) if ($i == "host.containers.internal") found = $1 }
		END { print found }' <<<"$out"
	awk '/^mtu / && $2 != "lo" { printf "%s%s %s", sep, $2, $3; sep = " " } END { print "" }' <<<"$out"
}

# net_port_info prints, for tool $1's container $3 in store $2 with a port
# published on host port $4, its network mode and which process holds the
# host port (podman: rootlessport, its rootlesskit port handler, or
# slirp4netns with its own handler; rrun: its supervisor), and for podman
# the MTU slirp4netns was started with.
net_port_info() {
	local tool=$1 dir=$2 name=$3 port=$4 mode holders pid mtu=
	mode=$(in_store "$tool" "$dir" inspect --format '{{.HostConfig.NetworkMode}}' "$name") || mode='?'
	holders=$(for pid in $(listener_pids "$port"); do argv0 "$pid"; done | sort -u | paste -sd+)
	for pid in $(store_pids "$dir"); do
		[[ $(argv0 "$pid") == slirp4netns ]] || continue
		mtu=$(tr '\0' '\n' <"/proc/$pid/cmdline" | sed -n 's/^--mtu=//p')
		mtu=" (slirp4netns --mtu=${mtu:-default})"
		break
	done
	printf 'network mode %s%s, published port held by %s\n' "$mode" "$mtu" "${holders:-nothing}"
}

# bench_iperf_out measures tool $1 in store $2: an iperf3 client in a
# container sends to an iperf3 server of the user on the host, bound to
# HOST_ADDR and reached as NET_HOST, for BENCH_NET_TIME s; adds net_out.gbps
# (what the server received).
bench_iperf_out() {
	local tool=$1 dir=$2 port json pid server gbps
	port=$(free_port 25201)
	as_user timeout $((BENCH_NET_TIME + 60)) iperf3 -s -1 -B "$HOST_ADDR" -p "$port" >/dev/null 2>&1 &
	server=$!
	wait_listen "$port" || die "the host's iperf3 server on $HOST_ADDR:$port did not start"
	# iperf3 3.12 exits 0 on errors with -J: its report says.
	if ! json=$(in_store "$tool" "$dir" run --rm "$NET_IMAGE" \
		iperf3 -c "$NET_HOST" -p "$port" -t "$BENCH_NET_TIME" -J) || [[ -n $(iperf_error "$json") ]]; then
		for pid in $(listener_pids "$port"); do kill "$pid" 2>/dev/null || true; done
		die "$tool: iperf3 -c $NET_HOST -p $port in a container failed: $(iperf_error "$json")"
	fi
	wait "$server" || true # the server exits after its one test
	gbps=$(iperf_gbps <<<"$json") || die "$tool: no sum_received in iperf3's report: $json"
	add_sample "$tool" net_out.gbps "$gbps"
}

# bench_iperf_in measures tool $1 in store $2: the host's iperf3 client sends
# to 127.0.0.1:HOSTPORT, published (-p HOSTPORT:5201) to a container's iperf3
# server, for BENCH_NET_TIME s; adds net_in.gbps (what the server
# received). The first attempts may fail while the server in the container
# starts: the port forwarder accepts on the host before that.
bench_iperf_in() {
	local tool=$1 dir=$2 port json i gbps
	port=$(free_port 26201)
	in_store "$tool" "$dir" run -d --name bench-iperf -p "$port:5201" "$NET_IMAGE" iperf3 -s -1 >/dev/null ||
		die "$tool: run -d -p $port:5201 $NET_IMAGE iperf3 -s failed (store $dir)"
	[[ -n ${NET_NOTES[$tool]:-} ]] || NET_NOTES[$tool]=$(net_port_info "$tool" "$dir" bench-iperf "$port")
	for ((i = 0; i < 40; i++)); do
		json=$(as_user iperf3 -c 127.0.0.1 -p "$port" -t "$BENCH_NET_TIME" -J) && [[ -z $(iperf_error "$json") ]] && break
		sleep 0.25
	done
	if ((i == 40)) || [[ -n $(iperf_error "$json") ]]; then
		die "$tool: iperf3 -c 127.0.0.1 -p $port (published to the container) failed: $(iperf_error "$json")"
	fi
	gbps=$(iperf_gbps <<<"$json") || die "$tool: no sum_received in iperf3's report: $json"
	add_sample "$tool" net_in.gbps "$gbps"
	rm_force "$tool" "$dir" bench-iperf
}

# bench_connrate measures tool $1 in store $2: connections per second from
# the host to 127.0.0.1:HOSTPORT, published to busybox httpd serving a
# 3-byte file in a container; each connection sends a GET and reads the
# reply to the server's close (hack/bench/connrate), BENCH_CONN_TIME s one
# at a time, then BENCH_CONN_TIME s BENCH_CONN_C at a time. Adds conn1.rate
# and connN.rate.
bench_connrate() {
	local tool=$1 dir=$2 port c key out errors
	port=$(free_port 28080)
	in_store "$tool" "$dir" run -d --name bench-http -p "$port:8080" "$NET_IMAGE" sh -c \
		'mkdir /tmp/www && echo ok >/tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www' >/dev/null ||
		die "$tool: run -d -p $port:8080 $NET_IMAGE httpd failed (store $dir)"
	[[ -n ${NET_NOTES[$tool]:-} ]] || NET_NOTES[$tool]=$(net_port_info "$tool" "$dir" bench-http "$port")
	for c in 1 "$BENCH_CONN_C"; do
		key=conn1
		((c == 1)) || key=connN
		out=$(as_user "$CONNRATE" -addr "127.0.0.1:$port" -c "$c" -d "${BENCH_CONN_TIME}s") ||
			die "$tool: connections to 127.0.0.1:$port (published to httpd in the container) failed: $out"
		errors=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$out")
		((errors == 0)) || warn "$tool: $c at a time: $out"
		add_sample "$tool" "$key.rate" "$(sed -n 's/.*rate=\([0-9.]*\).*/\1/p' <<<"$out")"
		add_sample "$tool" "$key.p50" "$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<<"$out")"
	done
	rm_force "$tool" "$dir" bench-http
}

# rotated_tools prints TOOLS rotated left by $1.
rotated_tools() {
	local k=$(($1 % ${#TOOLS[@]}))
	printf '%s\n' "${TOOLS[@]:k}" "${TOOLS[@]:0:k}"
}

# bench_network measures the network figures of both tools, each in a store
# of its own (given as an associative array tool -> dir, by name):
# iperf3 both ways, connection rates, then BENCH_START_RUNS samples of
# run --rm START_IMAGE true with the default network and with
# --network none, the tools and the two modes taking turns to go first.
# Adds net_extra.s, the difference of the two medians.
bench_network() {
	local -n dirs=$1
	local run tool order mode modes
	for ((run = 1; run <= BENCH_NET_RUNS; run++)); do
		mapfile -t order < <(rotated_tools "$run")
		for tool in "${order[@]}"; do
			bench_iperf_out "$tool" "${dirs[$tool]}"
		done
		for tool in "${order[@]}"; do
			bench_iperf_in "$tool" "${dirs[$tool]}"
		done
	done
	info "network: iperf3, $BENCH_NET_RUNS x $BENCH_NET_TIME s each way per tool done"
	for tool in "${order[@]}"; do
		bench_connrate "$tool" "${dirs[$tool]}"
	done
	info "network: connection rates done"

	for ((run = 1; run <= BENCH_START_RUNS; run++)); do
		mapfile -t order < <(rotated_tools "$run")
		modes=(net none)
		((run % 4 < 2)) || modes=(none net)
		for tool in "${order[@]}"; do
			for mode in "${modes[@]}"; do
				if [[ $mode == net ]]; then
					timed "$tool" "${dirs[$tool]}" start_net run --rm "$START_IMAGE" true
				else
					timed "$tool" "${dirs[$tool]}" start_none run --rm --network none "$START_IMAGE" true
				fi
			done
		done
	done
	for tool in "${TOOLS[@]}"; do
		add_sample "$tool" net_extra.s "$(awk -v a="$(agg "$tool" start_net.s median)" \
			-v b="$(agg "$tool" start_none.s median)" 'BEGIN { printf "%.4f", a - b }')"
	done
	info "network: $BENCH_START_RUNS run --rm per tool and network mode done"
}

# network_section prepares the network stores and the host side, measures,
# and removes the stores.
network_section() {
	local -A net_dir=() entry=() mtus=()
	local tool a out
	HOST_ADDR=$(host_addr)
	[[ -n $HOST_ADDR ]] || die "network: the host has no IPv4 route out (ip -4 route get); no external address to test with"
	command -v iperf3 >/dev/null || die "network: iperf3 not installed (hack/setup.sh installs it)"
	for tool in "${TOOLS[@]}"; do
		mapfile -t out < <(net_store "$tool")
		[[ -n ${out[0]:-} ]] || die "$tool: preparing the network store failed"
		net_dir[$tool]=${out[0]} entry[$tool]=${out[1]:-} mtus[$tool]=${out[2]:-}
	done
	# host.containers.internal is what both tools offer for the host (rrun:
	# its gateway, which leads to the host's external address; podman 4.3:
	# the host's first address itself). If either lacks it, or podman's
	# names another of the host's addresses than the one iperf3 binds, both
	# use the address.
	NET_HOST=host.containers.internal
	for tool in "${TOOLS[@]}"; do
		a=${entry[$tool]}
		if [[ -z $a ]]; then
			warn "$tool: no host.containers.internal in a container's /etc/hosts; both tools use $HOST_ADDR"
			NET_HOST=$HOST_ADDR
		elif [[ $a != "$HOST_ADDR" ]] && ip -o addr show | grep -qF " $a/"; then
			warn "$tool: host.containers.internal is $a, not $HOST_ADDR; both tools use $HOST_ADDR"
			NET_HOST=$HOST_ADDR
		fi
	done
	info "network: host address $HOST_ADDR, reached as $NET_HOST (rrun: ${entry[rrun]:-none}, podman: ${entry[podman]:-none})"

	bench_network net_dir
	for tool in "${TOOLS[@]}"; do
		NET_NOTES[$tool]="host.containers.internal ${entry[$tool]:-none}; MTU ${mtus[$tool]:-?}; ${NET_NOTES[$tool]:-}"
		destroy_store "${net_dir[$tool]}"
	done
}

# ------------------------------------------------------------ serve

# serve_sock prints the API socket of tool $1's server for the store in $2:
# rrun serve listens on RUNROOT/rrun.sock; podman's is given on its command
# line.
serve_sock() {
	case $1 in
	rrun) printf '%s\n' "$2/run/rrun.sock" ;;
	podman) printf '%s\n' "$2/podman.sock" ;;
	esac
}

# as_client runs a command as the user with the Docker client pointed at
# tool $1's server in store $2 (DOCKER_HOST, and a scratch DOCKER_CONFIG in
# the store).
as_client() {
	local tool=$1 dir=$2
	shift 2
	STORE_DIR=$dir as_user DOCKER_HOST="unix://$(serve_sock "$tool" "$dir")" DOCKER_CONFIG="$dir/docker-config" "$@"
}

# serve_start starts tool $1's API server for the store in $2 as the user,
# in the background (`rrun serve`; `podman system service --time=0
# unix://SOCK`), its output to DIR/serve.log, and waits up to 10 s for
# /_ping to answer.
serve_start() {
	local tool=$1 dir=$2 sock i
	sock=$(serve_sock "$tool" "$dir")
	tool_cmd "$tool" "$dir"
	case $tool in
	rrun) CMD+=(serve) ;;
	podman) CMD+=(system service --time=0 "unix://$sock") ;;
	esac
	STORE_DIR=$dir as_user "${CMD[@]}" >"$dir/serve.log" 2>&1 </dev/null &
	for ((i = 0; i < 200; i++)); do
		[[ $(as_user curl -s -m 1 --unix-socket "$sock" http://x/_ping 2>/dev/null) == OK ]] && return 0
		sleep 0.05
	done
	cat "$dir/serve.log" >&2
	die "$tool: the API server did not answer /_ping on $sock within 10 s"
}

# serve_pids prints the server's own processes in store $1: those whose
# command line is the server's (a podman that has to create its namespace
# re-executes itself and keeps the parent: both would count; here the
# pause process is up from the pull, so podman joins it without that);
# not the namespace holder, rrun's supervisor, conmon or containers.
serve_pids() {
	local pid cmdline
	for pid in $(store_pids "$1"); do
		cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
		[[ $cmdline == *" serve " || $cmdline == *" system service "* ]] && printf '%s\n' "$pid"
	done
	return 0
}

# serve_mem adds sample $3 (MiB, PSS) of tool $1's server processes in
# store $2, and notes what it counted.
serve_mem() {
	local tool=$1 dir=$2 pids pss
	pids=$(serve_pids "$dir")
	[[ -n $pids ]] || die "$tool: no server process found in store $dir"
	# shellcheck disable=SC2086 # pid list
	read -r pss _ < <(mem_kib $pids)
	add_sample "$tool" "$3" "$(awk -v a="$pss" 'BEGIN { printf "%.3f", a / 1024 }')"
	SERVE_NOTES[$tool]="$(wc -w <<<"$pids") server process(es): $(for p in $pids; do argv0 "$p"; done | sort | uniq -c |
		awk '{ printf "%s%d x %s", sep, $1, $2; sep = ", " }')"
}

# serve_timed TOOL DIR FIGURE CMD... times one client command (docker, curl)
# against the tool's server with the bench's timer; adds FIGURE.s.
serve_timed() {
	local tool=$1 dir=$2 figure=$3 res end start
	shift 3
	res=$(as_client "$tool" "$dir" bash -c "$TIMER" timer "$dir/timer" 1 "$@") ||
		die "$tool server: ${*}: failed (store $dir)"
	read -r end start _ <<<"$res"
	add_sample "$tool" "$figure.s" "$(awk -v e="$end" -v s="$start" 'BEGIN { printf "%.4f", (e - s) / 1e6 }')"
}

# serve_section measures both API servers, each in a store of its own with
# busybox pulled (by the tool's CLI, before its server starts): idle PSS,
# docker version, docker ps -a with 0 and with BENCH_SERVE_CTS created
# containers, curl of /containers/json?all=1, PSS after BENCH_SERVE_REQS
# more curl requests, then docker run --rm busybox true. The tools take
# turns to go first.
serve_section() {
	local -A dirs=()
	local tool dir run order sock i n
	local docker=/usr/local/bin/docker
	[[ -x $docker ]] || die "serve: no docker CLI at $docker"
	command -v curl >/dev/null || die "serve: curl not installed"
	for tool in "${TOOLS[@]}"; do
		dir=$(new_store "$tool" serve)
		install -d -m 0700 -o "$BENCH_USER" "$dir/docker-config"
		in_store "$tool" "$dir" pull -q "$CT_IMAGE" >/dev/null || die "$tool: pulling $CT_IMAGE failed (store $dir)"
		dirs[$tool]=$dir
	done
	for tool in "${TOOLS[@]}"; do
		serve_start "$tool" "${dirs[$tool]}"
	done
	sleep 1
	for tool in "${TOOLS[@]}"; do
		serve_mem "$tool" "${dirs[$tool]}" sv_idle.pss
	done
	info "serve: both servers up"

	for ((run = 1; run <= BENCH_SERVE_RUNS; run++)); do
		mapfile -t order < <(rotated_tools "$run")
		for tool in "${order[@]}"; do
			serve_timed "$tool" "${dirs[$tool]}" sv_version "$docker" version
			serve_timed "$tool" "${dirs[$tool]}" sv_ps0 "$docker" ps -a
		done
	done
	for tool in "${TOOLS[@]}"; do
		# shellcheck disable=SC2016 # expanded by the user's bash
		as_client "$tool" "${dirs[$tool]}" bash -c 'for ((i = 1; i <= $1; i++)); do
			"$2" create --name "bench-sv-$i" "$3" true >/dev/null || exit 1; done' create \
			"$BENCH_SERVE_CTS" "$docker" "$CT_IMAGE" || die "$tool server: docker create failed"
		n=$(as_client "$tool" "${dirs[$tool]}" "$docker" ps -aq | wc -l)
		((n == BENCH_SERVE_CTS)) || die "$tool server: docker ps -a lists $n containers, want $BENCH_SERVE_CTS"
	done
	info "serve: $BENCH_SERVE_CTS containers created per tool"
	for ((run = 1; run <= BENCH_SERVE_RUNS; run++)); do
		mapfile -t order < <(rotated_tools "$run")
		for tool in "${order[@]}"; do
			sock=$(serve_sock "$tool" "${dirs[$tool]}")
			serve_timed "$tool" "${dirs[$tool]}" sv_psN "$docker" ps -a
			serve_timed "$tool" "${dirs[$tool]}" sv_curlN curl -sf --unix-socket "$sock" "http://x/containers/json?all=1"
		done
	done
	for tool in "${TOOLS[@]}"; do
		sock=$(serve_sock "$tool" "${dirs[$tool]}")
		# shellcheck disable=SC2016 # expanded by the user's bash
		as_client "$tool" "${dirs[$tool]}" bash -c 'for ((i = 0; i < $1; i++)); do
			curl -sf --unix-socket "$2" "http://x/containers/json?all=1" >/dev/null || exit 1; done' reqs \
			"$BENCH_SERVE_REQS" "$sock" || die "$tool server: curl /containers/json failed"
	done
	sleep 1
	for tool in "${TOOLS[@]}"; do
		serve_mem "$tool" "${dirs[$tool]}" sv_busy.pss
	done
	info "serve: ps, curl and $BENCH_SERVE_REQS requests per tool done"

	for tool in "${TOOLS[@]}"; do # untimed first run: rrun's supervisor, podman's network dirs
		as_client "$tool" "${dirs[$tool]}" "$docker" run --rm "$CT_IMAGE" true >/dev/null ||
			die "$tool server: docker run --rm $CT_IMAGE true failed"
	done
	for ((run = 1; run <= BENCH_SERVE_CT_RUNS; run++)); do
		mapfile -t order < <(rotated_tools "$run")
		for tool in "${order[@]}"; do
			serve_timed "$tool" "${dirs[$tool]}" sv_run_rm "$docker" run --rm "$CT_IMAGE" true
		done
	done
	info "serve: $BENCH_SERVE_CT_RUNS docker run --rm per tool done"
	for tool in "${TOOLS[@]}"; do
		destroy_store "${dirs[$tool]}" # kills the server too: it is a process of the store
	done
	wait 2>/dev/null || true # the servers' background jobs
}

# ------------------------------------------------------------ statistics

# stats prints "median min max" of its numeric arguments; with STATS=mean,
# "mean min max".
stats() {
	printf '%s\n' "$@" | sort -g | awk -v mean="${STATS:-}" '
		{ v[NR] = $1; sum += $1 }
		END {
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			if (mean == "mean") m = sum / NR
			print m, v[1], v[NR]
		}'
}

# ------------------------------------------------------------ main

cleanup() {
	local dir
	[[ -n $WORK && -d $WORK ]] || return 0
	for dir in "$WORK"/*/; do
		[[ $dir == "$WORK/bin/" ]] || destroy_store "${dir%/}"
	done
	rm -rf "$WORK"
}

# section succeeds if BENCH_SECTIONS names section $1.
section() {
	[[ " $BENCH_SECTIONS " == *" $1 "* ]]
}

# store_driver prints the storage driver tool $1 uses in store $2.
store_driver() {
	case $1 in
	rrun) in_store rrun "$2" info --format '{{.store.driver}}' ;;
	podman) in_store podman "$2" info --format '{{.Store.GraphDriverName}}' ;;
	esac
}

main() {
	need_root
	RRUN=${1:-$REPO_ROOT/bin/rrun}
	[[ -x $RRUN ]] || die "$RRUN: no rrun binary (make build)"
	RRUN=$(realpath "$RRUN")
	local n
	for n in BENCH_RUNS BENCH_IMAGES_RUNS BENCH_CT_RUNS BENCH_SEQ BENCH_SEQ_RUNS BENCH_MEM_N BENCH_MEM_RUNS \
		BENCH_NET_TIME BENCH_NET_RUNS BENCH_CONN_TIME BENCH_CONN_C BENCH_START_RUNS \
		BENCH_SERVE_RUNS BENCH_SERVE_CTS BENCH_SERVE_REQS BENCH_SERVE_CT_RUNS; do
		[[ ${!n} =~ ^[1-9][0-9]*$ ]] || die "$n must be a positive integer"
	done
	((BENCH_MEM_N >= 2)) || die "BENCH_MEM_N must be at least 2 (the marginal figure compares 1 and N containers)"
	section images || section containers || section network || section serve ||
		die "BENCH_SECTIONS names none of images, containers, network, serve"
	local t0=$SECONDS

	"$HACK_DIR/setup.sh" "$BENCH_USER"
	ensure_packages
	USER_HOME=$(getent passwd "$BENCH_USER" | cut -d: -f6)
	USER_UID=$(id -u "$BENCH_USER")
	configure_podman

	WORK=$(as_user mktemp -d /tmp/rrun-bench.XXXXXX)
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	# Always a private copy of the binary: the user may not reach the tree
	# (under /root, say), a rebuild during the run must not change it, and
	# the memory figures must not share its page-cache pages (PSS) with rrun
	# processes of other users of the tree's binary. In a directory of its
	# own, as an installed binary is: libcontainer protects the binary that
	# re-executes as the container's init with a read-only overlay of its
	# directory, and the kernel refuses that overlay (ELOOP) when the
	# directory holds the stores' active overlay layers; libcontainer then
	# copies the whole binary into a sealed memfd on every start instead
	# (~20 ms for 45 MB here), which a real installation does not pay.
	install -d -m 0755 -o "$BENCH_USER" "$WORK/bin"
	install -m 0755 -o "$BENCH_USER" "$RRUN" "$WORK/bin/rrun"
	RRUN=$WORK/bin/rrun
	if section network; then
		# Built as root from the tree, run as the user: static, stdlib only.
		(cd "$REPO_ROOT" && PATH=/usr/local/go/bin:$PATH CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
			go build -o "$WORK/bin/connrate" ./hack/bench/connrate) || die "building hack/bench/connrate failed"
		CONNRATE=$WORK/bin/connrate
	fi

	local rrun_version podman_version load_start tool dir
	dir=$(new_store any version) # podman --version sets up its run-time dirs
	rrun_version=$(STORE_DIR=$dir as_user "$RRUN" --version)
	podman_version=$(STORE_DIR=$dir as_user podman --version)
	destroy_store "$dir"
	load_start=$(cut -d' ' -f1-3 /proc/loadavg)
	info "measuring as $BENCH_USER: $rrun_version, $podman_version; driver $BENCH_DRIVER; sections: $BENCH_SECTIONS; load $load_start"

	local drivers=()
	if section images; then
		# Warm-up, untimed: page cache for both binaries and the registry's
		# blobs, and a check that each tool pulls at all.
		for tool in "${TOOLS[@]}"; do
			dir=$(new_store "$tool" warmup)
			in_store "$tool" "$dir" pull -q "$BIG_IMAGE" >/dev/null || die "$tool: warm-up pull failed"
			destroy_store "$dir"
		done

		# Pulls, alternating which tool goes first.
		local run order
		for ((run = 1; run <= BENCH_RUNS; run++)); do
			order=("${TOOLS[@]}")
			((run % 2)) || order=("${TOOLS[1]}" "${TOOLS[0]}")
			for tool in "${order[@]}"; do
				bench_pull "$tool" "$run"
			done
			info "pull run $run/$BENCH_RUNS done"
		done

		# images: one 5-image store per tool, namespace holder up, runs
		# interleaved.
		local -A images_dir=()
		for tool in "${TOOLS[@]}"; do
			images_dir[$tool]=$(prepare_images_store "$tool")
		done
		for tool in "${TOOLS[@]}"; do
			drivers+=("$(store_driver "$tool" "${images_dir[$tool]}")")
		done
		for ((run = 1; run <= BENCH_IMAGES_RUNS; run++)); do
			for tool in "${TOOLS[@]}"; do
				timed "$tool" "${images_dir[$tool]}" images images
			done
		done
		info "images: $BENCH_IMAGES_RUNS runs done"
		for tool in "${TOOLS[@]}"; do
			destroy_store "${images_dir[$tool]}"
		done
	fi

	if section containers; then
		# One store per variant, holder up and busybox pulled.
		local -A ct_dir=()
		local v
		for v in "${VARIANTS[@]}"; do
			ct_dir[$v]=$(ct_store "$v" ct)
		done
		((${#drivers[@]})) || drivers=("$(store_driver rrun "${ct_dir[rrun]}")" "$(store_driver podman "${ct_dir[podman]}")")
		bench_containers ct_dir
		for v in "${VARIANTS[@]}"; do
			destroy_store "${ct_dir[$v]}"
		done
		local run
		for ((run = 1; run <= BENCH_MEM_RUNS; run++)); do
			mapfile -t order < <(rotated "$run")
			for v in "${order[@]}"; do
				bench_memory "$v"
			done
		done
	fi

	if section network; then
		network_section
	fi
	if section serve; then
		serve_section
	fi
	if ((${#drivers[@]} == 0)); then
		for tool in "${TOOLS[@]}"; do
			dir=$(new_store "$tool" driver)
			drivers+=("$(store_driver "$tool" "$dir")")
			destroy_store "$dir"
		done
	fi

	report "$rrun_version" "$podman_version" "${drivers[@]}" "$load_start" $((SECONDS - t0))
}

# table prints the rows named by $2 (an array of "key|label|scale|decimals|
# aggregate", aggregate median or mean), labels $1 characters wide, for the
# tools or variants that follow, the first being rrun, with the ratios of
# rrun to each other column, and adds the figures to the array kv of the
# caller. Rows without samples are left out.
table() {
	local width=$1
	local -n rows_ref=$2
	shift 2
	local cols=("$@") row key label scale dec agg col med min max ratio line header w=22 rw=12
	local -A m=()
	((${#cols[@]} < 3)) || w=25 rw=16 # room for podman-host
	header=$(printf '%-*s' "$width" figure)
	for col in "${cols[@]}"; do
		header+=$(printf ' %*s' "$w" "$col med [min-max]")
	done
	for col in "${cols[@]:1}"; do
		header+=$(printf ' %*s' "$rw" "rrun/$col")
	done
	printf '\n%s\n' "$header"
	for row in "${rows_ref[@]}"; do
		IFS='|' read -r key label scale dec agg <<<"$row"
		[[ -n ${SAMPLES["rrun $key"]:-} ]] || continue
		line=$(printf '%-*s' "$width" "$label")
		for col in "${cols[@]}"; do
			# Word splitting of the sample list is intended.
			# shellcheck disable=SC2086
			read -r med min max < <(STATS=$agg stats ${SAMPLES["$col $key"]})
			m[$col]=$(awk -v v="$med" -v s="$scale" 'BEGIN { print v * s }')
			line+=$(printf ' %*s' "$w" "$(awk -v v="${m[$col]}" -v a="$min" -v b="$max" -v s="$scale" -v d="$dec" \
				'BEGIN { printf "%.*f [%.*f-%.*f]", d, v, d, a * s, d, b * s }')")
			kv+=("$col.$key.$agg=$med" "$col.$key.min=$min" "$col.$key.max=$max"
				"$col.$key.samples=${SAMPLES["$col $key"]// /,}")
		done
		for col in "${cols[@]:1}"; do
			ratio=$(awk -v a="${m[rrun]}" -v b="${m[$col]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
			kv+=("ratio.$key${col#podman}=$ratio")
			line+=$(printf ' %*s' "$rw" "$ratio")
		done
		printf '%s\n' "$line"
	done
}

# agg prints the aggregate $3 (median or mean) of variant $1's samples of
# figure $2, empty without samples.
agg() {
	[[ -n ${SAMPLES["$1 $2"]:-} ]] || return 0
	# shellcheck disable=SC2086 # the sample list
	STATS=$3 stats ${SAMPLES["$1 $2"]} | cut -d' ' -f1
}

# breakeven prints the number of running containers N at which rrun's
# processes take as much memory (PSS) as those of variant $1, from the
# fixed and marginal figures: total(N) = fixed + (N - 1) x supervisor growth
# + N x per-container processes, i.e. fixed - sup + N x marginal (the first
# container's supervisor growth is in rrun's fixed figure). Prints "N:x"
# where rrun takes more below x and less above, "N<x" for less below and
# more above, "more" or "less" when that holds at every N >= 1, or "n/a".
breakeven() {
	local v=$1 fr dr mr fp dp mp
	fr=$(agg rrun fixed.pss median) dr=$(agg rrun mem_sup.pss mean) mr=$(agg rrun mem.pss mean)
	fp=$(agg "$v" fixed.pss median) dp=$(agg "$v" mem_sup.pss mean) mp=$(agg "$v" mem.pss mean)
	[[ -n $fr && -n $mr && -n $fp && -n $mp ]] || { echo n/a; return; }
	awk -v fr="$fr" -v dr="${dr:-0}" -v mr="$mr" -v fp="$fp" -v dp="${dp:-0}" -v mp="$mp" 'BEGIN {
		a = fr - dr; b = fp - dp   # totals at N = 0, extrapolated
		if (mp == mr) { print (a > b ? "more" : "less"); exit }
		x = (a - b) / (mp - mr)
		if (x <= 1) { print ((a + mr > b + mp) ? "more" : "less"); exit }
		printf "%s%.1f\n", (mp > mr ? "N:" : "N<"), x
	}'
}

# breakeven_text turns breakeven's answer into words.
breakeven_text() {
	case $1 in
	N:*) printf 'N = %s (rrun takes more below, less above)' "${1#N:}" ;;
	N\<*) printf 'N = %s (rrun takes less below, more above)' "${1#N<}" ;;
	more) printf 'no N (rrun takes more at every N)' ;;
	less) printf 'no N (rrun takes less at every N)' ;;
	*) printf 'n/a' ;;
	esac
}

# report prints the tables and writes BENCH_OUT.
report() {
	local rrun_version=$1 podman_version=$2 rrun_driver=$3 podman_driver=$4 load_start=$5 elapsed=$6
	local short=${BIG_IMAGE#docker.io/}
	short=${short%:latest}
	# figure key, label, scale (samples are s or MiB), decimals, aggregate;
	# used by table, by name.
	# shellcheck disable=SC2034
	local image_rows=(
		"pull_first.s|pull $short, first command (s)|1|2|median"
		"pull.s|pull $short, namespace up (s)|1|2|median"
		"images.s|images, ${#IMAGES_SET[@]} images (ms)|1000|1|median"
		"pull.rss|pull peak RSS, namespace up (MiB)|1|1|median"
		"pull_first.rss|pull peak RSS, first command (MiB)|1|1|median"
		"images.rss|images peak RSS (MiB)|1|1|median"
	)
	# shellcheck disable=SC2034
	local ct_rows=(
		"run_rm.s|run --rm busybox true (ms)|1000|1|median"
		"create.s|create busybox true (ms)|1000|1|median"
		"start.s|start, container exits at once (ms)|1000|1|median"
		"rm.s|rm, exited container (ms)|1000|1|median"
		"seq.rate|$BENCH_SEQ x run --rm in a row (containers/s)|1|2|median"
		"mem.pss|marginal memory per container, PSS (MiB)|1|2|mean"
		"mem.rss|marginal memory per container, RSS (MiB)|1|2|mean"
		"fixed.pss|per-user fixed processes, PSS (MiB)|1|2|median"
		"fixed.rss|per-user fixed processes, RSS (MiB)|1|2|median"
		"total.pss|total, $BENCH_MEM_N running containers, PSS (MiB)|1|2|median"
	)
	local start_short=${START_IMAGE#docker.io/library/}
	start_short=${start_short%:latest}
	# shellcheck disable=SC2034
	local net_rows=(
		"net_out.gbps|iperf3 container -> host (Gbit/s)|1|2|median"
		"net_in.gbps|iperf3 host -> published port (Gbit/s)|1|2|median"
		"conn1.rate|connections/s via -p, 1 at a time|1|0|median"
		"connN.rate|connections/s via -p, $BENCH_CONN_C at a time|1|0|median"
		"conn1.p50|connection via -p, 1 at a time, p50 (ms)|1|3|median"
		"start_net.s|run --rm $start_short true, default network (ms)|1000|1|median"
		"start_none.s|run --rm $start_short true, --network none (ms)|1000|1|median"
		"net_extra.s|extra start time of the default network (ms)|1000|1|median"
	)
	# shellcheck disable=SC2034
	local serve_rows=(
		"sv_version.s|docker version (ms)|1000|1|median"
		"sv_ps0.s|docker ps -a, 0 containers (ms)|1000|1|median"
		"sv_psN.s|docker ps -a, $BENCH_SERVE_CTS containers (ms)|1000|1|median"
		"sv_curlN.s|curl /containers/json?all=1, $BENCH_SERVE_CTS cts (ms)|1000|1|median"
		"sv_run_rm.s|docker run --rm busybox true (ms)|1000|1|median"
		"sv_idle.pss|server PSS, idle after start (MiB)|1|1|median"
		"sv_busy.pss|server PSS, after $BENCH_SERVE_REQS requests (MiB)|1|1|median"
	)
	local kv=() v
	kv+=("date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" "host_cpus=$(nproc)" "kernel=$(uname -r)"
		"load_start=$load_start" "load_end=$(cut -d' ' -f1-3 /proc/loadavg)"
		"rrun_version=$rrun_version" "podman_version=$podman_version"
		"rrun_driver=$rrun_driver" "podman_driver=$podman_driver" "sections=$BENCH_SECTIONS"
		"runs=$BENCH_RUNS" "images_runs=$BENCH_IMAGES_RUNS" "image=$BIG_IMAGE"
		"ct_runs=$BENCH_CT_RUNS" "seq=$BENCH_SEQ" "seq_runs=$BENCH_SEQ_RUNS" "mem_n=$BENCH_MEM_N"
		"mem_runs=$BENCH_MEM_RUNS" "ct_image=$CT_IMAGE" "elapsed_s=$elapsed")
	if section network; then
		kv+=("net_time=$BENCH_NET_TIME" "net_runs=$BENCH_NET_RUNS" "conn_time=$BENCH_CONN_TIME"
			"conn_c=$BENCH_CONN_C" "start_runs=$BENCH_START_RUNS" "net_image=$NET_IMAGE"
			"start_image=$START_IMAGE" "host_addr=$HOST_ADDR" "net_host=$NET_HOST"
			"iperf3_version=$(iperf3 --version | head -n1)")
		for v in "${TOOLS[@]}"; do
			kv+=("$v.network=${NET_NOTES[$v]:-}")
		done
	fi
	if section serve; then
		kv+=("serve_runs=$BENCH_SERVE_RUNS" "serve_cts=$BENCH_SERVE_CTS" "serve_reqs=$BENCH_SERVE_REQS"
			"serve_ct_runs=$BENCH_SERVE_CT_RUNS" "docker_version=$(/usr/local/bin/docker --version)")
		for v in "${TOOLS[@]}"; do
			kv+=("$v.serve.processes=${SERVE_NOTES[$v]:-}")
		done
	fi
	local key
	for v in "${VARIANTS[@]}"; do
		[[ -z ${MEM_NOTES[$v]:-} ]] || kv+=("$v.mem.processes=${MEM_NOTES[$v]}")
		# The parts of the memory figures (MiB), samples only.
		for key in mem_sup.pss holder.pss holder.rss sup1.pss sup1.rss supn.pss supn.rss; do
			[[ -z ${SAMPLES["$v $key"]:-} ]] || kv+=("$v.$key.samples=${SAMPLES["$v $key"]// /,}")
		done
	done

	if section images; then
		table 48 image_rows "${TOOLS[@]}"
	fi
	if section containers; then
		table 41 ct_rows "${VARIANTS[@]}"
		local n=$BENCH_MEM_N
		printf '%s\n' "rrun and podman: their default networks (rrun: bridge, podman: slirp4netns); podman-host: podman with --network host (no network set up)." \
			"$BENCH_SEQ x run --rm: higher is better, so a ratio above 1 means rrun is faster; elsewhere below 1 does." \
			"memory: 'run -d busybox sleep 1000' containers, each tool in a fresh store, measured with 1 and with N=$n running; the containers' own processes are never counted." \
			"  marginal per container: rrun: (PSS of rrun-supervisor with $n running - with 1) / $((n - 1)), the supervisor started by the first container;" \
			"    podman: PSS of the processes it keeps per container (conmon[+slirp4netns]) / $n, [min-max] over the containers." \
			"  per-user fixed: rrun: rrun-pause + rrun-supervisor, 1 container running; podman: its catatonit pause process (no per-user monitor)." \
			"  total: all the tool keeps with $n running: rrun-pause + rrun-supervisor; catatonit + $n x (conmon[+slirp4netns])." \
			"  processes found with $n running:"
		for v in "${VARIANTS[@]}"; do
			printf '    %-15s %s\n' "$v" "${MEM_NOTES[$v]:-}"
		done
		local b
		printf '%s\n' "  break-even N, where rrun's total equals podman's (rrun: fixed + (N-1) x marginal; podman: fixed + N x per container):"
		for v in "${VARIANTS[@]:1}"; do
			b=$(breakeven "$v")
			kv+=("breakeven.$v=$b")
			printf '    %-15s %s\n' "$v" "$(breakeven_text "$b")"
		done
	fi
	if section network; then
		table 46 net_rows "${TOOLS[@]}"
		printf '%s\n' "Gbit/s and connections/s: higher is better, so a ratio above 1 means rrun is faster; elsewhere below 1 does." \
			"iperf3: $BENCH_NET_TIME s TCP, one stream, what the receiver got; container -> host: to iperf3 -s on $HOST_ADDR (as $NET_HOST);" \
			"  host -> published port: iperf3 -c 127.0.0.1 to -p PORT:5201." \
			"connections: each a GET of a 3-byte file from busybox httpd behind -p PORT:8080, read to the server's close; $BENCH_CONN_TIME s each." \
			"extra start time: median with the default network - median with --network none, $BENCH_START_RUNS samples each." \
			"  networks:"
		for v in "${TOOLS[@]}"; do
			printf '    %-15s %s\n' "$v" "${NET_NOTES[$v]:-}"
		done
	fi
	if section serve; then
		table 46 serve_rows "${TOOLS[@]}"
		printf '%s\n' "API servers: rrun serve (on RUNROOT/rrun.sock) and podman system service --time=0, each in its own store, driven by $(/usr/local/bin/docker --version | cut -d, -f1) and curl;" \
			"  $BENCH_SERVE_RUNS samples of each request, $BENCH_SERVE_CT_RUNS of docker run --rm (after one untimed); $BENCH_SERVE_CTS containers created (not running) for ps and curl." \
			"  server PSS: the server's own processes (every process of the store running the server's command line), not the namespace holder (rrun-pause, catatonit);" \
			"  idle: 1 s after the first /_ping answered; then after the timed requests, $BENCH_SERVE_CTS creates and $BENCH_SERVE_REQS x curl /containers/json?all=1, 1 s later."
		for v in "${TOOLS[@]}"; do
			printf '    %-15s %s\n' "$v" "${SERVE_NOTES[$v]:-}"
		done
	fi
	printf '\n%s (storage driver %s)\n%s (storage driver %s)\n' \
		"$rrun_version" "$rrun_driver" "$podman_version" "$podman_driver"
	local what=
	section images && what="$BENCH_RUNS pulls and $BENCH_IMAGES_RUNS images runs per tool"
	section containers && what+="${what:+; }$BENCH_CT_RUNS samples of each container timing, $BENCH_SEQ_RUNS of $BENCH_SEQ run --rm in a row, $BENCH_MEM_RUNS memory rounds (1, then $BENCH_MEM_N running containers)"
	section network && what+="${what:+; }$BENCH_NET_RUNS iperf3 test(s) each way, 1 connection-rate sample per concurrency, $BENCH_START_RUNS starts per network mode"
	section serve && what+="${what:+; }$BENCH_SERVE_RUNS samples per API request, $BENCH_SERVE_CT_RUNS API run --rm"
	printf 'medians of %s; load average %s at start, %s at end; took %d s\n' \
		"$what" "$load_start" "$(cut -d' ' -f1-3 /proc/loadavg)" "$elapsed"
	printf '%s\n' "${kv[@]}" >"$BENCH_OUT"
	printf 'key=value results: %s\n' "$BENCH_OUT"
}

main "$@"
