#!/usr/bin/env bash
# Local test hosts: podman containers that share the machine's network, so they reach the
# stand-in on 127.0.0.1 under its test names.
#
# Usage: hosts.sh up PREFIX COUNT [IMAGE]   start PREFIX-1..PREFIX-COUNT (default image
#                                           localhost/vip-mtls-host:bookworm); running hosts of
#                                           that image are kept, PREFIX-N above COUNT removed
#        hosts.sh down PREFIX               remove every container named PREFIX-*
#        hosts.sh inventory PREFIX FILE     write an INI inventory of the running PREFIX-* hosts
set -euo pipefail

usage() {
    echo "usage: $0 up PREFIX COUNT [IMAGE] | down PREFIX | inventory PREFIX FILE" >&2
    exit 2
}

# Names of all containers (any state) named PREFIX-<number>, in numeric order (so PREFIX-trust-1
# belongs to PREFIX-trust, not to PREFIX).
# Matched in bash, not with podman's regex filter, so PREFIX needs no escaping.
members() {
    local name
    podman ps -a --format '{{.Names}}' | while read -r name; do
        if [[ $name =~ ^"$1"-[0-9]+$ ]]; then echo "$name"; fi
    done | sort -V
}

up() {
    local prefix=$1 count=$2 image=${3:-localhost/vip-mtls-host:bookworm} i name state
    [[ $count =~ ^[0-9]+$ ]] || usage
    if ! podman image exists "$image"; then
        echo "hosts: image $image not found (run tests/hosts/build-image.sh)" >&2
        exit 1
    fi
    local want
    want=$(podman image inspect --format '{{.Id}}' "$image")
    for ((i = 1; i <= count; i++)); do
        name=$prefix-$i
        if state=$(podman container inspect --format '{{.State.Running}} {{.Image}}' "$name" 2>/dev/null); then
            # Keep a running host of the right image; replace a stopped one or another image's.
            [[ $state == "true $want" ]] && continue
            podman rm -f -t 0 "$name" >/dev/null
        fi
        # --init reaps zombies left by Ansible's commands; --network host lets the host reach
        # 127.0.0.1, where the stand-in listens under its test names.
        podman run -d --quiet --init --network host \
            --name "$name" --hostname "$name" \
            --add-host vip-standin.test:127.0.0.1 \
            --add-host wrong-name.test:127.0.0.1 \
            "$image" sleep infinity >/dev/null
    done
    # Hosts numbered above COUNT from an earlier, larger `up` would leak into the inventory.
    local n
    while read -r name; do
        n=${name#"$prefix"-}
        if [[ $n =~ ^[1-9][0-9]*$ ]] && ((n > count)); then
            podman rm -f -t 0 "$name" >/dev/null
        fi
    done < <(members "$prefix")
}

down() {
    local names
    mapfile -t names < <(members "$1")
    ((${#names[@]} == 0)) || podman rm -f -t 0 "${names[@]}" >/dev/null
}

inventory() {
    local prefix=$1 file=$2 name hosts=()
    while read -r name; do
        if [[ $(podman container inspect --format '{{.State.Running}}' "$name") == true ]]; then
            hosts+=("$name")
        fi
    done < <(members "$prefix")
    if ((${#hosts[@]} == 0)); then
        echo "hosts: no running containers named $prefix-*" >&2
        exit 1
    fi
    mkdir -p "$(dirname "$file")"
    {
        echo "[vip_hosts]"
        printf '%s\n' "${hosts[@]}"
        echo
        echo "[vip_hosts:vars]"
        echo "ansible_connection=containers.podman.podman"
        echo "ansible_python_interpreter=/usr/bin/python3"
        # The hosts run as root and have no sudo; su keeps the become path really exercised.
        echo "ansible_become_method=su"
    } >"$file.tmp"
    mv "$file.tmp" "$file"
}

(($# >= 2)) || usage
case $1 in
    up) (($# == 3 || $# == 4)) || usage; up "$2" "$3" "${4:-}" ;;
    down) (($# == 2)) || usage; down "$2" ;;
    inventory) (($# == 3)) || usage; inventory "$2" "$3" ;;
    *) usage ;;
esac
