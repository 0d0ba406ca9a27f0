"""Property-based tests (hypothesis) of certificate parsing and normalisation (issue 8).

- any re-encoding of a valid certificate (PEM or DER, CRLF, BOM, text around it, any line width,
  trailing whitespace, TRUSTED CERTIFICATE) gives the same fingerprint;
- arbitrary bytes, and mutations of a valid PEM/DER/PKCS#12, make the controller parsers raise only
  VipMtlsError; the target-side helpers (pem.pem_blocks, pem.certificate_ders, tls_wire.describe_der)
  never raise at all;
- no module option can turn TLS verification off without saying so in its name.

max_examples is bounded so the file runs in a few seconds.
"""

from __future__ import annotations

import base64
import re

import pytest

hypothesis = pytest.importorskip("hypothesis")
import hypothesis.configuration  # noqa: E402
import tempfile  # noqa: E402

# Keep hypothesis' own cache out of the working tree.
hypothesis.configuration.set_hypothesis_home_dir(tempfile.mkdtemp(prefix="vip-mtls-hypothesis-"))
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from ansible_collections.vip.mtls.plugins.module_utils import argspecs, certs, pem, tls_wire  # noqa: E402
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError  # noqa: E402

import pki  # noqa: E402

FAST = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

CHAIN = pki.Chain(prefix="Props")
ROOT_DER = pki.der(CHAIN.root)
ROOT_FP = certs.fingerprint(CHAIN.root)
G2_DER = pki.der(certs.load_certificates(pki.read(pki.DIGICERT_G2), "g2")[0])
P12_PASS = "props-p12-Jk4"
P12 = pki.p12(CHAIN.leaf_key, CHAIN.leaf, [CHAIN.inter], password=P12_PASS)
PEM_BUNDLE = pki.pem(CHAIN.leaf) + pki.key_pem(CHAIN.leaf_key)


def _fp(der):
    return pem.der_fingerprint(der)


# ------------------------------------------------------------------ re-encodings keep the fingerprint

@st.composite
def reencoded(draw):
    """(bytes, fingerprint): one valid certificate written in any of the ways tools write it."""
    der = draw(st.sampled_from([ROOT_DER, G2_DER]))
    if draw(st.booleans()) and draw(st.booleans()):
        return der, _fp(der)  # plain DER
    label = draw(st.sampled_from(["CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"]))
    body = der + (pki.TRUST_AUX if label == "TRUSTED CERTIFICATE" and draw(st.booleans()) else b"")
    b64 = base64.b64encode(body).decode("ascii")
    width = draw(st.integers(min_value=1, max_value=200))
    lines = [b64[i:i + width] for i in range(0, len(b64), width)]
    trailing = draw(st.sampled_from(["", " ", "\t", "  \t"]))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = eol.join(line + trailing for line in lines)
    block = "-----BEGIN %s-----%s%s%s-----END %s-----" % (label, eol, text, eol, label)
    safe_text = st.text(alphabet=st.characters(blacklist_characters="-\x00", blacklist_categories=("Cs",)),
                        max_size=80)
    before = draw(safe_text)
    after = draw(safe_text)
    if draw(st.booleans()):
        before = "Certificate:\n    Data:\n        Version: 3 (0x2)\n" + before
    final = draw(st.sampled_from(["", eol, eol + eol, " "]))
    data = (before + (eol if before else "") + block + final + after).encode("utf-8")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return data, _fp(der)


@FAST
@given(reencoded())
def test_any_reencoding_gives_the_same_fingerprint(case):
    data, expected = case
    loaded = certs.load_certificates(data, "reencoded")
    assert [certs.fingerprint(c) for c in loaded] == [expected]


@FAST
@given(reencoded())
def test_target_side_pem_reader_agrees_with_the_controller(case):
    data, expected = case
    if data[:1] == b"\x30" or b"-----BEGIN CERTIFICATE-----" not in data:
        return  # certificate_ders reads CERTIFICATE blocks only (what the module itself writes)
    assert [_fp(d) for d in pem.certificate_ders(data)] == [expected]


def test_several_certificates_in_any_order_keep_each_fingerprint():
    data = pki.pem_text([G2_DER, ROOT_DER]).replace("\n", "\r\n").encode("ascii")
    assert [certs.fingerprint(c) for c in certs.load_certificates(data, "two")] == [_fp(G2_DER), ROOT_FP]


# ------------------------------------------------------------------ hostile input: only VipMtlsError

def _only_vip_error(call, *args):
    try:
        call(*args)
    except VipMtlsError as exc:
        assert exc.msg and isinstance(exc.msg, str)


def _mutate(data, draw):
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "splice"]))
    data = bytearray(data)
    if kind == "flip":
        for _i in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= draw(st.integers(1, 255))
    elif kind == "truncate":
        data = data[:draw(st.integers(0, len(data) - 1))]
    elif kind == "insert":
        i = draw(st.integers(0, len(data)))
        data[i:i] = draw(st.binary(min_size=1, max_size=16))
    elif kind == "delete":
        i = draw(st.integers(0, len(data) - 1))
        del data[i:i + draw(st.integers(1, 32))]
    else:
        i = draw(st.integers(0, len(data)))
        data = data[:i] + draw(st.binary(max_size=64)) + data[i:]
    return bytes(data)


SEEDS = [ROOT_DER, G2_DER, pki.pem(CHAIN.root), pki.pem_text([ROOT_DER], "TRUSTED CERTIFICATE").encode("ascii"),
         P12, PEM_BUNDLE, pki.key_pem(CHAIN.leaf_key, password="x")]


@st.composite
def mutated(draw):
    return _mutate(draw(st.sampled_from(SEEDS)), draw)


hostile = st.one_of(st.binary(max_size=600), mutated(),
                    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
                    st.sampled_from([b"\x30", b"\x30\x80", b"\x30\x84\xff\xff\xff\xff", b"\x30\x82\x00",
                                     b"\xff\xfe\x00", b"-----BEGIN CERTIFICATE-----",
                                     b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----",
                                     b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"]))


@FAST
@given(hostile)
def test_load_certificates_raises_only_its_own_error(data):
    _only_vip_error(certs.load_certificates, data, "fuzz")


@FAST
@given(hostile, st.sampled_from([None, "", P12_PASS, "wrong", "\u00e9\u00e8"]))
def test_load_client_bundle_raises_only_its_own_error(data, passphrase):
    _only_vip_error(certs.load_client_bundle, data, "fuzz", passphrase)


@FAST
@given(hostile, hostile)
def test_load_separate_pem_raises_only_its_own_error(cert_data, key_data):
    _only_vip_error(certs.load_separate_pem, cert_data, "c", key_data, "k", None)


@FAST
@given(hostile)
def test_trust_checks_on_whatever_parses_raise_only_their_own_error(data):
    try:
        loaded = certs.load_certificates(data, "fuzz")
    except VipMtlsError:
        return
    for cert in loaded:
        _only_vip_error(certs.check_trust_anchor, cert, "fuzz")
        certs.describe(cert)


@FAST
@given(hostile)
def test_target_side_helpers_never_raise(data):
    pem.pem_blocks(data, ("CERTIFICATE", "PRIVATE KEY"))
    pem.certificate_ders(data)
    pem.certificate_ders(data.decode("latin-1"))
    described = tls_wire.describe_der(data)
    assert described["fingerprint_sha256"] == _fp(data)


def test_pkcs12_with_wrong_passphrase_or_corrupt_mac_is_named():
    with pytest.raises(VipMtlsError, match="passphrase is wrong or the file is damaged"):
        certs.load_client_bundle(P12, "p12", "wrong")
    corrupt = bytearray(P12)
    corrupt[-30] ^= 0x01  # inside the MAC data
    with pytest.raises(VipMtlsError, match="passphrase is wrong or the file is damaged"):
        certs.load_client_bundle(bytes(corrupt), "p12", P12_PASS)


# ------------------------------------------------------------------ verification cannot be turned off silently

_WEAKENING = re.compile(r"verify|validate_cert|insecure|no_check|skip_(tls|ssl|cert)|check_hostname|unsafe|"
                        r"allow_untrusted|ignore_(tls|ssl|cert)", re.I)


@pytest.mark.parametrize("spec_name", ["TRUST_ANCHOR", "CLIENT_CERT", "MTLS_CHECK"])
def test_no_option_can_turn_tls_verification_off_unless_named_insecure(spec_name):
    """An option that could weaken TLS verification must carry 'insecure' in its name (and then the
    module must warn about it); today none exists."""
    spec = getattr(argspecs, spec_name)
    suspicious = [name for name in spec if _WEAKENING.search(name)]
    assert [n for n in suspicious if "insecure" not in n] == [], suspicious
    assert not suspicious, "an 'insecure' option exists: add a test that it warns every run and is reported"


def test_module_docs_name_no_verification_switch():
    """The modules' own argument specs are the ones above (nothing added beside them)."""
    import ast
    import os
    here = os.path.join(pki.REPO, "plugins", "modules")
    for filename in os.listdir(here):
        if not filename.endswith(".py"):
            continue
        with open(os.path.join(here, filename)) as handle:
            tree = ast.parse(handle.read())
        keys = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
                and isinstance(node.value, str) and re.fullmatch(r"[a-z_]+", node.value)}
        assert not {k for k in keys if _WEAKENING.search(k) and "insecure" not in k
                    and k not in ("validate_only",)}, filename
