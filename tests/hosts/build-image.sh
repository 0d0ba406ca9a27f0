#!/usr/bin/env bash
# Build the local test-host image localhost/vip-mtls-host:SUITE (no registry is reachable:
# the root filesystem is made with mmdebstrap and imported). Does nothing if the image exists.
# With the second argument `java` it builds localhost/vip-mtls-host:SUITE-java instead: the same
# host plus Debian's default headless JRE (java, keytool and the cacerts of ca-certificates-java),
# for the java trust store tests.
# bullseye (Debian 11, Python 3.9) is the oldest target the tests run on (see README, Compatibility).
# Usage: build-image.sh [bookworm|trixie|bullseye] [java]
set -euo pipefail

SUITE=${1:-bookworm}
VARIANT=${2:-}
case $SUITE in
    bookworm | trixie | bullseye) ;;
    *) echo "build-image: unknown suite '$SUITE' (bookworm|trixie|bullseye)" >&2; exit 2 ;;
esac

# curl and openssl: the tests cross-check the handshake from inside the hosts.
PACKAGES=python3,ca-certificates,curl,openssl
TAG=$SUITE
case $VARIANT in
    "") ;;
    java) PACKAGES=$PACKAGES,default-jre-headless; TAG=$SUITE-java ;;
    *) echo "build-image: unknown variant '$VARIANT' (java, or none)" >&2; exit 2 ;;
esac

IMAGE=localhost/vip-mtls-host:$TAG
if podman image exists "$IMAGE"; then
    exit 0
fi

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=$ROOT/.build/images
TAR=$OUT/vip-mtls-host-$TAG.tar
mkdir -p "$OUT"

# A tarball left by an interrupted earlier run may be incomplete: build into a temp
# name and rename only on success, so an existing $TAR is always a finished one.
if [[ ! -s $TAR ]]; then
    echo "build-image: mmdebstrap $SUITE ($PACKAGES) -> $TAR"
    rm -f "$TAR.part"
    if ! mmdebstrap --quiet --variant=minbase --format=tar \
        --include="$PACKAGES" \
        "$SUITE" "$TAR.part" \
        "deb http://deb.debian.org/debian $SUITE main" \
        "deb http://deb.debian.org/debian $SUITE-updates main" \
        "deb http://deb.debian.org/debian-security $SUITE-security main"; then
        rm -f "$TAR.part"
        echo "build-image: mmdebstrap failed for $TAG" >&2
        exit 1
    fi
    mv "$TAR.part" "$TAR"
fi

echo "build-image: podman import -> $IMAGE"
podman import --quiet --change 'CMD ["sleep","infinity"]' "$TAR" "$IMAGE" >/dev/null
# The image now holds the filesystem; the ~220 MB tarball is no longer needed.
rm -f "$TAR"
echo "build-image: built $IMAGE"
