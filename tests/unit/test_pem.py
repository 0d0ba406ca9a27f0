# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/pem.py (standard library, target side)."""

from __future__ import annotations

import hashlib

import pytest

import pki
from ansible_collections.vip.mtls.plugins.module_utils import certs, pem
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError


@pytest.fixture(scope="module")
def chain():
    return pki.Chain()


class TestNormaliseFingerprint:

    def test_forms_give_64_lower_hex(self):
        digest = hashlib.sha256(b"x").hexdigest()
        colon_upper = ":".join(digest[i:i + 2] for i in range(0, 64, 2)).upper()
        for value in (digest, digest.upper(), colon_upper, colon_upper.lower(), "  %s\n" % colon_upper):
            assert pem.normalise_fingerprint(value) == digest

    def test_digicert_pin(self):
        assert pem.normalise_fingerprint(pki.DIGICERT_G2_SHA256) == \
            "cb3ccbb76031e5e0138f8dd39a23f9de47ffc35e43c1144cea27d46a5ab1cb5f"

    @pytest.mark.parametrize("value", ["", "abcd", "g" * 64, "a" * 63, "a" * 65,
                                       hashlib.sha1(b"x").hexdigest(), None, 12345])
    def test_malformed(self, value):
        with pytest.raises(VipMtlsError) as info:
            pem.normalise_fingerprint(value)
        assert "64 hex" in info.value.msg
        assert repr(value) in info.value.msg


class TestFingerprints:

    def test_colon_hex(self):
        assert pem.colon_hex(b"\x00\xab\x0f") == "00:AB:0F"

    def test_der_fingerprint_equals_certs_fingerprint(self, chain):
        for cert in (chain.root, chain.inter, chain.leaf):
            assert pem.der_fingerprint(pki.der(cert)) == certs.fingerprint(cert)

    def test_der_fingerprint_digicert(self):
        cert, = certs.load_certificates(pki.read(pki.DIGICERT_G2), "g2")
        assert pem.der_fingerprint(pki.der(cert)) == pki.DIGICERT_G2_SHA256


class TestPemBlocks:

    def test_returns_ders_in_order_for_wanted_labels(self, chain):
        text = pki.pem(chain.root) + pki.key_pem(chain.leaf_key) + pki.pem(chain.leaf)
        assert pem.pem_blocks(text, ("CERTIFICATE",)) == [pki.der(chain.root), pki.der(chain.leaf)]
        keys = pem.pem_blocks(text.decode("ascii"), ("PRIVATE KEY",))
        assert len(keys) == 1 and keys[0][0] == 0x30

    def test_skips_damaged_blocks(self, chain):
        damaged = pki.pem(chain.inter).replace(b"\n", b"\n%%%%", 2)
        text = pki.pem(chain.root) + damaged + pki.pem(chain.leaf)
        assert pem.pem_blocks(text, ("CERTIFICATE",)) == [pki.der(chain.root), pki.der(chain.leaf)]

    def test_skips_unterminated_block(self, chain):
        second = pki.pem(chain.leaf)
        text = pki.pem(chain.root) + second[:len(second) // 2]
        assert pem.certificate_ders(text) == [pki.der(chain.root)]

    def test_crlf_and_bytes(self, chain):
        text = pki.pem(chain.root).replace(b"\n", b"\r\n")
        assert pem.certificate_ders(text) == [pki.der(chain.root)]

    def test_certificate_ders_ignores_other_labels(self, chain):
        text = pki.pem_text([pki.der(chain.root)], "TRUSTED CERTIFICATE")
        assert pem.certificate_ders(text) == []

    def test_nothing(self):
        assert pem.pem_blocks("", ("CERTIFICATE",)) == []
        assert pem.pem_blocks(b"\xff\xfe garbage", ("CERTIFICATE",)) == []


class TestDerToPem:

    def test_round_trip(self, chain):
        data = pki.der(chain.root)
        text = pem.der_to_pem(data)
        assert pem.certificate_ders(text) == [data]
        assert text.encode("ascii") == pki.pem(chain.root)  # same layout as OpenSSL/cryptography

    def test_lines_are_64_columns_and_label(self):
        text = pem.der_to_pem(bytes(range(256)) * 2, "X509 CRL")
        lines = text.splitlines()
        assert lines[0] == "-----BEGIN X509 CRL-----" and lines[-1] == "-----END X509 CRL-----"
        assert all(len(line) == 64 for line in lines[1:-2]) and 0 < len(lines[-2]) <= 64
        assert text.endswith("\n")
        assert pem.pem_blocks(text, ("X509 CRL",)) == [bytes(range(256)) * 2]
