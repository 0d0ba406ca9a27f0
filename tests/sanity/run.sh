#!/usr/bin/env bash
# Run ansible-test on a real copy of the collection.
#
# Usage: tests/sanity/run.sh sanity|units [--all-pythons] [ansible-test arguments...]
#   sanity          every sanity test, in --venv mode. The tests that depend on the Python version
#                   (compile, import) run on every Python ansible-test supports that is found here
#                   (see find_pythons); the others on the controller's Python.
#   units           tests/unit through `ansible-test units`, on the controller's Python (3.11 here);
#                   with --all-pythons on every controller Python that is found (3.11 to 3.13).
#
# ansible-test refuses to run from .build/collections/ansible_collections/vip/mtls, which is a symlink to
# the repository root, so the collection's files (git ls-files -co --exclude-standard: uncommitted work is
# checked too) are copied into a real tree, .build/ansible-test/COMMAND/ansible_collections/vip/mtls (one per
# command, so sanity and units can run at the same time), and ansible-test runs there. Results: that tree's
# tests/output/.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV=${VENV:-$ROOT/.venv}
ANSIBLE_TEST=$VENV/bin/ansible-test
CACHE=$HOME/.ansible/test/cache

usage() { echo "usage: $0 sanity|units [--all-pythons] [ansible-test arguments...]" >&2; exit 2; }
(($# >= 1)) || usage
COMMAND=$1
shift
WORK=$ROOT/.build/ansible-test/$COMMAND
TREE=$WORK/ansible_collections/vip/mtls
ALL_PYTHONS=0
if [[ ${1:-} == --all-pythons ]]; then ALL_PYTHONS=1; shift; fi
[[ $COMMAND == sanity || $COMMAND == units ]] || usage
[[ -x $ANSIBLE_TEST ]] || { echo "$ANSIBLE_TEST not found: run make venv" >&2; exit 1; }
# ansible-test only warns and skips its shellcheck test when the program is missing: insist on it.
[[ $COMMAND != sanity ]] || command -v shellcheck >/dev/null ||
    { echo "shellcheck not found: run make machine (tests/hosts/setup-machine.sh installs it)" >&2; exit 1; }

copy_tree() {
    # Only files git knows or would add; the .venv and .build links are local, never part of the collection.
    rm -rf "$TREE"
    mkdir -p "$TREE"
    (cd "$ROOT" && git ls-files -z -co --exclude-standard) |
        ROOT=$ROOT "$VENV/bin/python" -c '
import os, sys
names = [n for n in sys.stdin.buffer.read().decode().split("\0") if n]
for name in names:
    if name.split("/")[0] in (".venv", ".build"):
        continue
    if os.path.lexists(os.path.join(os.environ["ROOT"], name)):  # tracked but deleted: skip
        sys.stdout.buffer.write(name.encode() + b"\0")
' | tar -C "$ROOT" --null -T - -cf - | tar -C "$TREE" -xf -
    # ansible-test takes its file list from the nearest git repository above the collection, which would be
    # this worktree (where .build is ignored): the copy gets its own, empty one (every file is "untracked").
    git -C "$TREE" init -q
    echo "/tests/output/" >> "$TREE/.git/info/exclude"
}

get_pip_standin() {
    # ansible-test bootstraps pip into each venv it makes with a get-pip script it downloads from
    # ci-files.testing.ansible.com, which cannot be reached from here. Its cache (~/.ansible/test/cache/
    # get_pip_X_Y.py) is consulted first, so put a stand-in there: pip's own wheel from PyPI, run
    # straight from the wheel (pip supports that) to install pip into the venv, which is what get-pip does.
    # A real get-pip script already in the cache is left alone. Done here so a fresh machine works.
    local version stem script wheel
    version=$("$VENV/bin/python" -c '
from types import SimpleNamespace
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(SimpleNamespace(version="3.11"))["pip"])')
    stem=get_pip_${version//./_}
    script=$CACHE/$stem.py
    wheel=$CACHE/pip-$version-py3-none-any.whl
    mkdir -p "$CACHE"
    [[ -f $wheel ]] || "$VENV/bin/python" -m pip download -q --disable-pip-version-check --no-deps \
        --only-binary=:all: -d "$CACHE" "pip==$version"
    [[ -f $wheel ]] || { echo "pip $version wheel not downloaded to $CACHE" >&2; exit 1; }
    if [[ -s $script ]] && ! grep -q 'vip.mtls stand-in' "$script"; then
        return 0
    fi
    cat > "$script.tmp" <<EOF
# vip.mtls stand-in for get-pip.py $version (tests/sanity/run.sh): installs pip from its wheel,
# with the arguments ansible-test passes (pip==$version, --no-setuptools, --no-wheel, pip options).
import os
import sys

WHEEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pip-$version-py3-none-any.whl")
sys.path.insert(0, WHEEL)
from pip._internal.cli.main import main  # noqa: E402

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--no-index", "--find-links", os.path.dirname(WHEEL)] + args))
EOF
    mv "$script.tmp" "$script"
}

find_pythons() {
    # ansible-test looks for pythonX.Y on PATH. Offer every supported version installed here: Debian's
    # /usr/bin/python3.Y, or a pyenv build (this machine kind has 3.8 to 3.13 under ~/.pyenv/versions,
    # whose shims on PATH fail for versions that are not pyenv's global one, so links to the real
    # binaries go first on PATH). A version not found is reported as skipped by ansible-test itself.
    local bin=$WORK/bin version candidate
    rm -rf "$bin"
    mkdir -p "$bin"
    for version in $("$VENV/bin/python" -c '
from ansible_test._internal.constants import SUPPORTED_PYTHON_VERSIONS
print(" ".join(SUPPORTED_PYTHON_VERSIONS))'); do
        for candidate in "/usr/bin/python$version" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/"python$version"; do
            if [[ -x $candidate ]] && "$candidate" -c 'import venv, ssl' 2>/dev/null; then
                ln -s "$candidate" "$bin/python$version"
                break
            fi
        done
    done
    # The controller's Python is the venv's, whatever else is found.
    ln -sfn "$VENV/bin/python" "$bin/python$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    export PATH=$bin:$PATH
    echo "Pythons for ansible-test:" "$bin"/python*
}

copy_tree
get_pip_standin
find_pythons
CONTROLLER=$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
cd "$TREE"
export ANSIBLE_COLLECTIONS_PATH=$WORK  # this copy, not the working tree's link
case $COMMAND in
    sanity)
        exec "$ANSIBLE_TEST" sanity --venv --color no "$@"
        ;;
    units)
        if ((ALL_PYTHONS)); then
            exec "$ANSIBLE_TEST" units --venv --color no --requirements "$@"
        fi
        exec "$ANSIBLE_TEST" units --venv --color no --requirements --python "$CONTROLLER" "$@"
        ;;
esac
