# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Standard-library PEM helpers, usable on targets that have no cryptography package."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError

PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def colon_hex(digest):
    return ":".join("%02X" % b for b in bytearray(digest))


def normalise_fingerprint(value):
    """Pins may be written with or without colons, in any case; compare them as 64 lower hex."""
    compact = re.sub(r"[\s:]", "", str(value)).lower()
    if not _HEX64.match(compact):
        raise VipMtlsError(
            "fingerprint_sha256 value %r is not a SHA-256 fingerprint: expected 64 hex digits, "
            "colons optional (openssl x509 -noout -fingerprint -sha256 -in FILE prints it)" % (value,)
        )
    return compact


def der_fingerprint(der):
    return colon_hex(hashlib.sha256(der).digest())


def pem_blocks(text, labels):
    """DER bytes of every PEM block whose label is in ``labels``; damaged blocks are skipped."""
    if isinstance(text, bytes):
        text = text.decode("ascii", errors="replace")
    found = []
    for label, body in PEM_BLOCK.findall(text):
        if label not in labels:
            continue
        try:
            found.append(base64.b64decode("".join(body.split()), validate=True))
        except (binascii.Error, ValueError):
            continue
    return found


def certificate_ders(text):
    return pem_blocks(text, ("CERTIFICATE",))


def der_to_pem(der, label="CERTIFICATE"):
    b64 = base64.b64encode(der).decode("ascii")
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, "\n".join(lines), label)
