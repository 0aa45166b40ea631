# Shared helpers of the hack/ scripts; sourced, not run.
# shellcheck shell=bash

# Address of the local test registry (plain HTTP, loopback only).
REGISTRY_ADDR=${REGISTRY_ADDR:-127.0.0.1:5000}

# Build tags every go command of this repository needs: pure-Go OpenPGP
# instead of gpgme, and no btrfs graph driver (its headers are not installed).
# shellcheck disable=SC2034 # used by the scripts that source this file
GO_BUILD_TAGS='containers_image_openpgp exclude_graphdriver_btrfs'

# info prints a progress line prefixed with the script's name.
info() {
	printf '%s: %s\n' "${0##*/}" "$*"
}

warn() {
	printf '%s: WARNING: %s\n' "${0##*/}" "$*" >&2
}

die() {
	printf '%s: error: %s\n' "${0##*/}" "$*" >&2
	exit 1
}

# join_list prints its arguments separated by ", ".
join_list() {
	local IFS=,
	local joined="$*"
	printf '%s\n' "${joined//,/, }"
}

need_root() {
	[[ $(id -u) == 0 ]] || die "must run as root"
}

# registry_answers succeeds if an HTTP server at $REGISTRY_ADDR answers
# GET /v2/ with 200, which is what a Docker registry v2 without auth does.
# curl is used when present; bash's /dev/tcp otherwise, so that the check
# also works before setup.sh has installed anything.
registry_answers() {
	if command -v curl >/dev/null; then
		curl -fsS -o /dev/null --max-time 3 "http://$REGISTRY_ADDR/v2/" 2>/dev/null
		return
	fi
	local host=${REGISTRY_ADDR%:*} port=${REGISTRY_ADDR##*:} fd status
	exec {fd}<>"/dev/tcp/$host/$port" 2>/dev/null || return 1
	printf 'GET /v2/ HTTP/1.0\r\nHost: %s\r\n\r\n' "$REGISTRY_ADDR" >&"$fd"
	IFS= read -r -t 3 status <&"$fd" || status=
	exec {fd}>&-
	[[ $status == "HTTP/1."?" 200"* ]]
}

# port_holders prints the listening sockets on the registry's port with the
# processes that hold them (empty if the port is free).
port_holders() {
	ss -Hltnp "sport = :${REGISTRY_ADDR##*:}" 2>/dev/null
}
