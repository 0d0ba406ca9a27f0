# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/certs.py (controller side)."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509

import pki
from ansible_collections.vip.mtls.plugins.module_utils import certs
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError

SRC = "files/anchor.crt"


@pytest.fixture(scope="module")
def chain():
    return pki.Chain()


@pytest.fixture(scope="module")
def root_pem(chain):
    return pki.pem(chain.root)


def fp(cert):
    return certs.fingerprint(cert)


def fails(data, *fragments, **kwargs):
    """Call load_certificates and return the message, checking every fragment is in it."""
    with pytest.raises(VipMtlsError) as info:
        certs.load_certificates(data, kwargs.get("source", SRC))
    for fragment in fragments:
        assert fragment in info.value.msg, info.value.msg
    return info.value.msg


# --- load_certificates: encodings that must all give the same certificate ----------------------

class TestLoadCertificates:

    def test_pem(self, chain, root_pem):
        loaded = certs.load_certificates(root_pem, SRC)
        assert [fp(c) for c in loaded] == [fp(chain.root)]

    def test_der(self, chain):
        loaded = certs.load_certificates(pki.der(chain.root), SRC)
        assert [fp(c) for c in loaded] == [fp(chain.root)]

    def test_crlf(self, chain, root_pem):
        data = root_pem.replace(b"\n", b"\r\n")
        assert b"\r\n" in data
        assert [fp(c) for c in certs.load_certificates(data, SRC)] == [fp(chain.root)]

    def test_utf8_bom(self, chain, root_pem):
        data = b"\xef\xbb\xbf" + root_pem
        assert [fp(c) for c in certs.load_certificates(data, SRC)] == [fp(chain.root)]

    def test_text_before_begin_like_openssl_text(self, chain, root_pem):
        data = (b"Certificate:\n    Data:\n        Version: 3 (0x2)\n"
                b"        Subject: O=vip.mtls tests, CN=Test Root CA\n"
                b"        Signature Algorithm: ecdsa-with-SHA256\n" + root_pem + b"trailing words\n")
        assert [fp(c) for c in certs.load_certificates(data, SRC)] == [fp(chain.root)]

    def test_no_final_newline(self, chain, root_pem):
        data = root_pem.rstrip(b"\n")
        assert not data.endswith(b"\n")
        assert [fp(c) for c in certs.load_certificates(data, SRC)] == [fp(chain.root)]

    def test_several_certificates_all_returned_in_order(self, chain):
        data = pki.pem(chain.leaf) + pki.pem(chain.root) + b"\n" + pki.pem(chain.inter)
        loaded = certs.load_certificates(data, SRC)
        assert [fp(c) for c in loaded] == [fp(chain.leaf), fp(chain.root), fp(chain.inter)]

    def test_x509_certificate_label(self, chain):
        data = pki.pem_text([pki.der(chain.root)], "X509 CERTIFICATE").encode("ascii")
        assert [fp(c) for c in certs.load_certificates(data, SRC)] == [fp(chain.root)]

    def test_trusted_certificate_with_aux_bytes(self, chain):
        data = pki.pem_text([pki.der(chain.root) + pki.TRUST_AUX], "TRUSTED CERTIFICATE").encode("ascii")
        assert b"BEGIN TRUSTED CERTIFICATE" in data
        assert [fp(c) for c in certs.load_certificates(data, SRC)] == [fp(chain.root)]

    def test_other_pem_blocks_are_ignored(self, chain):
        data = (pki.key_pem(pki.ec_key()) + pki.pem(chain.root)
                + pki.pem_text([b"\x30\x00"], "X509 CRL").encode("ascii"))
        assert [fp(c) for c in certs.load_certificates(data, SRC)] == [fp(chain.root)]

    def test_every_reencoding_gives_the_same_fingerprint(self, chain, root_pem):
        variants = [
            root_pem,
            pki.der(chain.root),
            pki.der(chain.root) + b"\x00\x01trailing",   # DER followed by junk: only the first element
            root_pem.replace(b"\n", b"\r\n"),
            b"\xef\xbb\xbf" + root_pem,
            b"subject=CN = Test Root CA\n" + root_pem,
            root_pem.rstrip(b"\n"),
            pki.pem_text([pki.der(chain.root) + pki.TRUST_AUX], "TRUSTED CERTIFICATE").encode("ascii"),
            # One long base64 line instead of 64-column lines.
            b"-----BEGIN CERTIFICATE-----\n" + b"".join(root_pem.splitlines()[1:-1])
            + b"\n-----END CERTIFICATE-----\n",
        ]
        fingerprints = {tuple(fp(c) for c in certs.load_certificates(v, SRC)) for v in variants}
        assert fingerprints == {(fp(chain.root),)}

    def test_fingerprint_format(self, chain):
        value = fp(chain.root)
        assert len(value) == 95 and value.count(":") == 31
        assert value == value.upper()

    def test_digicert_roots_fingerprints(self):
        g2 = certs.load_certificates(pki.read(pki.DIGICERT_G2), pki.DIGICERT_G2)
        g1 = certs.load_certificates(pki.read(pki.DIGICERT_G1), pki.DIGICERT_G1)
        assert [fp(c) for c in g2] == [pki.DIGICERT_G2_SHA256]
        assert [fp(c) for c in g1] == [pki.DIGICERT_G1_SHA256]


# --- load_certificates: failures name the problem ----------------------------------------------

class TestLoadCertificatesFailures:

    def test_utf16_with_bom(self, root_pem):
        fails(root_pem.decode("ascii").encode("utf-16"), "UTF-16", SRC)

    def test_utf16_le_without_bom(self, root_pem):
        fails(root_pem.decode("ascii").encode("utf-16-le"), "UTF-16")

    def test_zero_bytes_are_binary_not_utf16(self):
        fails(b"\x00" * 4096, "binary data that is neither a PEM nor a DER certificate")

    def test_pkcs12_offered_as_a_root(self, chain):
        fails(pki.p12(chain.leaf_key, chain.leaf, password="secret"), "a PKCS#12 bundle or a key")

    def test_empty(self):
        fails(b"", "is empty", SRC)

    def test_no_certificate(self):
        fails(b"hello, this is not a certificate\n", "holds no certificate", SRC)

    def test_only_a_private_key(self):
        fails(pki.key_pem(pki.ec_key()), "holds no certificate")

    def test_truncated_pem_begin_without_end(self, root_pem):
        cut = root_pem[:len(root_pem) // 2]
        fails(cut, "without its END line", "truncated")

    def test_truncated_second_certificate_is_not_silently_dropped(self, chain):
        """A bundle cut inside its second certificate must fail, not return only the first."""
        second = pki.pem(chain.inter)
        data = pki.pem(chain.root) + second[:len(second) // 2]
        fails(data, "truncated")

    def test_damaged_base64(self, root_pem):
        lines = root_pem.splitlines(True)
        lines[3] = b"!!!!" + lines[3][4:]
        fails(b"".join(lines), "base64", "damaged")

    def test_base64_valid_but_der_damaged(self, root_pem):
        lines = root_pem.splitlines(True)
        del lines[2]  # a whole line of valid base64 missing
        fails(b"".join(lines), "cannot be parsed")

    def test_truncated_der(self, chain):
        data = pki.der(chain.root)
        msg = fails(data[:len(data) - 40], "truncated")
        assert "needs %d bytes" % len(data) in msg

    def test_der_too_short_to_have_a_length(self):
        fails(b"\x30", "not a valid DER certificate")

    def test_oversized(self, root_pem):
        data = root_pem + b"#" * (1024 * 1024)
        fails(data, "too large", str(len(data)))


# --- check_trust_anchor ---------------------------------------------------------------------------

class TestCheckTrustAnchor:

    def test_self_signed_root_passes_without_warnings(self, chain):
        assert certs.check_trust_anchor(chain.root, SRC) == []

    @pytest.mark.parametrize("path", [pki.DIGICERT_G2, pki.DIGICERT_G1])
    def test_digicert_roots_pass(self, path):
        cert, = certs.load_certificates(pki.read(path), path)
        assert certs.check_trust_anchor(cert, path) == []

    def test_intermediate_fails(self, chain):
        with pytest.raises(VipMtlsError) as info:
            certs.check_trust_anchor(chain.inter, SRC)
        msg = info.value.msg
        assert "intermediate" in msg and "Trust the ROOT" in msg
        assert fp(chain.inter) in msg
        assert "allow_intermediate" in msg

    def test_leaf_fails(self, chain):
        with pytest.raises(VipMtlsError) as info:
            certs.check_trust_anchor(chain.leaf, SRC)
        assert "leaf" in info.value.msg
        assert "Trust the ROOT" in info.value.msg

    def test_self_signed_leaf_is_not_a_root(self):
        cert, _key = pki.make_cert("self-signed server", ca=False)
        with pytest.raises(VipMtlsError) as info:
            certs.check_trust_anchor(cert, SRC)
        assert "leaf" in info.value.msg

    def test_allow_intermediate_returns_one_warning(self, chain):
        warnings = certs.check_trust_anchor(chain.inter, SRC, allow_intermediate=True)
        assert len(warnings) == 1
        assert "intermediate" in warnings[0] and "allow_intermediate is true" in warnings[0]

    def test_broken_self_signature(self, chain):
        data = bytearray(pki.der(chain.root))
        data[-1] ^= 0xFF  # last byte of the ECDSA signature's s value
        damaged = x509.load_der_x509_certificate(bytes(data))
        assert damaged.subject == damaged.issuer
        with pytest.raises(VipMtlsError) as info:
            certs.check_trust_anchor(damaged, SRC)
        assert "does not verify" in info.value.msg

    def test_sha1_signed_root_passes(self):
        """Old roots (DigiCert Global Root CA) are SHA-1 self-signed; cryptography's verifier refuses those."""
        root = pki.sha1_rsa_root()
        assert root.signature_hash_algorithm.name == "sha1"
        assert certs.is_self_signed_root(root)
        assert certs.check_trust_anchor(root, SRC) == []

    def test_sha1_signed_root_with_broken_signature(self):
        damaged = pki.flip_last_byte(pki.sha1_rsa_root())
        assert not certs.is_self_signed_root(damaged)
        with pytest.raises(VipMtlsError) as info:
            certs.check_trust_anchor(damaged, SRC)
        assert "does not verify" in info.value.msg

    def test_rsa_pss_root_passes_and_broken_fails(self):
        root = pki.rsa_pss_root()
        assert certs.check_trust_anchor(root, SRC) == []
        assert not certs.is_self_signed_root(pki.flip_last_byte(root))

    def test_expired(self):
        cert, _key = pki.make_cert("Old Root", ca=True, not_before=pki.NOW - 800 * pki.DAY,
                                   not_after=pki.NOW - 10 * pki.DAY)
        with pytest.raises(VipMtlsError) as info:
            certs.check_trust_anchor(cert, SRC)
        assert "expired on %s" % (pki.NOW - 10 * pki.DAY).date().isoformat() in info.value.msg

    def test_not_yet_valid(self):
        cert, _key = pki.make_cert("Future Root", ca=True, not_before=pki.NOW + 10 * pki.DAY,
                                   not_after=pki.NOW + 800 * pki.DAY)
        with pytest.raises(VipMtlsError) as info:
            certs.check_trust_anchor(cert, SRC)
        assert "not valid before" in info.value.msg
        assert "clock" in info.value.msg


# --- check_pins ---------------------------------------------------------------------------------------

class TestCheckPins:

    def test_no_pins_accepts_anything(self, chain):
        assert certs.check_pins([chain.root], [], SRC) is None

    @pytest.mark.parametrize("transform", [
        lambda v: v,
        lambda v: v.lower(),
        lambda v: v.replace(":", ""),
        lambda v: v.replace(":", "").lower(),
        lambda v: " %s " % v.lower(),
    ], ids=["upper-colons", "lower-colons", "upper-plain", "lower-plain", "spaces"])
    def test_pin_forms(self, chain, transform):
        certs.check_pins([chain.root], [transform(fp(chain.root))], SRC)

    def test_list_every_certificate_must_match_one(self, chain):
        pins = [fp(chain.inter).replace(":", ""), fp(chain.root).lower()]
        certs.check_pins([chain.root, chain.inter], pins, SRC)

    def test_mismatch_names_actual_fingerprint(self, chain):
        with pytest.raises(VipMtlsError) as info:
            certs.check_pins([chain.root, chain.inter], [fp(chain.root)], SRC)
        assert fp(chain.inter) in info.value.msg
        assert "matches none" in info.value.msg

    def test_digicert_pins(self):
        g2 = certs.load_certificates(pki.read(pki.DIGICERT_G2), SRC)
        certs.check_pins(g2, [pki.DIGICERT_G1_SHA256, pki.DIGICERT_G2_SHA256.replace(":", "").lower()], SRC)
        with pytest.raises(VipMtlsError) as info:
            certs.check_pins(g2, [pki.DIGICERT_G1_SHA256], SRC)
        assert pki.DIGICERT_G2_SHA256 in info.value.msg

    @pytest.mark.parametrize("pin", ["abc", "zz" * 32, "AB:" * 31 + "A", "AB" * 33])
    def test_malformed_pin(self, chain, pin):
        with pytest.raises(VipMtlsError) as info:
            certs.check_pins([chain.root], [fp(chain.root), pin], SRC)
        assert "64 hex" in info.value.msg


# --- load_client_bundle -------------------------------------------------------------------------------

class TestLoadClientBundle:

    def test_pkcs12_with_password(self, chain):
        data = pki.p12(chain.leaf_key, chain.leaf, [chain.inter], password="s3cret")
        key, cert, extra = certs.load_client_bundle(data, "vip.p12", "s3cret")
        assert fp(cert) == fp(chain.leaf)
        assert certs.key_matches(cert, key)
        assert [fp(c) for c in extra] == [fp(chain.inter)]

    def test_pkcs12_password_as_bytes(self, chain):
        data = pki.p12(chain.leaf_key, chain.leaf, password="s3cret")
        _key, cert, extra = certs.load_client_bundle(data, "vip.p12", b"s3cret")
        assert fp(cert) == fp(chain.leaf) and extra == []

    def test_pkcs12_wrong_password(self, chain):
        data = pki.p12(chain.leaf_key, chain.leaf, password="s3cret")
        with pytest.raises(VipMtlsError) as info:
            certs.load_client_bundle(data, "vip.p12", "wrong")
        assert "passphrase is wrong" in info.value.msg
        assert "wrong" not in info.value.msg.replace("passphrase is wrong", "")  # never echoes it
        assert "s3cret" not in info.value.msg

    def test_pkcs12_password_missing(self, chain):
        data = pki.p12(chain.leaf_key, chain.leaf, password="s3cret")
        with pytest.raises(VipMtlsError) as info:
            certs.load_client_bundle(data, "vip.p12", None)
        assert "passphrase is wrong" in info.value.msg

    def test_pkcs12_without_password(self, chain):
        data = pki.p12(chain.leaf_key, chain.leaf)
        for passphrase in (None, ""):
            key, cert, extra = certs.load_client_bundle(data, "vip.p12", passphrase)
            assert fp(cert) == fp(chain.leaf) and extra == []
            assert certs.key_matches(cert, key)

    def test_pkcs12_extra_certs_listed_first(self, chain):
        """No certificate is paired with the key; the matching leaf comes after the CA certificates."""
        data = pki.p12(chain.leaf_key, None, [chain.inter, chain.root, chain.leaf], password="pw")
        _key, cert, extra = certs.load_client_bundle(data, "vip.p12", "pw")
        assert fp(cert) == fp(chain.leaf)
        assert [fp(c) for c in extra] == [fp(chain.inter), fp(chain.root)]

    def test_pkcs12_main_cert_missing(self, chain):
        data = pki.p12(chain.leaf_key, None, [chain.leaf], password="pw")
        _key, cert, extra = certs.load_client_bundle(data, "vip.p12", "pw")
        assert fp(cert) == fp(chain.leaf)
        assert extra == []

    def test_pkcs12_cert_only(self, chain):
        data = pki.p12(None, chain.leaf, password="pw")
        with pytest.raises(VipMtlsError) as info:
            certs.load_client_bundle(data, "vip.p12", "pw")
        assert "no private key" in info.value.msg

    def test_pkcs12_key_only(self, chain):
        data = pki.p12(chain.leaf_key, None, password="pw")
        with pytest.raises(VipMtlsError) as info:
            certs.load_client_bundle(data, "vip.p12", "pw")
        assert "private key but no certificate" in info.value.msg

    def test_pkcs12_key_not_matching(self, chain):
        # cryptography refuses to pair a certificate with a foreign key, so the leaf rides as an extra.
        data = pki.p12(pki.ec_key(), None, [chain.leaf, chain.inter], password="pw")
        with pytest.raises(VipMtlsError) as info:
            certs.load_client_bundle(data, "vip.p12", "pw")
        assert "does not match" in info.value.msg
        assert "Test client" in info.value.msg

    def test_pem_cert_and_key(self, chain):
        data = pki.pem(chain.leaf) + pki.key_pem(chain.leaf_key) + pki.pem(chain.inter)
        key, cert, extra = certs.load_client_bundle(data, "vip.pem")
        assert fp(cert) == fp(chain.leaf)
        assert [fp(c) for c in extra] == [fp(chain.inter)]
        assert certs.key_matches(cert, key)

    def test_pem_key_first_chain_first(self, chain):
        data = pki.key_pem(chain.leaf_key) + pki.pem(chain.inter) + pki.pem(chain.leaf)
        _key, cert, extra = certs.load_client_bundle(data, "vip.pem")
        assert fp(cert) == fp(chain.leaf)
        assert [fp(c) for c in extra] == [fp(chain.inter)]

    def test_pem_traditional_rsa_key(self):
        key = pki.rsa_key()
        cert, _key = pki.make_cert("rsa client", key=key)
        data = pki.key_pem(key, "traditional") + pki.pem(cert)
        assert b"BEGIN RSA PRIVATE KEY" in data
        _key, loaded, _extra = certs.load_client_bundle(data, "vip.pem")
        assert fp(loaded) == fp(cert)

    def test_pem_encrypted_key_with_passphrase(self, chain):
        data = pki.pem(chain.leaf) + pki.key_pem(chain.leaf_key, password="pw")
        assert b"ENCRYPTED PRIVATE KEY" in data
        key, cert, _chain = certs.load_client_bundle(data, "vip.pem", "pw")
        assert fp(cert) == fp(chain.leaf) and certs.key_matches(cert, key)

    def test_pem_encrypted_key_without_passphrase(self, chain):
        data = pki.pem(chain.leaf) + pki.key_pem(chain.leaf_key, password="pw")
        with pytest.raises(VipMtlsError) as info:
            certs.load_client_bundle(data, "vip.pem")
        assert "encrypted; set passphrase" in info.value.msg

    def test_pem_encrypted_key_wrong_passphrase(self, chain):
        data = pki.pem(chain.leaf) + pki.key_pem(chain.leaf_key, password="pw")
        with pytest.raises(VipMtlsError) as info:
            certs.load_client_bundle(data, "vip.pem", "nope")
        assert "passphrase is wrong" in info.value.msg

    def test_pem_plain_key_with_passphrase(self, chain):
        data = pki.pem(chain.leaf) + pki.key_pem(chain.leaf_key)
        with pytest.raises(VipMtlsError) as info:
            certs.load_client_bundle(data, "vip.pem", "pw")
        assert "not encrypted but a passphrase was given" in info.value.msg

    def test_pem_key_not_matching(self, chain):
        data = pki.pem(chain.leaf) + pki.key_pem(pki.ec_key())
        with pytest.raises(VipMtlsError) as info:
            certs.load_client_bundle(data, "vip.pem")
        assert "does not match" in info.value.msg

    def test_pem_two_keys(self, chain):
        data = pki.pem(chain.leaf) + pki.key_pem(chain.leaf_key) + pki.key_pem(pki.ec_key())
        with pytest.raises(VipMtlsError) as info:
            certs.load_client_bundle(data, "vip.pem")
        assert "more than one private key" in info.value.msg

    def test_pem_cert_without_key(self, chain):
        with pytest.raises(VipMtlsError) as info:
            certs.load_client_bundle(pki.pem(chain.leaf), "vip.pem")
        assert "no private key" in info.value.msg

    def test_garbage(self):
        with pytest.raises(VipMtlsError) as info:
            certs.load_client_bundle(b"\x01\x02garbage bytes, not a keystore" * 4, "vip.p12", "pw")
        assert "neither PKCS#12" in info.value.msg

    def test_zero_bytes_are_binary_not_utf16(self):
        fails(b"\x00" * 4096, "binary data that is neither a PEM nor a DER certificate")

    def test_pkcs12_offered_as_a_root(self, chain):
        fails(pki.p12(chain.leaf_key, chain.leaf, password="secret"), "a PKCS#12 bundle or a key")

    def test_empty(self):
        with pytest.raises(VipMtlsError) as info:
            certs.load_client_bundle(b"", "vip.p12")
        assert "is empty" in info.value.msg

    def test_oversized(self):
        with pytest.raises(VipMtlsError) as info:
            certs.load_client_bundle(b"\x30" * (1024 * 1024 + 1), "vip.p12")
        assert "too large" in info.value.msg

    def test_key_to_pem_is_unencrypted_pkcs8(self, chain):
        text = certs.key_to_pem(chain.leaf_key)
        assert text.startswith("-----BEGIN PRIVATE KEY-----\n")
        data = pki.pem(chain.leaf) + text.encode("ascii")
        key, _cert, _chain = certs.load_client_bundle(data, "x")
        assert certs.key_matches(chain.leaf, key)


# --- check_client_certificate ------------------------------------------------------------------------

class TestCheckClientCertificate:

    NOW = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)

    def cert(self, days_left):
        cert, _key = pki.make_cert("client", not_before=self.NOW - 30 * pki.DAY,
                                   not_after=self.NOW + datetime.timedelta(days=days_left, hours=1))
        return cert

    def test_days_remaining_no_warning(self):
        days, warnings = certs.check_client_certificate(self.cert(100), SRC, 30, 0, now=self.NOW)
        assert days == 100 and warnings == []

    def test_warn_days(self):
        days, warnings = certs.check_client_certificate(self.cert(10), SRC, warn_days=30, now=self.NOW)
        assert days == 10
        assert len(warnings) == 1
        assert "expires in 10 days" in warnings[0] and "2030-01-11" in warnings[0]

    def test_min_days_valid(self):
        with pytest.raises(VipMtlsError) as info:
            certs.check_client_certificate(self.cert(10), SRC, warn_days=30, min_days_valid=20, now=self.NOW)
        assert "expires in 10 days" in info.value.msg and "min_days_valid=20" in info.value.msg

    def test_min_days_valid_boundary(self):
        days, _warnings = certs.check_client_certificate(self.cert(20), SRC, warn_days=0, min_days_valid=20,
                                                         now=self.NOW)
        assert days == 20

    def test_expired(self):
        with pytest.raises(VipMtlsError) as info:
            certs.check_client_certificate(self.cert(-5), SRC, now=self.NOW)
        assert "expired on 2029-12-27" in info.value.msg

    def test_default_now(self):
        cert, _key = pki.make_cert("client", not_after=pki.NOW + datetime.timedelta(days=50, hours=1))
        days, warnings = certs.check_client_certificate(cert, SRC)
        assert days == 50 and warnings == []


def test_describe_has_no_secrets_and_right_values():
    cert, _key = pki.make_cert("described")
    info = certs.describe(cert)
    assert set(info) == {"subject", "issuer", "serial", "not_before", "not_after", "fingerprint_sha256"}
    assert info["subject"] == "CN=described,O=vip.mtls tests"
    assert info["serial"] == format(cert.serial_number, "X")
    assert info["fingerprint_sha256"] == certs.fingerprint(cert)
    assert certs.to_pem(cert).encode("ascii") == pki.pem(cert)


def test_a_name_with_an_unknown_string_type_is_a_clear_error_on_every_cryptography():
    """Found by the property tests on cryptography 41 (the declared minimum): a damaged name's string type
    made cryptography raise KeyError instead of ValueError, which escaped as a traceback."""
    data = (b"-----BEGIN TRUSTED CERTIFICATE-----MIIBdjCCAR2gAwIBAgIU+/047AFGIJMWWY0cg+67/6xxxzQwCgYI0AEIIJZj/zwwMTEXMBUG"
            b"A/CEUg0O/GHHJMMT1dddg666wzwxFjAUBgNABTMMDT011BBFIHQQ11g6yzEwHhcNMjYxMjAyMTg0MjQzWhcNMjcxMjAzMTg0MjQzWjAx"
            b"MRcwFQYDDJAQTQ4002ABNRXXXZ01cc35yzEWMBQGA/7ABCENDHHMHQUUUcdg6666wTBZMBMGB27AEGGMSgCGCM27AHES11wyA0IA++++"
            b"+000/221122444BDDDEFFGHHHHIIHHHJJMNOOONQQSTUUXXYYYZ0012223333gh44+66677013344566xzyjEzARMA8GA/EUdwEB/wQF8AAB"
            b"M3MwCgYI0AEIIJZj/zwDRwA+++//00222111224455587ABCCCEEEGHHIIIHHJNNNNNQQRRRSSSTTUTXYZddd333gggggh4+6701r3345"
            b"wwwwwyyyzzz-----END TRUSTED CERTIFICATE-----")
    try:
        loaded = certs.load_certificates(data, "fuzz")
    except VipMtlsError as exc:
        assert "fuzz" in exc.msg
        return
    for cert in loaded:  # a newer cryptography may parse it; then the checks must fail cleanly or pass
        try:
            certs.check_trust_anchor(cert, "fuzz", False)
        except VipMtlsError:
            pass
