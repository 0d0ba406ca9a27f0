# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's minimum cryptography: declared and checked in one place (crypto_support), with a message
that names the installed and required versions and the fix; and the helpers for APIs newer than the minimum.

tests/compat/ runs these (and every other unit test) against the minimum itself, and shows the message on a
real ansible-playbook run with an older cryptography."""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import pki
from ansible_collections.vip.mtls.plugins.module_utils import crypto_support
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError

ROOT = Path(__file__).resolve().parents[2]


def test_minimum_is_the_floor_in_requirements_txt():
    floors = re.findall(r"^cryptography\s*>=\s*([0-9.]+)\s*$", (ROOT / "requirements.txt").read_text(), re.M)
    assert floors == [crypto_support.MINIMUM]


def test_the_minimum_is_what_the_compat_venv_installs():
    pins = re.findall(r"^cryptography==([0-9.]+)\s*$", (ROOT / "tests/compat/requirements-min.txt").read_text(), re.M)
    assert [crypto_support.version_tuple(p) for p in pins] == [crypto_support.version_tuple(crypto_support.MINIMUM)]


@pytest.mark.parametrize("text, expected", [
    ("41.0.0", (41, 0, 0)),
    ("41.0.7", (41, 0, 7)),
    ("42.0.0.dev1", (42, 0, 0)),
    ("3.4.8", (3, 4, 8)),
    ("41.0", (41, 0, 0)),
    ("46.0.1+local.build", (46, 0, 1)),
    ("", (0, 0, 0)),
])
def test_version_tuple(text, expected):
    assert crypto_support.version_tuple(text) == expected


@pytest.mark.parametrize("version", ["41.0.0", "41.0.7", "42.0.8", "50.0.2", "100.0.0"])
def test_new_enough_passes(version):
    assert crypto_support.problem(version) is None


@pytest.mark.parametrize("version", ["40.0.2", "3.4.8", "38.0.4", "36.0.1"])
def test_too_old_names_both_versions_the_python_and_the_fix(version):
    msg = crypto_support.problem(version, python="/opt/ansible/bin/python3")
    assert "cryptography %s" % version in msg
    assert "cryptography %s or later" % crypto_support.MINIMUM in msg
    assert "on the Ansible controller" in msg
    assert "/opt/ansible/bin/python3 -m pip install --upgrade 'cryptography>=%s'" % crypto_support.MINIMUM in msg


def test_missing_names_the_python_the_import_error_and_the_fix():
    msg = crypto_support.problem(None, "ModuleNotFoundError: No module named 'cryptography'", python="/usr/bin/python3")
    assert "/usr/bin/python3 cannot import it (ModuleNotFoundError: No module named 'cryptography')" in msg
    assert "cryptography %s or later" % crypto_support.MINIMUM in msg
    assert "pip install --upgrade 'cryptography>=%s'" % crypto_support.MINIMUM in msg


def test_present_but_a_part_does_not_import():
    msg = crypto_support.problem("2.1.4", "ImportError: cannot import name 'pkcs12'")
    assert "has cryptography 2.1.4 (ImportError: cannot import name 'pkcs12')" in msg


def test_require_raises_the_collections_own_error(monkeypatch):
    monkeypatch.setattr(crypto_support, "VERSION", "40.0.2")
    with pytest.raises(VipMtlsError, match=r"cryptography 40\.0\.2\. Fix: "):
        crypto_support.require_cryptography()
    monkeypatch.setattr(crypto_support, "VERSION", None)
    monkeypatch.setattr(crypto_support, "_PROBLEM", "ModuleNotFoundError: No module named 'cryptography'")
    with pytest.raises(VipMtlsError, match="cannot import it"):
        crypto_support.require_cryptography()


def test_this_controller_passes():
    """Whatever venv runs the suite (the newest, or tests/compat's minimum) is good enough."""
    assert crypto_support.VERSION is not None
    crypto_support.require_cryptography()


class _OldCertificate:
    """What cryptography < 42 offers: only the naive attributes, holding UTC."""

    def __init__(self, cert):
        self.not_valid_before = cert.not_valid_before_utc.replace(tzinfo=None) \
            if hasattr(cert, "not_valid_before_utc") else cert.not_valid_before
        self.not_valid_after = cert.not_valid_after_utc.replace(tzinfo=None) \
            if hasattr(cert, "not_valid_after_utc") else cert.not_valid_after


def test_validity_is_aware_utc_on_this_cryptography_and_on_one_before_42():
    before = datetime.datetime(2024, 2, 29, 12, 30, tzinfo=datetime.timezone.utc)
    after = datetime.datetime(2031, 11, 10, 0, 0, tzinfo=datetime.timezone.utc)
    cert = pki.make_cert("validity", not_before=before, not_after=after)[0]
    for subject in (cert, _OldCertificate(cert)):
        assert crypto_support.not_valid_before(subject) == before
        assert crypto_support.not_valid_after(subject) == after
        assert crypto_support.not_valid_after(subject).utcoffset() == datetime.timedelta(0)


def test_without_cryptography_the_controller_code_still_imports_and_says_why(tmp_path):
    """A controller Python with no cryptography at all: certs and outputs (what the action plugins import) load,
    and the one check names the problem, instead of an ImportError while Ansible loads the action plugin."""
    script = (
        "import sys\n"
        "sys.modules['cryptography'] = None  # import cryptography now raises ImportError\n"
        "sys.path.insert(0, %r)\n"
        "from ansible_collections.vip.mtls.plugins.module_utils import certs, outputs, crypto_support\n"
        "from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError\n"
        "assert crypto_support.VERSION is None and crypto_support.x509 is None\n"
        "try:\n"
        "    crypto_support.require_cryptography()\n"
        "except VipMtlsError as exc:\n"
        "    print(exc.msg)\n"
    ) % os.path.abspath(os.path.join(os.path.dirname(crypto_support.__file__), *[".."] * 5))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "%s cannot import it (ModuleNotFoundError: import of cryptography halted" % sys.executable in proc.stdout
    assert "pip install --upgrade 'cryptography>=%s'" % crypto_support.MINIMUM in proc.stdout
