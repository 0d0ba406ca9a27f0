"""Targets need only the standard library; mtls_check's optional client_pkcs12 uses the target's cryptography where
it has one. The oldest such library on a target claimed (Ubuntu 20.04's python3-cryptography 2.8, from PyPI
here: make test-compat puts it in VIP_MTLS_TARGET_CRYPTOGRAPHY) opens the stand-in's PKCS#12 and completes the
mutual-TLS check, in a Python that sees only that cryptography and the target-side module_utils."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from compat_support import it, standin  # noqa: F401 - standin is a fixture; pylint: disable=unused-import

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[1])
import cryptography
from ansible_collections.vip.mtls.plugins.module_utils.tls_probe import check
url, p12, passphrase, ca = sys.argv[2:6]
result = check(url, client_pkcs12=p12, client_pkcs12_passphrase=passphrase, ca_path=ca, address="127.0.0.1",
               timeout=10)
print(json.dumps({"cryptography": cryptography.__version__, "result": result}))
"""


def _check_with(overlay, standin, passphrase=None):
    pki = standin / "pki"
    passphrase = passphrase if passphrase is not None else (pki / "client.p12.pass").read_text()
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(it.BUILD / "collections"),
                           "https://vip-standin.test:%d/" % it.PORT, str(pki / "client.p12"), passphrase,
                           str(pki / "root-ca.crt")],
                          env=dict(os.environ, PYTHONPATH=overlay), capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_client_pkcs12_with_the_oldest_target_cryptography(standin):
    overlay = os.environ.get("VIP_MTLS_TARGET_CRYPTOGRAPHY")
    assert overlay and Path(overlay, "cryptography").is_dir(), "make test-compat installs it there"
    seen = _check_with(overlay, standin)
    assert seen["cryptography"] == "2.8"
    result = seen["result"]
    assert (result["ok"], result["reason"], result["http_status"]) == (True, "ok", 200), result

    wrong = _check_with(overlay, standin, passphrase="not-the-passphrase")
    assert (wrong["result"]["reason"], wrong["result"]["stage"]) == ("client_cert_invalid", "local")
    assert "wrong client_pkcs12_passphrase" in wrong["result"]["detail"]
