#!/usr/bin/env bash
# Build localhost/vip-mtls-bench:bookworm, the benchmark's SSH-reachable test host: Debian bookworm
# (minbase, mmdebstrap like tests/hosts/build-image.sh) with python3, ca-certificates, curl, openssl,
# openssh-server and nginx-light (the same image also runs the mTLS stand-in). Root logs in by the key
# .build/bench/id_ed25519 (generated here if missing). Does nothing if the image exists and was built
# for the current key.
# Container command: sh -c 'mkdir -p /run/sshd && exec /usr/sbin/sshd -D -e'
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/.build/bench
IMAGE=${BENCH_IMAGE:-localhost/vip-mtls-bench:bookworm}
SUITE=bookworm
PACKAGES=python3,ca-certificates,curl,openssl,openssh-server,nginx-light
mkdir -p "$OUT"

if [[ ! -s $OUT/id_ed25519 ]]; then
    ssh-keygen -q -t ed25519 -N '' -C vip-mtls-bench -f "$OUT/id_ed25519"
fi
KEYSUM=$(sha256sum "$OUT/id_ed25519.pub" | cut -c1-16)
if podman image exists "$IMAGE" &&
    [[ $(podman image inspect --format '{{index .Labels "vip.bench.key"}}' "$IMAGE" 2>/dev/null) == "$KEYSUM" ]]; then
    exit 0
fi

TAR=$OUT/vip-mtls-bench.tar
echo "build-ssh-image: mmdebstrap $SUITE ($PACKAGES) -> $TAR"
rm -f "$TAR.part"
if ! mmdebstrap --quiet --variant=minbase --format=tar \
    --include="$PACKAGES" \
    --customize-hook="mkdir -p \"\$1/root/.ssh\" \"\$1/run/sshd\" && chmod 0700 \"\$1/root/.ssh\"" \
    --customize-hook="copy-in $OUT/id_ed25519.pub /root/.ssh" \
    --customize-hook="mv \"\$1/root/.ssh/id_ed25519.pub\" \"\$1/root/.ssh/authorized_keys\" && chmod 0600 \"\$1/root/.ssh/authorized_keys\"" \
    --customize-hook="printf 'PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\nMaxStartups 200:30:400\nMaxSessions 100\n' > \"\$1/etc/ssh/sshd_config.d/bench.conf\"" \
    --customize-hook="rm -f \"\$1\"/etc/ssh/ssh_host_*" \
    "$SUITE" "$TAR.part" \
    "deb http://deb.debian.org/debian $SUITE main" \
    "deb http://deb.debian.org/debian $SUITE-updates main" \
    "deb http://deb.debian.org/debian-security $SUITE-security main"; then
    rm -f "$TAR.part"
    echo "build-ssh-image: mmdebstrap failed" >&2
    exit 1
fi
mv "$TAR.part" "$TAR"
echo "build-ssh-image: podman import -> $IMAGE"
# Host keys are made at container start (ssh-keygen -A), so no two hosts share one baked into the image.
podman import --quiet \
    --change 'CMD ["sh","-c","ssh-keygen -A >/dev/null && mkdir -p /run/sshd && exec /usr/sbin/sshd -D -e"]' \
    --change "LABEL vip.bench.key=$KEYSUM" \
    "$TAR" "$IMAGE" >/dev/null
rm -f "$TAR"
echo "build-ssh-image: built $IMAGE"
