"""The oldest controller stack declared (tests/compat/requirements-min.txt), run by make test-compat from
.build/compat/venv-min (which also runs the unit tests and tests/integration/test_rollout.py on Debian bullseye
hosts): the audit on a bullseye host, and the message a controller with an older cryptography gets.

The podman connection and the json callback (test tools, not collection requirements) are linked into that venv
from the project venv by tests/compat/setup-venv.sh."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest
import yaml

from compat_support import OLDEST_IMAGE, PREFIX, it, standin  # noqa: F401 - standin is a fixture; pylint: disable=unused-import
# (after compat_support, which makes the working tree importable as the collection)
from ansible_collections.vip.mtls.plugins.module_utils.crypto_support import MINIMUM, version_tuple

ROOT = Path(__file__).resolve().parents[2]


def _declared_minimum():
    pins = dict(re.findall(r"^([a-z-]+)==(\S+)\s*$", (ROOT / "tests/compat/requirements-min.txt").read_text(), re.M))
    return pins["ansible-core"], pins["cryptography"]


def playbook(*args, **extra_env):
    proc = it.run([str(it.VENV_BIN / "ansible-playbook"), *args], check=False, env=dict(it.ansible_env(), **extra_env),
                  cwd=str(ROOT))
    return it.PlaybookRun(proc)


def test_this_venv_is_the_declared_minimum():
    """Everything below is meaningful only on exactly the minimum: ansible-core = requires_ansible's floor (checked
    against meta/runtime.yml by the unit tests), cryptography = crypto_support.MINIMUM."""
    import cryptography
    from ansible.release import __version__ as ansible_core
    core, crypto = _declared_minimum()
    assert (ansible_core, cryptography.__version__) == (core, crypto)
    assert version_tuple(crypto) == version_tuple(MINIMUM)
    floor = yaml.safe_load((ROOT / "meta/runtime.yml").read_text())["requires_ansible"]
    assert floor == ">=%s" % core
    version = it.run([str(it.VENV_BIN / "ansible-playbook"), "--version"], env=it.ansible_env()).stdout
    assert "[core %s]" % core in version and sys.executable.rsplit("/bin/", 1)[0] in version


@pytest.fixture(scope="module")
def oldest(tmp_path_factory):
    yield from it.host_group(PREFIX + "-min", 1, OLDEST_IMAGE, tmp_path_factory)


def test_audit_with_the_oldest_controller(oldest, standin, tmp_path):
    """The audit's report templating (before 2.19 the templar turns JSON text into data itself); the rollout runs
    with this venv in tests/integration/test_rollout.py. A host not rolled out yet: failing, with its reasons."""
    host = oldest["hosts"][0]
    rollout_vars = it.write_rollout_vars(standin, tmp_path / "vars.yml")
    report = tmp_path / "audit"
    audit = playbook("vip.mtls.audit", "-i", str(oldest["inventory"]), "-e", "@%s" % rollout_vars,
                     "-e", "vip_audit_report_dir=%s" % report)
    assert audit.rc == 0, audit
    data = json.loads((report / "audit.json").read_text())
    # Numbers stay numbers in the JSON (before 2.19 a template made of one number renders as text).
    assert data["counts"] == {"hosts": 1, "ok": 0, "expiring": 0, "failing": 1, "unreachable": 0,
                              "g2_present": 1, "g1_present": 1}, data["counts"]
    assert data["warn_days"] == 30
    row = data["hosts"][0]
    assert row["host"] == host and row["status"] == "failing"
    assert row["roots"] == {"digicert-global-root-g2": True, "digicert-global-root-ca": True,
                            "vip-test-root": False}, row["roots"]
    assert any(r.startswith("no client certificate at /etc/vip-mtls/client.crt") for r in row["reasons"]), row
    assert row["python"].startswith("3.9"), row["python"]
    assert '<tr class="failing">' in (report / "audit.html").read_text()


def _validate_play(tmp_path, standin):
    """trust_anchor and client_cert with validate_only on the controller: all the cryptography, no host needed."""
    pki = standin / "pki"
    play = [{
        "name": "Validate on the controller", "hosts": "localhost", "gather_facts": False,
        "tasks": [
            {"name": "anchor", "ignore_errors": True, "vip.mtls.trust_anchor": {
                "name": "digicert-global-root-g2", "validate_only": True,
                "src": str(ROOT / "roles/vip_trust/files/digicert-global-root-g2.crt")}},
            {"name": "client", "ignore_errors": True, "vip.mtls.client_cert": {
                "src": str(pki / "client.p12"), "passphrase": (pki / "client.p12.pass").read_text(),
                "validate_only": True}},
        ]}]
    path = tmp_path / "validate.yml"
    path.write_text(yaml.safe_dump(play))
    inventory = tmp_path / "localhost.ini"
    inventory.write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    return str(path), str(inventory)


def test_an_older_cryptography_gets_one_clear_message(standin, tmp_path):
    old = os.environ.get("VIP_MTLS_OLD_CRYPTOGRAPHY")
    assert old and Path(old, "cryptography").is_dir(), "make test-compat installs an older cryptography there"
    version = it.run([sys.executable, "-c", "import cryptography; print(cryptography.__version__)"],
                     env=dict(os.environ, PYTHONPATH=old)).stdout.strip()
    assert version and version_tuple(version) < version_tuple(MINIMUM)

    play, inventory = _validate_play(tmp_path, standin)
    good = playbook(play, "-i", inventory)
    assert good.rc == 0, good
    assert [r.get("validated") for r in good.results("localhost")] == [True, True], good

    bad = playbook(play, "-i", inventory, PYTHONPATH=old)
    results = bad.results("localhost")
    assert [r.get("failed") for r in results] == [True, True], bad
    for result in results:
        msg = result["msg"]
        assert "cryptography %s or later on the Ansible controller" % MINIMUM in msg, msg
        assert "has cryptography %s." % version in msg, msg
        # ansible-playbook's own Python (its shebang's), so the fix lands where ansible runs
        assert re.search(r"Fix: %s/python[0-9.]* -m pip install --upgrade 'cryptography>=%s'"
                         % (re.escape(str(it.VENV_BIN)), re.escape(MINIMUM)), msg), msg
        assert "Traceback" not in json.dumps(result)
