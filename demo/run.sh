#!/usr/bin/env bash
# The built-in demo: three local test hosts (podman, Debian bookworm), a local stand-in for the VIP
# endpoint (nginx demanding client certificates), a vault-encrypted PKCS#12, and the real rollout
# playbook run twice. Called by `make demo`, which has set up the machine, venv and image first, and by
# demo/installed.sh (`make demo-installed`) with the collection installed from its tarball.
# Environment: VIP_DEMO_PREFIX (host names), VIP_DEMO_PORT (stand-in ports PORT..PORT+3), VIP_DEMO_HOSTS
# (how many hosts, default 3), VIP_DEMO_DIR (work directory, default .build/demo), PYTHON (whose bin/ has
# ansible-playbook), ANSIBLE_COLLECTIONS_PATH (default: this checkout, through .build/collections).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEMO=${VIP_DEMO_DIR:-$ROOT/.build/demo}
PORT=${VIP_DEMO_PORT:-8443}
PREFIX=${VIP_DEMO_PREFIX:-vipdemo}
COUNT=${VIP_DEMO_HOSTS:-3}
[[ $COUNT =~ ^[1-9][0-9]*$ ]] || { echo "VIP_DEMO_HOSTS must be a positive number" >&2; exit 2; }
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$ROOT/.build/collections}
export ANSIBLE_CONFIG=$ROOT/demo/ansible.cfg
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
VENV_BIN=$(dirname "$PYTHON")

mkdir -p "$DEMO/files"
echo "== stand-in VIP endpoint on 127.0.0.1:$PORT (nginx, client certificate required)"
PYTHON=$PYTHON bash tests/hosts/standin.sh start "$DEMO/standin" "$PORT"
PKI=$DEMO/standin/pki

echo "== $COUNT test hosts"
bash tests/hosts/hosts.sh up "$PREFIX" "$COUNT"
bash tests/hosts/hosts.sh inventory "$PREFIX" "$DEMO/inventory.ini"
for ((i = 1; i <= COUNT; i++)); do
  # The application account that will read the key (group read, mode 0640).
  podman exec "$PREFIX-$i" sh -c 'id vipapp >/dev/null 2>&1 || useradd --system --no-create-home vipapp'
done

echo "== vault: the PKCS#12 and its passphrase, encrypted as a real team would keep them"
if [ ! -s "$DEMO/vault-pass" ]; then
  "$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(24))' > "$DEMO/vault-pass"
  chmod 0600 "$DEMO/vault-pass"
fi
if [ ! -s "$DEMO/files/vip_certificate.p12" ]; then
  cp "$PKI/client.p12" "$DEMO/files/vip_certificate.p12"
  "$VENV_BIN/ansible-vault" encrypt --vault-password-file "$DEMO/vault-pass" "$DEMO/files/vip_certificate.p12" >/dev/null
  printf 'vault_vip_p12_passphrase: "%s"\n' "$(cat "$PKI/client.p12.pass")" > "$DEMO/vault.yml"
  "$VENV_BIN/ansible-vault" encrypt --vault-password-file "$DEMO/vault-pass" "$DEMO/vault.yml" >/dev/null
fi
DEMO_ROOT_FP=$(openssl x509 -in "$PKI/root-ca.crt" -noout -fingerprint -sha256 | cut -d= -f2)

run_rollout() {
  "$VENV_BIN/ansible-playbook" vip.mtls.rollout -i "$DEMO/inventory.ini" \
    --vault-password-file "$DEMO/vault-pass" -e @"$DEMO/vault.yml" -e @demo/vars.yml \
    -e vip_demo_dir="$DEMO" -e vip_demo_root_fingerprint="$DEMO_ROOT_FP" -e vip_demo_port="$PORT"
}

echo "== rollout, first run"
run_rollout | tee "$DEMO/run1.log"
echo "== rollout, second run (must change nothing)"
run_rollout | tee "$DEMO/run2.log"
recap=$(grep -E "^$PREFIX-[0-9]+ +:" "$DEMO/run2.log" || true)
if [ "$(grep -c 'changed=0 .*failed=0' <<<"$recap")" != "$COUNT" ]; then
  echo "DEMO FAILED: the second run changed something or failed:" >&2
  echo "$recap" >&2
  exit 1
fi

echo
echo "== per host, read back independently of the collection (podman exec, curl on the host)"
fail=0
for ((i = 1; i <= COUNT; i++)); do
  h=$PREFIX-$i
  anchors=$(podman exec "$h" sh -c 'ls /usr/local/share/ca-certificates | tr "\n" " "')
  key=$(podman exec "$h" stat -c '%n owner=%U group=%G mode=%a' /etc/vip-mtls/client.key)
  code=$(podman exec "$h" curl -sS -o /dev/null -w '%{http_code}' --cert /etc/vip-mtls/client.crt \
         --key /etc/vip-mtls/client.key "https://vip-standin.test:$PORT/" || true)
  line=$(grep -o "\"$h: trust.*" "$DEMO/run2.log" | tail -1 | sed 's/"$//')
  echo "$h"
  echo "  anchors: $anchors"
  echo "  key:     $key"
  echo "  rollout: ${line#*mtls }  (ok = handshake done, client certificate accepted; the SOAP path answers GET with 405)"
  echo "  curl with the deployed files, system trust store: HTTP $code"
  [ "$code" = 200 ] || fail=1
done
if [ $fail = 0 ]; then
  echo "DEMO OK: every host completed a mutual-TLS handshake with the stand-in (make demo-clean removes it all)"
else
  echo "DEMO FAILED: a host could not complete the handshake" >&2
  exit 1
fi
