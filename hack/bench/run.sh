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
#  3. measures, alternating the two tools, each sample in fresh storage:
#       - pull of rrun-test/big as the first command (namespace holder not
#         running yet: what a user sees right after login or a reboot);
#       - pull of rrun-test/big with the namespace holder already up (pull
#         speed proper);
#       - `images` latency over a store of 5 images;
#       - peak RSS of the pull and of `images`;
#  4. prints the table (medians, min-max), writes key=value results and
#     removes everything it created but the podman/runc packages and the
#     user's podman configuration.
#
# Environment:
#   BENCH_USER         user to measure as (default rrun-test)
#   BENCH_RUNS         pulls per figure and tool (default 5)
#   BENCH_IMAGES_RUNS  `images` runs per tool (default 20)
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

TOOLS=(rrun podman)
# The pulled image, and the images of the store that `images` lists (five
# distinct images; alpine:3.20 is alpine:latest, rrun-test/evil is a
# hostile-layer test image and is left out).
BIG_IMAGE=docker.io/rrun-test/big:latest
IMAGES_SET=(
	docker.io/library/busybox:latest docker.io/library/alpine:latest
	docker.io/rrun-test/owners:latest docker.io/rrun-test/multiarch:latest
	"$BIG_IMAGE"
)

# Set by main.
RRUN=
WORK=
USER_HOME=
USER_UID=
CMD=()
declare -A SAMPLES=() # "tool figure" -> space-separated samples

# ---------------------------------------------------------------- setup

# ensure_packages installs podman (with runc: crun refuses this hybrid-cgroup
# host) and GNU time when dpkg lacks them; the package lists are refreshed
# only if installing from the current ones fails.
ensure_packages() {
	local pkgs=(podman runc time) missing=() pkg
	for pkg in "${pkgs[@]}"; do
		[[ $(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) == installed ]] ||
			missing+=("$pkg")
	done
	if ((${#missing[@]} == 0)); then
		info "packages: podman, runc and time installed"
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
	podman) CMD=(podman) ;;
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
# may still hold the overlay driver's private mounts), then removes the
# store as root: its files belong to the user's subordinate ids, and root
# needs no namespace for that.
destroy_store() {
	local dir=$1 pid i
	for pid in $(holder_pids "$dir"); do
		kill -KILL "$pid" 2>/dev/null || true
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
# itself), then the peak RSS. The command's
# output goes to $1.out; on failure it is shown and the timer fails.
# shellcheck disable=SC2016 # expanded by the user's bash
TIMER='out=$1; shift
sync
start=$EPOCHREALTIME
if ! /usr/bin/time -f %M -o "$out.rss" "$@" >"$out.out" 2>&1; then
	cat "$out.out" >&2
	exit 1
fi
end=$EPOCHREALTIME
echo "${end/./} ${start/./} $(<"$out.rss")"'

# timed TOOL DIR FIGURE ARGS... runs the tool's command in store DIR under
# the timer and adds "FIGURE.s" (wall seconds) and "FIGURE.rss" (MiB)
# samples for the tool.
timed() {
	local tool=$1 dir=$2 figure=$3 res end start rss
	shift 3
	tool_cmd "$tool" "$dir"
	if ! res=$(STORE_DIR=$dir as_user bash -c "$TIMER" timer "$dir/timer" "${CMD[@]}" "$@"); then
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

# ------------------------------------------------------------ statistics

# stats prints "median min max" of its numeric arguments.
stats() {
	printf '%s\n' "$@" | sort -g | awk '
		{ v[NR] = $1 }
		END {
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			print m, v[1], v[NR]
		}'
}

# ------------------------------------------------------------ main

cleanup() {
	local dir
	[[ -n $WORK && -d $WORK ]] || return 0
	for dir in "$WORK"/*/; do
		destroy_store "${dir%/}"
	done
	rm -rf "$WORK"
}

main() {
	need_root
	RRUN=${1:-$REPO_ROOT/bin/rrun}
	[[ -x $RRUN ]] || die "$RRUN: no rrun binary (make build)"
	RRUN=$(realpath "$RRUN")
	[[ $BENCH_RUNS =~ ^[1-9][0-9]*$ && $BENCH_IMAGES_RUNS =~ ^[1-9][0-9]*$ ]] ||
		die "BENCH_RUNS and BENCH_IMAGES_RUNS must be positive integers"
	local t0=$SECONDS

	"$HACK_DIR/setup.sh" "$BENCH_USER"
	ensure_packages
	USER_HOME=$(getent passwd "$BENCH_USER" | cut -d: -f6)
	USER_UID=$(id -u "$BENCH_USER")
	configure_podman

	# The user may not reach the binary (a tree under /root, say): use a copy.
	WORK=$(as_user mktemp -d /tmp/rrun-bench.XXXXXX)
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	if ! as_user test -x "$RRUN"; then
		install -m 0755 -o "$BENCH_USER" "$RRUN" "$WORK/rrun"
		RRUN=$WORK/rrun
	fi

	local rrun_version podman_version load_start tool dir
	dir=$(new_store any version) # podman --version sets up its run-time dirs
	rrun_version=$(STORE_DIR=$dir as_user "$RRUN" --version)
	podman_version=$(STORE_DIR=$dir as_user podman --version)
	destroy_store "$dir"
	load_start=$(cut -d' ' -f1-3 /proc/loadavg)
	info "measuring as $BENCH_USER: $rrun_version, $podman_version; driver $BENCH_DRIVER; $BENCH_RUNS runs; load $load_start"

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
	local drivers=()
	for tool in "${TOOLS[@]}"; do
		case $tool in
		rrun) drivers+=("$(in_store rrun "${images_dir[rrun]}" info --format '{{.store.driver}}')") ;;
		podman) drivers+=("$(in_store podman "${images_dir[podman]}" info --format '{{.Store.GraphDriverName}}')") ;;
		esac
	done
	for ((run = 1; run <= BENCH_IMAGES_RUNS; run++)); do
		for tool in "${TOOLS[@]}"; do
			timed "$tool" "${images_dir[$tool]}" images images
		done
	done
	info "images: $BENCH_IMAGES_RUNS runs done"

	report "$rrun_version" "$podman_version" "${drivers[@]}" "$load_start" $((SECONDS - t0))
}

# report prints the table and writes BENCH_OUT.
report() {
	local rrun_version=$1 podman_version=$2 rrun_driver=$3 podman_driver=$4 load_start=$5 elapsed=$6
	local short=${BIG_IMAGE#docker.io/}
	short=${short%:latest}
	# figure key, label, scale (samples are s or MiB), decimals
	local rows=(
		"pull_first.s|pull $short, first command (s)|1|2"
		"pull.s|pull $short, namespace up (s)|1|2"
		"images.s|images, ${#IMAGES_SET[@]} images (ms)|1000|1"
		"pull.rss|pull peak RSS, namespace up (MiB)|1|1"
		"pull_first.rss|pull peak RSS, first command (MiB)|1|1"
		"images.rss|images peak RSS (MiB)|1|1"
	)
	local kv=() row key label scale dec tool med min max ratio line
	local -A m=() r=()
	kv+=("date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" "host_cpus=$(nproc)" "kernel=$(uname -r)"
		"load_start=$load_start" "load_end=$(cut -d' ' -f1-3 /proc/loadavg)"
		"rrun_version=$rrun_version" "podman_version=$podman_version"
		"rrun_driver=$rrun_driver" "podman_driver=$podman_driver"
		"runs=$BENCH_RUNS" "images_runs=$BENCH_IMAGES_RUNS" "image=$BIG_IMAGE" "elapsed_s=$elapsed")

	printf '\n%-48s %22s %22s %12s\n' figure "rrun med [min-max]" "podman med [min-max]" rrun/podman
	for row in "${rows[@]}"; do
		IFS='|' read -r key label scale dec <<<"$row"
		line=$(printf '%-48s' "$label")
		for tool in "${TOOLS[@]}"; do
			# Word splitting of the sample list is intended.
			# shellcheck disable=SC2086
			read -r med min max < <(stats ${SAMPLES["$tool $key"]})
			m[$tool]=$(awk -v v="$med" -v s="$scale" 'BEGIN { print v * s }')
			r[$tool]=$(awk -v a="$min" -v b="$max" -v s="$scale" -v d="$dec" \
				'BEGIN { printf "%.*f-%.*f", d, a * s, d, b * s }')
			line+=$(printf ' %22s' "$(printf "%.${dec}f [%s]" "${m[$tool]}" "${r[$tool]}")")
			kv+=("$tool.$key.median=$med" "$tool.$key.min=$min" "$tool.$key.max=$max"
				"$tool.$key.samples=${SAMPLES["$tool $key"]// /,}")
		done
		ratio=$(awk -v a="${m[rrun]}" -v b="${m[podman]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
		kv+=("ratio.$key=$ratio")
		printf '%s %12s\n' "$line" "$ratio"
	done
	printf '\n%s (storage driver %s)\n%s (storage driver %s)\n' \
		"$rrun_version" "$rrun_driver" "$podman_version" "$podman_driver"
	printf 'medians of %d pulls and %d images runs per tool; load average %s at start, %s at end; took %d s\n' \
		"$BENCH_RUNS" "$BENCH_IMAGES_RUNS" "$load_start" "$(cut -d' ' -f1-3 /proc/loadavg)" "$elapsed"
	printf '%s\n' "${kv[@]}" >"$BENCH_OUT"
	printf 'key=value results: %s\n' "$BENCH_OUT"
}

main "$@"
