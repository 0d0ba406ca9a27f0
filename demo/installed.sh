#!/usr/bin/env bash
# `make demo-installed` (and tests/integration/test_demo_installed.py, so `make test`): the demo, run from the
# collection as a user receives it - built with `ansible-galaxy collection build`, installed from the tarball
# into a new, empty virtual environment - and never from this checkout:
#   1. a new venv with the collection's controller requirements (requirements.txt) and the `ansible` package
#      (for containers.podman, the demo's connection plugin), from pip's cache;
#   2. the tarball built and installed into that venv's site-packages (ansible_collections/vip/mtls);
#   3. ANSIBLE_COLLECTIONS_PATH pointed at an empty directory and HOME at a fresh one, so the only vip.mtls that
#      Ansible can find is the installed one; `ansible-galaxy collection list` must show exactly that, with the
#      MANIFEST.json only an installed tarball has (demo/which_collection.py) - else it stops before the demo;
#   4. demo/run.sh on VIP_DEMO_HOSTS hosts (default 1: the tarball is under test here; `make demo` shows the
#      batches), with its own host prefix, port and work directory (so a `make demo` left running is not
#      touched); everything is removed at the end.
# Environment: VIP_DEMO_PREFIX (default vipdemo; the hosts are PREFIXi-N), VIP_DEMO_PORT (default 8443; the
# stand-in uses PORT+4..PORT+7), VIP_DEMO_HOSTS, VIP_DEMO_KEEP=1 to keep hosts, venv and files for a look
# (VIP_DEMO_PREFIX=... VIP_DEMO_DIR=.build/demo-installed/demo bash demo/clean.sh removes them).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$ROOT/.build/demo-installed
VENV=$WORK/venv
PREFIX=${VIP_DEMO_PREFIX:-vipdemo}i
PORT=$((${VIP_DEMO_PORT:-8443} + 4))
HOSTS=${VIP_DEMO_HOSTS:-1}
# The dev venv's python may run this script (make puts .venv/bin first): venv bases a new venv on the
# interpreter behind it, never on the dev venv's packages.
BASE_PYTHON=${BASE_PYTHON:-$(command -v python3)}
ANSIBLE_SPEC=$(grep -E '^ansible([<>=!~ ]|$)' requirements-test.txt | head -n 1)

cleanup() {
  if [[ ${VIP_DEMO_KEEP:-0} != 1 ]]; then
    VIP_DEMO_PREFIX=$PREFIX VIP_DEMO_DIR=$WORK/demo bash demo/clean.sh >/dev/null 2>&1 || true
    rm -rf "$WORK"
  fi
}
VIP_DEMO_PREFIX=$PREFIX VIP_DEMO_DIR=$WORK/demo bash demo/clean.sh >/dev/null 2>&1 || true
rm -rf "$WORK"
mkdir -p "$WORK/dist" "$WORK/home" "$WORK/no-collections"
trap cleanup EXIT

# Nothing of the caller's Ansible setup may leak in (make exports ANSIBLE_COLLECTIONS_PATH=.build/collections,
# which links to this checkout).
while IFS='=' read -r name _; do
  case $name in ANSIBLE_* | PYTHONPATH | VIRTUAL_ENV) unset "$name" ;; esac
done < <(env)
export HOME=$WORK/home
export ANSIBLE_COLLECTIONS_PATH=$WORK/no-collections
export PATH=$VENV/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export ANSIBLE_NOCOLOR=1

echo "== new virtual environment $VENV: requirements.txt and $ANSIBLE_SPEC (for containers.podman)"
"$BASE_PYTHON" -m venv "$VENV"
quietly() { # run a command, showing its output only when it fails
  if ! "$@" >"$WORK/step.log" 2>&1; then cat "$WORK/step.log" >&2; echo "DEMO-INSTALLED FAILED: $*" >&2; exit 1; fi
}
# --no-compile: the `ansible` package brings ~15,000 Python files; compiling them all triples the install time.
quietly "$VENV/bin/pip" install -q --no-compile --disable-pip-version-check -r requirements.txt "$ANSIBLE_SPEC"
"$VENV/bin/python" -c 'import ansible_collections.containers.podman, cryptography' # fails if pip did not deliver
SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

echo "== ansible-galaxy collection build, then install the tarball into $SITE"
quietly "$VENV/bin/ansible-galaxy" collection build --output-path "$WORK/dist" "$ROOT"
TARBALL=$(ls "$WORK"/dist/vip-mtls-*.tar.gz)
quietly "$VENV/bin/ansible-galaxy" collection install --offline -p "$SITE" "$TARBALL"

echo "== which vip.mtls Ansible finds"
"$VENV/bin/ansible-galaxy" collection list --format json >"$WORK/collections.json" 2>/dev/null
INSTALLED=$SITE/ansible_collections/vip/mtls
"$VENV/bin/python" demo/which_collection.py "$WORK/collections.json" "$INSTALLED" "$ROOT"

SETUP_SECONDS=$SECONDS
echo "== the demo (demo/run.sh) on $HOSTS hosts, stand-in on 127.0.0.1:$PORT"
VIP_DEMO_PREFIX=$PREFIX VIP_DEMO_PORT=$PORT VIP_DEMO_HOSTS=$HOSTS VIP_DEMO_DIR=$WORK/demo PYTHON=$VENV/bin/python \
  bash demo/run.sh
echo "DEMO-INSTALLED OK: the demo passed with vip.mtls installed from $(basename "$TARBALL") into a new venv" \
  "(${SECONDS}s; venv and install ${SETUP_SECONDS}s)"
