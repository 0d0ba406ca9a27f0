# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Without the cryptography package the collection still imports (ansible-doc, ansible-test's import test),
and the action plugins fail with a message that names the fix instead of an ImportError traceback."""

from __future__ import annotations

import json
import subprocess
import sys

from ansible_collections.vip.mtls.plugins.module_utils import certs

# Run in a fresh interpreter in which `import cryptography` fails, as on a controller without it.
_WITHOUT_CRYPTOGRAPHY = r"""
import json, sys
sys.path[:0] = %r
sys.modules["cryptography"] = None  # makes every `import cryptography...` raise ImportError
from ansible_collections.vip.mtls.plugins.module_utils import certs, outputs
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.action import client_cert, trust_anchor
try:
    certs.require_cryptography()
except VipMtlsError as exc:
    print(json.dumps({"has": certs.HAS_CRYPTOGRAPHY, "msg": exc.msg, "details": exc.details}))
else:
    print(json.dumps({"has": certs.HAS_CRYPTOGRAPHY, "msg": None}))
"""


def test_missing_cryptography_is_a_clear_failure():
    proc = subprocess.run([sys.executable, "-c", _WITHOUT_CRYPTOGRAPHY % (sys.path,)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found["has"] is False
    assert "need the Python package cryptography on the controller" in found["msg"]
    assert sys.executable in found["msg"]  # which Python to install it into
    assert "from cryptography import x509" in found["details"]["exception"]  # the traceback, for -vvv


def test_present_cryptography_passes():
    assert certs.HAS_CRYPTOGRAPHY is True
    assert certs.require_cryptography() is None
