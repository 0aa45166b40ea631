#!/usr/bin/env bash
# Runs the local image registry that rrun's tests pull from: Debian's
# docker-registry (distribution 2.8) on $REGISTRY_ADDR (default
# 127.0.0.1:5000), plain HTTP, storage in /var/lib/rrun-test-registry.
#
# Usage: hack/registry.sh start|stop|status
#
# There is no init system to hand it to (PID 1 is not systemd here), so
# `start` detaches the server into its own session; it outlives the shell
# that started it. `start` does nothing when our registry already answers.
set -euo pipefail

HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/lib.sh
. "$HACK_DIR/lib.sh"

REGISTRY_BIN=/usr/bin/docker-registry
REGISTRY_DIR=/var/lib/rrun-test-registry
CONFIG=$REGISTRY_DIR/config.yml
LOG=$REGISTRY_DIR/registry.log
PIDFILE=$REGISTRY_DIR/registry.pid

# The registry's layout lands in $REGISTRY_DIR/docker/registry/v2. Access
# logs are off: they would grow the log by a line per blob request.
# Loopback only and no auth: it serves test images to this machine alone.
desired_config() {
	cat <<EOF
# Written by hack/registry.sh; rewritten on start.
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
  # Signs upload state; fixed so that the registry does not warn on each start.
  secret: rrun-test-registry
EOF
}

# is_ours succeeds if pid $1 is a docker-registry serving our config.
is_ours() {
	[[ $1 =~ ^[0-9]+$ ]] || return 1
	local cmdline
	cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
	[[ $cmdline == "$REGISTRY_BIN serve $CONFIG " ]]
}

# our_pid prints the pid of the registry started by this script, if it runs.
# Without a usable pid file it looks at the processes holding the port, so a
# lost pid file does not lead to a second server.
our_pid() {
	local pid
	if [[ -r $PIDFILE ]] && pid=$(<"$PIDFILE") && is_ours "$pid"; then
		echo "$pid"
		return 0
	fi
	for pid in $(port_holders | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
		if is_ours "$pid"; then
			echo "$pid" >"$PIDFILE"
			echo "$pid"
			return 0
		fi
	done
	return 1
}

# explain_port_conflict fails with what holds the registry's port.
explain_port_conflict() {
	local holders
	holders=$(port_holders)
	[[ -n $holders ]] || holders="(ss shows no listener; a server on another address answers http://$REGISTRY_ADDR/v2/)"
	local hint=""
	if [[ -f /var/run/docker-registry.pid ]] && kill -0 "$(</var/run/docker-registry.pid)" 2>/dev/null; then
		hint=$'\n'"Debian's own docker-registry service is running; stop it with: /etc/init.d/docker-registry stop (hack/setup.sh does that)"
	fi
	die "port ${REGISTRY_ADDR##*:} is taken by a process this script did not start:"$'\n'"$holders$hint"$'\n'"Stop it, or choose another address with REGISTRY_ADDR=127.0.0.1:PORT."
}

# wait_ready waits up to 10 s for the registry to answer, failing with the
# tail of its log if it does not.
wait_ready() {
	local i pid=""
	for ((i = 0; i < 50; i++)); do
		pid=$(cat "$PIDFILE" 2>/dev/null || true)
		if registry_answers; then
			info "registry started (pid $pid) on http://$REGISTRY_ADDR, storage $REGISTRY_DIR"
			return 0
		fi
		# The pid file appears a moment after setsid returns.
		if ((i > 5)) && ! is_ours "$pid"; then
			break
		fi
		sleep 0.2
	done
	{
		echo "--- last lines of $LOG:"
		tail -n 20 "$LOG" 2>/dev/null || true
	} >&2
	if is_ours "$pid"; then
		die "registry (pid $pid) does not answer http://$REGISTRY_ADDR/v2/ after 10 s"
	fi
	die "registry exited before answering on $REGISTRY_ADDR"
}

start() {
	need_root
	[[ -x $REGISTRY_BIN ]] || die "$REGISTRY_BIN missing: install Debian's docker-registry package (hack/setup.sh does)"
	mkdir -p "$REGISTRY_DIR"

	local pid new_config
	new_config=$(desired_config)
	if pid=$(our_pid); then
		if [[ $(cat "$CONFIG" 2>/dev/null) == "$new_config" ]]; then
			if registry_answers; then
				info "registry already running (pid $pid) on http://$REGISTRY_ADDR"
				return 0
			fi
			wait_ready
			return
		fi
		info "registry configuration changed (REGISTRY_ADDR?): restarting it"
		stop
	fi

	if registry_answers || [[ -n $(port_holders) ]]; then
		explain_port_conflict
	fi

	printf '%s\n' "$new_config" >"$CONFIG.tmp"
	mv "$CONFIG.tmp" "$CONFIG"
	rm -f "$PIDFILE"
	printf '%s starting %s serve %s\n' "$(date -u +%FT%TZ)" "$REGISTRY_BIN" "$CONFIG" >>"$LOG"
	# setsid -f always forks, so the server is in a new session without a
	# controlling terminal whatever the caller's job control does; it writes
	# its own pid before exec so the pid file names the server itself.
	# shellcheck disable=SC2016 # expanded by the inner bash
	setsid -f bash -c 'echo $$ >"$1" && exec "$2" serve "$3"' registry \
		"$PIDFILE" "$REGISTRY_BIN" "$CONFIG" >>"$LOG" 2>&1 </dev/null
	wait_ready
}

stop() {
	need_root
	local pid i
	if ! pid=$(our_pid); then
		rm -f "$PIDFILE"
		info "registry not running"
		return 0
	fi
	kill -TERM "$pid"
	for ((i = 0; i < 50; i++)); do
		is_ours "$pid" || break
		sleep 0.2
	done
	if is_ours "$pid"; then
		warn "registry (pid $pid) ignored SIGTERM for 10 s; killing it"
		kill -KILL "$pid"
	fi
	rm -f "$PIDFILE"
	info "registry stopped (pid $pid)"
}

# status exits 0 if our registry runs and answers, 3 if nothing answers, and
# 1 if something we did not start answers on the address.
status() {
	local pid
	if pid=$(our_pid) && registry_answers; then
		info "registry running (pid $pid) on http://$REGISTRY_ADDR, storage $REGISTRY_DIR"
		return 0
	fi
	if registry_answers; then
		info "a registry answers on http://$REGISTRY_ADDR but this script did not start it:"
		port_holders
		return 1
	fi
	if [[ -n ${pid:-} ]]; then
		info "registry process $pid runs but does not answer on http://$REGISTRY_ADDR; see $LOG"
		return 1
	fi
	info "registry not running"
	return 3
}

case ${1:-} in
start | stop | status) "$1" ;;
*)
	echo "usage: $0 start|stop|status" >&2
	exit 2
	;;
esac
