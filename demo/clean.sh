#!/usr/bin/env bash
# Removes what `make demo` made: the test hosts, the stand-in and the demo files.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v podman >/dev/null; then bash tests/hosts/hosts.sh down "${VIP_DEMO_PREFIX:-vipdemo}" || true; fi
DEMO=${VIP_DEMO_DIR:-.build/demo}
if [ -d "$DEMO/standin" ]; then bash tests/hosts/standin.sh stop "$DEMO/standin" || true; fi
rm -rf "$DEMO"
echo "demo removed"
