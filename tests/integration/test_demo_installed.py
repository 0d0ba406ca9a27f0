"""The demo passes with the collection built by ansible-galaxy and installed from its tarball into a new venv,
with this checkout off the collections path (demo/installed.sh, also `make demo-installed`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT, run

sys.path.insert(0, str(ROOT / "demo"))
import which_collection  # noqa: E402  (demo/ is not a package)


def test_demo_from_the_installed_tarball():
    env = dict(os.environ)
    env.setdefault("VIP_DEMO_HOSTS", "1")
    env.pop("VIP_DEMO_KEEP", None)
    proc = subprocess.run(["bash", str(ROOT / "demo" / "installed.sh")], capture_output=True, text=True, env=env, check=False,
                          cwd=str(ROOT), timeout=1200)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-8000:]
    assert "site-packages/ansible_collections/vip/mtls (installed from the tarball); this checkout is not on the " \
           "collections path" in out, out[-4000:]
    assert "DEMO OK:" in out and "DEMO-INSTALLED OK:" in out, out[-4000:]
    # The run's own recap: every host ok, nothing changed the second time.
    recaps = [line for line in out.splitlines() if " : ok=" in line]
    assert len(recaps) == 2 * int(env["VIP_DEMO_HOSTS"]), recaps
    assert all("changed=0" in line and "failed=0" in line for line in recaps[-int(env["VIP_DEMO_HOSTS"]):]), recaps
    assert not (ROOT / ".build" / "demo-installed").exists(), "the script left its venv and hosts behind"
    print(out.strip().splitlines()[-1])  # the timing line, for pytest -s


def test_proof_refuses_the_checkout_on_the_collections_path(tmp_path):
    """The check demo/installed.sh relies on fails when Ansible would find the checkout (the dev link)."""
    linked = ROOT / ".build" / "collections"
    installed = tmp_path / "site" / "ansible_collections" / "vip" / "mtls"
    installed.mkdir(parents=True)
    (installed / "MANIFEST.json").write_text("{}")

    def check(listing):
        path = tmp_path / "listing.json"
        path.write_text(json.dumps(listing))
        return run([sys.executable, str(ROOT / "demo" / "which_collection.py"), str(path), str(installed),
                    str(ROOT)], check=False)

    good = {str(installed.parents[1]): {"vip.mtls": {"version": "0.1.0"}, "containers.podman": {"version": "1"}}}
    assert check(good).returncode == 0
    both = dict(good, **{str(linked / "ansible_collections"): {"vip.mtls": {"version": "0.1.0"}}})
    result = check(both)
    assert result.returncode == 1 and "exactly once" in result.stderr, result.stderr
    only_checkout = {str(linked / "ansible_collections"): {"vip.mtls": {"version": "0.1.0"}}}
    assert check(only_checkout).returncode == 1
    _found, wrong = which_collection.problems(good, str(linked / "ansible_collections" / "vip" / "mtls"), str(ROOT))
    assert any("link to) the checkout" in w for w in wrong), wrong
    (installed / "MANIFEST.json").unlink()
    assert "no MANIFEST.json" in check(good).stderr
