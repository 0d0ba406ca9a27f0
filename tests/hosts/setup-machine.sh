#!/usr/bin/env bash
# Make a fresh Debian 12 machine (root, no systemd) able to run the test hosts:
# podman with runc, mmdebstrap for root filesystems, nginx for the mTLS stand-in,
# tinyproxy for the proxy cases of the mtls_check matrix (tests/hosts/servers.sh),
# and the shellcheck program for ansible-test sanity (whose shellcheck test is skipped, with only a warning,
# without it).
# Idempotent and a fast no-op when everything is already in place.
set -euo pipefail

# catatonit is podman's --init; it is only a Recommends of podman, so name it.
PACKAGES=(podman runc catatonit mmdebstrap uidmap slirp4netns fuse-overlayfs nginx-light curl openssl tinyproxy shellcheck)

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]})); then
    echo "setup-machine: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Without systemd, package scripts would start nginx on port 80 via the
    # init.d script; a temporary policy-rc.d stops them starting any service.
    policy=/usr/sbin/policy-rc.d
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 0755 "$policy"
        trap 'rm -f "$policy"' EXIT
    fi
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}"
    # Belt and braces: if a default nginx came up anyway, stop it (by its pid file only,
    # so a stand-in nginx with its own pid file is left alone).
    if [[ " ${missing[*]} " == *" nginx-light "* && -s /run/nginx.pid ]]; then
        kill "$(cat /run/nginx.pid)" 2>/dev/null || true
    fi
fi

# crun fails on this machine kind (hybrid cgroups) and setrlimit is not permitted,
# so podman must use runc and fixed ulimits.
conf=/etc/containers/containers.conf
dropin=/etc/containers/containers.conf.d/50-vip-mtls.conf
CONF_TEXT='[engine]
runtime = "runc"
[containers]
default_ulimits = ["nofile=16384:16384", "nproc=32768:32768"]
'
has_settings() {
    grep -qsE '^[[:space:]]*runtime[[:space:]]*=[[:space:]]*"runc"' "$@" &&
        grep -qsE '^[[:space:]]*default_ulimits[[:space:]]*=' "$@"
}
if [[ ! -e $conf ]]; then
    mkdir -p /etc/containers
    printf '%s' "$CONF_TEXT" >"$conf"
    echo "setup-machine: wrote $conf"
elif ! has_settings "$conf" && ! has_settings "$dropin"; then
    # Someone else's containers.conf: add a drop-in (read after it) instead of rewriting it.
    mkdir -p "$(dirname "$dropin")"
    printf '%s' "$CONF_TEXT" >"$dropin"
    echo "setup-machine: wrote $dropin"
fi
