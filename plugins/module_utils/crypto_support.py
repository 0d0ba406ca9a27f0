# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's ``cryptography``: imported, and its version checked, in this one place (CONTROLLER only).

certs.py and outputs.py take every cryptography name from here, and every action plugin calls
``require_cryptography()`` before it does any work. So a controller whose cryptography is missing or older
than ``MINIMUM`` gets one clear failed task naming the installed and the required version and the fix,
instead of an import traceback or an AttributeError deep in a certificate check.

``MINIMUM`` is the version the unit tests and a real rollout run against (``make test-compat``); keep it in
step with requirements.txt. APIs newer than it are reached through the helpers below.
"""

from __future__ import annotations

import datetime
import re
import sys

from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError

MINIMUM = "41.0"

VERSION = None  # the installed cryptography's version string, None when it cannot be imported
_PROBLEM = None  # why the import failed, for the message


class _Unavailable(Exception):
    """Stands in for cryptography's exception classes when it is missing, so ``except`` clauses stay valid."""


# Re-exported for certs.py, outputs.py and tls code on the controller: the one place that imports cryptography.
__all__ = ["InvalidSignature", "UnsupportedAlgorithm", "ec", "hashes", "pkcs12", "serialization", "x509",
           "require_cryptography", "not_valid_after", "not_valid_before", "MINIMUM"]

try:
    import cryptography

    VERSION = getattr(cryptography, "__version__", "unknown")
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
except ImportError as exc:  # the names stay None; require_cryptography() reports it before any use
    _PROBLEM = "%s: %s" % (type(exc).__name__, exc)
    x509 = hashes = serialization = ec = pkcs12 = None
    InvalidSignature = UnsupportedAlgorithm = _Unavailable


def version_tuple(text):
    """(major, minor, patch) from a version string such as '41.0.7' or '42.0.0.dev1'; unknown parts are 0."""
    numbers = [int(part) for part in re.findall(r"\d+", (text or "").split("+")[0])[:3]]
    return tuple(numbers + [0] * (3 - len(numbers)))


def problem(version, import_problem=None, python=None):
    """The message for a controller with this cryptography ``version`` (None: not importable), or None when it is
    good enough."""
    python = python or sys.executable
    fix = ("Fix: %s -m pip install --upgrade 'cryptography>=%s' (the Python that runs ansible; the collection's "
           "requirements.txt lists every controller requirement)" % (python, MINIMUM))
    if version is None:
        return ("vip.mtls needs the Python package cryptography %s or later on the Ansible controller, and %s cannot "
                "import it (%s). %s" % (MINIMUM, python, import_problem or "not installed", fix))
    if version_tuple(version) < version_tuple(MINIMUM) or import_problem:
        return ("vip.mtls needs the Python package cryptography %s or later on the Ansible controller; %s has "
                "cryptography %s%s. %s" % (MINIMUM, python, version,
                                           " (%s)" % import_problem if import_problem else "", fix))
    return None


def require_cryptography():
    """Raise VipMtlsError naming installed and required versions and the fix, unless cryptography is usable."""
    message = problem(VERSION, _PROBLEM)
    if message:
        raise VipMtlsError(message)


def _utc(value):
    return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)


def not_valid_before(cert):
    """Start of validity, timezone-aware UTC: ``not_valid_before_utc`` came in cryptography 42; before it the
    naive attribute holds UTC."""
    if hasattr(cert, "not_valid_before_utc"):
        return cert.not_valid_before_utc
    return _utc(cert.not_valid_before)


def not_valid_after(cert):
    """End of validity, timezone-aware UTC (see not_valid_before)."""
    if hasattr(cert, "not_valid_after_utc"):
        return cert.not_valid_after_utc
    return _utc(cert.not_valid_after)
