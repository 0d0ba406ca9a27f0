#!/usr/bin/env bash
# Removes what `make demo` made: the test hosts, the stand-in and the demo files.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v podman >/dev/null; then bash tests/hosts/hosts.sh down "${VIP_DEMO_PREFIX:-vipdemo}" || true; fi
if [ -d .build/demo/standin ]; then bash tests/hosts/standin.sh stop .build/demo/standin || true; fi
rm -rf .build/demo
echo "demo removed"
