#!/usr/bin/env bash
# Run molecule scenarios (extensions/molecule/<scenario>) on one or more Debian suites, one `molecule test` each,
# and print how long each took. Called by `make molecule` and `make molecule-full`, which have set up the venv,
# the collection link and the test images first.
#
# Usage: run.sh "SUITE..." [SCENARIO...]     (default scenarios: every directory with a molecule.yml)
#   VIP_MOLECULE_PORT   first of the four stand-in ports on 127.0.0.1 (default 18600)
# Each run keeps its ephemeral files in .build/molecule/run-SCENARIO-SUITE and its log beside them.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
(($# >= 1)) || { echo "usage: $0 \"SUITE...\" [SCENARIO...]" >&2; exit 2; }
read -r -a SUITES <<<"$1"
shift
if (($#)); then
    SCENARIOS=("$@")
else
    SCENARIOS=()
    for f in extensions/molecule/*/molecule.yml; do SCENARIOS+=("$(basename "$(dirname "$f")")"); done
fi
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$ROOT/.build/collections}
export VIP_MOLECULE_PORT=${VIP_MOLECULE_PORT:-18600}
# molecule's own log: no colours in files, and no `--report` noise
export PY_COLORS=0 ANSIBLE_NOCOLOR=1 NO_COLOR=1

summary=()
failed=0
for suite in "${SUITES[@]}"; do
    for scenario in "${SCENARIOS[@]}"; do
        run=$ROOT/.build/molecule/run-$scenario-$suite
        mkdir -p "$run"
        start=$SECONDS
        echo "== molecule test -s $scenario on $suite (log: $run.log)"
        if VIP_MOLECULE_SUITE=$suite MOLECULE_EPHEMERAL_DIRECTORY=$run \
            molecule test -s "$scenario" >"$run.log" 2>&1; then
            result=passed
        else
            result=FAILED
            failed=1
            # the end of the log tells which step and why
            grep -v "^WARNING: Location" "$run.log" | tail -n 60 >&2
        fi
        summary+=("$(printf '%-16s %-9s %-6s %4ds' "$scenario" "$suite" "$result" $((SECONDS - start)))")
    done
done
echo "== molecule summary"
printf '%s\n' "${summary[@]}"
exit $failed
