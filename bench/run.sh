#!/usr/bin/env bash
# `make bench`: the collection's rollout and audit against a hand-written baseline, on N SSH-reachable
# podman hosts (default 24, env BENCH_HOSTS) on an internal podman network, with one ansible.cfg
# (pipelining, gathering explicit, forks 24, ControlPersist). Not part of `make test`.
# Prints wall times, per-host cost, the ratios and the exact commands; figures and logs go to
# .build/bench/ (results.md, *.log). Removes its containers and network at the end, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
B=$ROOT/.build/bench
N=${BENCH_HOSTS:-24}
FORKS=${BENCH_FORKS:-24}
NET=vipmtls-bench
PREFIX=vipbench
IMAGE=localhost/vip-mtls-bench:bookworm
# The same batch shape for both: one batch. BENCH_SERIAL='[1,"25%","100%"]' measures the canary default.
SERIAL=${BENCH_SERIAL:-'["100%"]'}
PY=${PYTHON:-$ROOT/.venv/bin/python}
VBIN=$(dirname "$PY")
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$ROOT/.build/collections}
export ANSIBLE_CONFIG=$B/ansible.cfg
mkdir -p "$B"

containers() { podman ps -a --format '{{.Names}}' | grep -E "^$PREFIX-([0-9]+|profile|standin)\$" || true; }
cleanup() {
    local c
    for c in $(containers); do podman rm -f -t 0 "$c" >/dev/null 2>&1 || true; done
    if podman network exists "$NET"; then podman network rm -f "$NET" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
cleanup

echo "== image (mmdebstrap, once) and the stand-in's PKI"
bash bench/build-ssh-image.sh
[[ -e $B/standin/pki/done ]] || "$PY" tests/hosts/make_pki.py "$B/standin/pki"
ROOT_FP=$(openssl x509 -in "$B/standin/pki/root-ca.crt" -noout -fingerprint -sha256 | cut -d= -f2)

cat >"$B/ansible.cfg" <<CFG
[defaults]
gathering = explicit
forks = $FORKS
host_key_checking = False
interpreter_python = /usr/bin/python3
retry_files_enabled = False
remote_user = root
private_key_file = $B/id_ed25519
[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=300s -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR
CFG

podman network create --internal "$NET" >/dev/null
echo "== stand-in (nginx, client certificate required) on $NET"
podman run -d --quiet --name "$PREFIX-standin" --network "$NET" \
    -v "$B/standin/pki:/standin/pki:ro" -v "$ROOT/bench/nginx.conf:/standin/nginx.conf:ro" \
    "$IMAGE" nginx -c /standin/nginx.conf >/dev/null
ip_of() { podman inspect --format "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$1"; }
STANDIN_IP=$(ip_of "$PREFIX-standin")

# hosts_up PHASE: (re)create PREFIX-1..N and PREFIX-profile (fresh), wait for sshd, write the inventory.
hosts_up() {
    local i name names=() t0
    t0=$(date +%s.%N)
    for c in $(containers); do [[ $c == "$PREFIX-standin" ]] || podman rm -f -t 0 "$c" >/dev/null; done
    for ((i = 1; i <= N; i++)); do names+=("$PREFIX-$i"); done
    names+=("$PREFIX-profile")
    for name in "${names[@]}"; do
        podman run -d --quiet --init --name "$name" --hostname "$name" --network "$NET" \
            --add-host "vip-standin.test:$STANDIN_IP" "$IMAGE" >/dev/null
    done
    {
        echo "[fleet]"
        for ((i = 1; i <= N; i++)); do echo "$PREFIX-$i ansible_host=$(ip_of "$PREFIX-$i")"; done
        echo "[profile]"
        echo "$PREFIX-profile ansible_host=$(ip_of "$PREFIX-profile")"
    } >"$B/inventory.ini"
    for name in "${names[@]}"; do
        local ip
        ip=$(ip_of "$name")
        for ((i = 0; i < 100; i++)); do
            (exec 3<>"/dev/tcp/$ip/22") 2>/dev/null && break
            sleep 0.1
        done
    done
    # A fresh control-socket directory per set of hosts (a reused address must not meet an old master).
    export ANSIBLE_SSH_CONTROL_PATH_DIR=$B/cp-$1
    rm -rf "$ANSIBLE_SSH_CONTROL_PATH_DIR"
    printf '   %s hosts + 1 profile host up in %.1f s\n' "$N" "$(echo "$(date +%s.%N) - $t0" | bc)"
}

COMMON=(-i "$B/inventory.ini" -e @bench/vars.yml -e "bench_dir=$B" -e "bench_root_fp=$ROOT_FP"
        -e "bench_repo=$ROOT" -e "{\"vip_rollout_serial\": $SERIAL}")
declare -A T
COMMANDS=()
# timed KEY LOG CMD...: run, record wall seconds in T[KEY]; fail the bench on a failed playbook.
timed() {
    local key=$1 log=$2 t0 t1
    shift 2
    COMMANDS+=("$key: ANSIBLE_CONFIG=$ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH=$ANSIBLE_COLLECTIONS_PATH $(printf '%q ' "$@")")
    t0=$(date +%s.%N)
    if ! "$@" >"$B/$log" 2>&1; then
        echo "bench: $key failed, see $B/$log" >&2
        tail -n 30 "$B/$log" >&2
        exit 1
    fi
    t1=$(date +%s.%N)
    T[$key]=$(echo "$t1 - $t0" | bc)
    printf '   %-22s %7.2f s  (%5.3f s per host)   %s\n' "$key" "${T[$key]}" "$(echo "${T[$key]} / $N" | bc -l)" \
        "$(grep -E '^'"$PREFIX"'-1 +:' "$B/$log" | sed 's/  */ /g' || true)"
}
ROLLOUT=("$VBIN/ansible-playbook" vip.mtls.rollout "${COMMON[@]}")
AUDIT=("$VBIN/ansible-playbook" vip.mtls.audit "${COMMON[@]}")
BASELINE=("$VBIN/ansible-playbook" bench/baseline.yml "${COMMON[@]}")
PROFILE_ENV=(env ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks PROFILE_TASKS_SORT_ORDER=none PROFILE_TASKS_TASK_OUTPUT_LIMIT=all)

echo "== (a) collection: vip.mtls.rollout, and (c) vip.mtls.audit, on $N fresh hosts"
hosts_up a
timed rollout_first rollout-first.log "${ROLLOUT[@]}"
timed rollout_repeat rollout-repeat.log "${ROLLOUT[@]}"
timed audit audit.log "${AUDIT[@]}"
echo "== profile of one host (first and repeat run, -vvv for the remote calls)"
"${PROFILE_ENV[@]}" "${ROLLOUT[@]}" -e bench_hosts=profile -vvv >"$B/profile-rollout-first.log" 2>&1 || echo "   (profile run failed, see the log)"
"${PROFILE_ENV[@]}" "${ROLLOUT[@]}" -e bench_hosts=profile -vvv >"$B/profile-rollout-repeat.log" 2>&1 || echo "   (profile run failed, see the log)"

echo "== (b) baseline: bench/baseline.yml on $N fresh hosts"
hosts_up b
timed baseline_first baseline-first.log "${BASELINE[@]}"
timed baseline_repeat baseline-repeat.log "${BASELINE[@]}"
"${PROFILE_ENV[@]}" "${BASELINE[@]}" -e bench_hosts=profile -vvv >"$B/profile-baseline-first.log" 2>&1 || echo "   (profile run failed, see the log)"
"${PROFILE_ENV[@]}" "${BASELINE[@]}" -e bench_hosts=profile -vvv >"$B/profile-baseline-repeat.log" 2>&1 || echo "   (profile run failed, see the log)"

ratio() { echo "scale=2; ${T[$1]} / ${T[$2]}" | bc; }
{
    echo "# make bench, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, N=$N hosts, forks $FORKS, serial $SERIAL"
    echo
    echo "| run | wall s | s per host |"
    echo "|---|---|---|"
    for k in rollout_first rollout_repeat audit baseline_first baseline_repeat; do
        printf '| %s | %.2f | %.3f |\n' "$k" "${T[$k]}" "$(echo "${T[$k]} / $N" | bc -l)"
    done
    echo
    echo "ratio collection/baseline: first run $(ratio rollout_first baseline_first) (target <= 0.75),"\
         "repeat run $(ratio rollout_repeat baseline_repeat) (target <= 0.5)"
    echo
    echo "Commands:"
    for c in "${COMMANDS[@]}"; do echo "    $c"; done
    for p in rollout-first rollout-repeat baseline-first baseline-repeat; do
        echo
        echo "## $p, one host: remote calls per task (SSH sessions)"
        "$PY" bench/count_calls.py "$B/profile-$p.log" | sed 's/^/    /'
        echo "## $p, one host: profile_tasks"
        sed -n '/^=\{20,\}/,$p' "$B/profile-$p.log" | grep -E ' -+ +[0-9.]+s$' | sed 's/^/    /' || true
    done
} >"$B/results.md"
echo
cat "$B/results.md"
