"""Real test hosts for the integration suite: podman containers from the locally built Debian image,
and the nginx stand-in for the VIP endpoint on 127.0.0.1 (the hosts share the loopback network)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / ".build"
HOSTS = ROOT / "tests" / "hosts"
IMAGE = os.environ.get("VIP_MTLS_TEST_IMAGE", "localhost/vip-mtls-host:bookworm")
PORT = int(os.environ.get("VIP_MTLS_TEST_PORT", "9443"))
PREFIX = os.environ.get("VIP_MTLS_TEST_PREFIX", "vipmtls-it")
HOST_COUNT = 6
VENV_BIN = Path(sys.executable).parent
# The shape of every vip.mtls module result of this session's playbook runs, one JSON line each, written by
# callback_plugins/vip_mtls_results.py; test_docs.py compares them with the modules' RETURN documentation.
# Emptied when a session starts, kept after it for a look (one per port, like the stand-in).
RESULTS_LOG = BUILD / ("module-results-%d.jsonl" % PORT)


def run(cmd, check=True, **kwargs):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kwargs)


def podman_exec(host, *cmd, check=True):
    return run(["podman", "exec", host, *cmd], check=check)


def ansible_env():
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(BUILD / "collections"),
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_GATHERING="explicit",
        ANSIBLE_INTERPRETER_PYTHON="/usr/bin/python3",
        ANSIBLE_RETRY_FILES_ENABLED="False",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_CALLBACK_PLUGINS=str(Path(__file__).resolve().parent / "callback_plugins"),
        ANSIBLE_CALLBACKS_ENABLED="vip_mtls_results",
        VIP_MTLS_RESULTS_LOG=str(RESULTS_LOG),
    )
    return env


def pytest_configure(config):
    config.addinivalue_line("markers", "after_all: runs after every other test of the session (see below)")
    BUILD.mkdir(exist_ok=True)
    RESULTS_LOG.unlink(missing_ok=True)


def pytest_collection_modifyitems(items):
    """Tests marked after_all (test_docs.py's comparison of every recorded module result with RETURN) go last,
    when every other test has run its playbooks."""
    items.sort(key=lambda item: item.get_closest_marker("after_all") is not None)


class PlaybookRun:
    """One ansible-playbook run with the json callback: rc, stats and per-task host results."""

    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        try:
            self.data = json.loads(proc.stdout[proc.stdout.index("{"):])
        except ValueError:
            raise AssertionError("ansible-playbook printed no JSON:\n%s\n%s" % (proc.stdout, proc.stderr))

    def stats(self, host):
        return self.data["stats"][host]

    def results(self, host, task_name=None):
        """Results for host of the task named task_name (without its role prefix), or of every
        task when None; loop items flattened."""
        found = []
        for play in self.data["plays"]:
            for task in play["tasks"]:
                name = task["task"]["name"].split(" : ", 1)[-1]
                if task_name in (None, name) and host in task["hosts"]:
                    res = task["hosts"][host]
                    found.extend(res.get("results", [res]))
        return found

    def module_calls(self, host):
        """Actions of the collection that ran on host (skipped tasks left out), one per task, in order."""
        calls = []
        for play in self.data["plays"]:
            for task in play["tasks"]:
                res = task["hosts"].get(host)
                if res and not res.get("skipped") and str(res.get("action", "")).startswith("vip.mtls."):
                    calls.append(res["action"])
        return calls

    def __repr__(self):
        return "PlaybookRun(rc=%s)\nSTDOUT:\n%s\nSTDERR:\n%s" % (self.rc, self.stdout[-6000:], self.stderr[-3000:])


def ansible_playbook(playbook, inventory, *args):
    proc = run([str(VENV_BIN / "ansible-playbook"), playbook, "-i", str(inventory), *args],
               check=False, env=ansible_env(), cwd=str(ROOT))
    return PlaybookRun(proc)


@pytest.fixture(scope="session")
def standin():
    """The stand-in VIP endpoint; its test PKI is in standin/pki. A stand-in that another test run
    already started is used and left running for it."""
    directory = BUILD / ("test-standin-%d" % PORT)  # one per port: two runs can use two ports
    script = str(HOSTS / "standin.sh")
    already_running = run(["bash", script, "status", str(directory)], check=False).returncode == 0
    run(["bash", script, "start", str(directory), str(PORT)], env=dict(os.environ, PYTHON=sys.executable))
    yield directory
    if not already_running:
        run(["bash", script, "stop", str(directory)], check=False)


def host_group(prefix, count, image, tmp_path_factory, app_user="vipapp"):
    """Generator for a fixture: fresh hosts PREFIX-1..COUNT (with the application user), removed after."""
    hosts_sh = str(HOSTS / "hosts.sh")
    if run(["podman", "image", "exists", image], check=False).returncode != 0:
        suite, _dash, variant = image.rsplit(":", 1)[1].partition("-")
        run(["bash", str(HOSTS / "build-image.sh"), suite] + ([variant] if variant else []))
    run(["bash", hosts_sh, "down", prefix], check=False)
    run(["bash", hosts_sh, "up", prefix, str(count), image])
    inventory = tmp_path_factory.mktemp("inventory-%s" % prefix) / "hosts.ini"
    run(["bash", hosts_sh, "inventory", prefix, str(inventory)])
    names = ["%s-%d" % (prefix, i) for i in range(1, count + 1)]
    if app_user:
        for name in names:
            podman_exec(name, "sh", "-c", "id %s >/dev/null 2>&1 || useradd %s" % (app_user, app_user))
    try:
        yield {"inventory": inventory, "hosts": names}
    finally:
        run(["bash", hosts_sh, "down", prefix], check=False)


@pytest.fixture(scope="session")
def fleet(tmp_path_factory):
    """HOST_COUNT fresh test hosts; each test takes its own, so none depends on another's state."""
    yield from host_group(PREFIX, HOST_COUNT, IMAGE, tmp_path_factory)


def sha256_colon(der):
    """SHA-256 of DER bytes as the collection reports it: colon-separated upper-case hex."""
    return ":".join("%02X" % b for b in hashlib.sha256(der).digest())


def pem_fingerprints(text):
    """Fingerprints of every PEM certificate block in text, in order, duplicates kept. Computed from the raw
    DER, not parsed: some distribution roots have serials cryptography warns about."""
    return [sha256_colon(base64.b64decode("".join(body.split())))
            for body in re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", text, re.DOTALL)]


def pem_file_fingerprint(path):
    """Fingerprint of the first PEM certificate in a file on the controller."""
    return pem_fingerprints(path.read_text())[0]


def host_bundle_fingerprints(host, path="/etc/ssl/certs/ca-certificates.crt"):
    """The set of certificate fingerprints in a PEM bundle on a test host (the extracted system bundle)."""
    return set(pem_fingerprints(podman_exec(host, "cat", path).stdout))


def write_rollout_vars(standin_dir, path, group="vipapp"):
    """The variables a team would put in group_vars, for the stand-in: its root ADDED to the DigiCert
    anchors, its client PKCS#12 with the passphrase, the key readable by the application's group
    (group=None leaves owner and group to the role's defaults, so host_vars can still set them)."""
    pki = standin_dir / "pki"
    lines = [
        "vip_trust_extra_anchors:",
        "  - name: vip-test-root",
        "    src: %s" % (pki / "root-ca.crt"),
        "    fingerprint_sha256: '%s'" % pem_file_fingerprint(pki / "root-ca.crt"),
        "vip_client_cert_src: %s" % (pki / "client.p12"),
        "vip_client_cert_passphrase: '%s'" % (pki / "client.p12.pass").read_text(),
        "vip_client_cert_key_mode: '0640'",
        "vip_verify_urls: ['https://vip-standin.test:%d/']" % PORT,
    ]
    if group:
        lines += ["vip_client_cert_owner: root", "vip_client_cert_group: %s" % group]
    path.write_text("\n".join(lines) + "\n")
    return path


def snapshot(host, *paths):
    """sha256, mode and owner of every file below paths: 'byte for byte as it was'."""
    script = ("for p in %s; do [ -e \"$p\" ] && find \"$p\" -xdev \\( -type f -o -type l -o -type d \\) "
              "-printf '%%p %%m %%u %%g %%y\\n'; done; "
              "for p in %s; do [ -e \"$p\" ] && find \"$p\" -xdev -type f -exec sha256sum {} +; done; true"
              % (" ".join(paths), " ".join(paths)))
    return sorted(podman_exec(host, "sh", "-c", script).stdout.splitlines())
