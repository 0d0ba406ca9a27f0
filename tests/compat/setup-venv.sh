#!/usr/bin/env bash
# Make (or refresh) the minimum-controller venv for make test-compat: tests/compat/requirements-min.txt, then the
# test tools' collections (containers.podman: the podman connection; ansible.posix: the json callback) linked from
# the project venv, where the `ansible` package brought them. They are not collection requirements: a user of
# ansible-core 2.16 installs whichever connection plugins they use. Linked, not installed, to save the ~45 s and
# 600 MB of a second `ansible` package.
# Usage: setup-venv.sh MIN_VENV PROJECT_PYTHON
set -euo pipefail
VENV=$1
PROJECT_PYTHON=$2
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/tests/compat/requirements-min.txt"

purelib() { "$1" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'; }
FROM=$(purelib "$PROJECT_PYTHON")/ansible_collections
TO=$(purelib "$VENV/bin/python")/ansible_collections
for collection in containers/podman ansible/posix; do
    [[ -d $FROM/$collection ]] || { echo "setup-venv: $FROM/$collection missing (make venv first)" >&2; exit 1; }
    mkdir -p "$TO/${collection%/*}"
    ln -sfn "$FROM/$collection" "$TO/$collection"
done
