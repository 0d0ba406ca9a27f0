# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every input form of vip.mtls.client_cert, table-driven, on the controller side (certs.py):
PKCS#12 (AES/PBKDF2, 3DES, no password, chain, several certificates, cert-only, key-only), one PEM with
certificate and key, separate PEM files (PKCS#1, PKCS#8, encrypted PKCS#8, RSA and EC), clientAuth EKU and
issuer pins; and real third-party PKCS#12 files from the cryptography-vectors package (legacy RC2-40
among them), taken through the whole path: load, validate, render, deploy."""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID

import pki
from ansible_collections.vip.mtls.plugins.module_utils import certs
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError

PASS = "Vip pass 1"


class Material(object):
    """root -> intermediate -> leaf, with the leaf key of the wanted type."""

    def __init__(self, key_type):
        key = pki.rsa_key() if key_type == "rsa" else ec.generate_private_key(ec.SECP256R1())
        chain = pki.Chain(leaf_key=key)
        self.root, self.inter, self.leaf, self.key = chain.root, chain.inter, chain.leaf, key
        self.inter_key = chain.inter_key


@pytest.fixture(scope="module", params=["ec", "rsa"])
def mat(request):
    return Material(request.param)


def fp(cert):
    return certs.fingerprint(cert)


# --- PKCS#12 and one-PEM inputs: certs.load_client_bundle ------------------------------------------------

def _p12(m, encryption, cert="leaf", cas=("inter",)):
    cert_obj = getattr(m, cert) if cert else None
    cas_objs = [getattr(m, c) for c in cas] or None
    return pkcs12.serialize_key_and_certificates(b"vip", m.key, cert_obj, cas_objs, encryption)


def aes(password=PASS):
    return serialization.BestAvailableEncryption(password.encode())


def triple_des(password=PASS):
    return (serialization.PrivateFormat.PKCS12.encryption_builder()
            .kdf_rounds(2048)
            .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
            .hmac_hash(hashes.SHA1())
            .build(password.encode()))


def pem_key(m, fmt="pkcs8", password=None):
    return pki.key_pem(m.key, fmt, password)


# id: (build data from Material, passphrase, expected chain as Material attribute names)
BUNDLES = {
    "p12-aes-pbkdf2-with-chain": (lambda m: _p12(m, aes()), PASS, ["inter"]),
    "p12-aes-pbkdf2-full-chain": (lambda m: _p12(m, aes(), cas=("inter", "root")), PASS, ["inter", "root"]),
    "p12-3des": (lambda m: _p12(m, triple_des()), PASS, ["inter"]),
    "p12-3des-no-chain": (lambda m: _p12(m, triple_des(), cas=()), PASS, []),
    "p12-no-password": (lambda m: _p12(m, serialization.NoEncryption()), None, ["inter"]),
    "p12-no-password-empty-string": (lambda m: _p12(m, serialization.NoEncryption()), "", ["inter"]),
    "p12-several-certs-leaf-not-first": (lambda m: _p12(m, aes(), cert=None, cas=("root", "inter", "leaf")),
                                         PASS, ["root", "inter"]),
    "pem-cert-key": (lambda m: pki.pem(m.leaf) + pem_key(m), None, []),
    "pem-cert-key-chain": (lambda m: pki.pem(m.leaf) + pem_key(m) + pki.pem(m.inter), None, ["inter"]),
    "pem-key-first-leaf-last": (lambda m: pem_key(m) + pki.pem(m.inter) + pki.pem(m.leaf), None, ["inter"]),
    "pem-traditional-key": (lambda m: pki.pem(m.leaf) + pem_key(m, "traditional"), None, []),
    "pem-encrypted-pkcs8": (lambda m: pki.pem(m.leaf) + pem_key(m, password=PASS), PASS, []),
    "pem-crlf": (lambda m: (pki.pem(m.leaf) + pem_key(m)).replace(b"\n", b"\r\n"), None, []),
}


@pytest.mark.parametrize("case", sorted(BUNDLES))
def test_bundle_inputs(mat, case):
    build, passphrase, chain_names = BUNDLES[case]
    key, cert, chain = certs.load_client_bundle(build(mat), "vip-input", passphrase)
    assert fp(cert) == fp(mat.leaf)
    assert certs.key_matches(cert, key) and type(key) is type(mat.key)
    assert [fp(c) for c in chain] == [fp(getattr(mat, n)) for n in chain_names]


# id: (build, passphrase, fragments of the message)
BUNDLE_ERRORS = {
    "p12-cert-only": (lambda m: pkcs12.serialize_key_and_certificates(b"vip", None, m.leaf, None, aes()),
                      PASS, ["holds a certificate but no private key"]),
    "p12-cas-only": (lambda m: pkcs12.serialize_key_and_certificates(b"vip", None, None, [m.leaf, m.inter], aes()),
                     PASS, ["holds a certificate but no private key"]),
    "p12-key-only": (lambda m: pkcs12.serialize_key_and_certificates(b"vip", m.key, None, None, aes()),
                     PASS, ["holds a private key but no certificate"]),
    "p12-aes-wrong-passphrase": (lambda m: _p12(m, aes()), "wrong", ["passphrase is wrong"]),
    "p12-3des-wrong-passphrase": (lambda m: _p12(m, triple_des()), "wrong", ["passphrase is wrong"]),
    "p12-passphrase-missing": (lambda m: _p12(m, aes()), None, ["passphrase is wrong"]),
    "p12-key-of-another-cert": (lambda m: pkcs12.serialize_key_and_certificates(
        b"vip", pki.ec_key(), None, [m.leaf, m.inter], aes()), PASS, ["does not match", "Test client"]),
    "pem-cert-only": (lambda m: pki.pem(m.leaf) + pki.pem(m.inter), None, ["holds a certificate but no private key"]),
    "pem-key-only": (pem_key, None, ["holds a private key but no certificate"]),
    "pem-encrypted-wrong-passphrase": (lambda m: pki.pem(m.leaf) + pem_key(m, password=PASS), "wrong",
                                       ["passphrase is wrong"]),
    "pem-encrypted-no-passphrase": (lambda m: pki.pem(m.leaf) + pem_key(m, password=PASS), None,
                                    ["the private key is encrypted"]),
    "pem-plain-key-with-passphrase": (lambda m: pki.pem(m.leaf) + pem_key(m), PASS,
                                      ["not encrypted but a passphrase was given"]),
    "pem-foreign-key": (lambda m: pki.pem(m.leaf) + pki.key_pem(pki.ec_key()), None, ["does not match"]),
    "garbage": (lambda m: b"\x01\x02 not a keystore " * 8, PASS, ["neither PKCS#12", "nor PEM"]),
    "empty": (lambda m: b"", None, ["is empty"]),
}


@pytest.mark.parametrize("case", sorted(BUNDLE_ERRORS))
def test_bundle_input_errors(case):
    mat = Material("ec")
    build, passphrase, fragments = BUNDLE_ERRORS[case]
    with pytest.raises(VipMtlsError) as info:
        certs.load_client_bundle(build(mat), "vip-input", passphrase)
    for fragment in fragments:
        assert fragment in info.value.msg, info.value.msg
    assert "vip-input" in info.value.msg
    for secret in (PASS, "wrong"):
        assert secret not in info.value.msg.replace("passphrase is wrong", "")


# --- separate PEM files: certs.load_separate_pem -------------------------------------------------------------

def _traditional_encrypted(key, password):
    """OpenSSL 1.x style: BEGIN RSA/EC PRIVATE KEY with Proc-Type/DEK-Info headers (openssl genrsa -aes256)."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.BestAvailableEncryption(password.encode()))


# id: (key type, key PEM from key, passphrase, expected first line)
KEY_FORMATS = {
    "rsa-pkcs1": ("rsa", lambda k: pki.key_pem(k, "traditional"), None, b"-----BEGIN RSA PRIVATE KEY-----"),
    "rsa-pkcs8": ("rsa", pki.key_pem, None, b"-----BEGIN PRIVATE KEY-----"),
    "rsa-pkcs8-encrypted": ("rsa", lambda k: pki.key_pem(k, password=PASS), PASS,
                            b"-----BEGIN ENCRYPTED PRIVATE KEY-----"),
    "rsa-pkcs1-encrypted-openssl-legacy": ("rsa", lambda k: _traditional_encrypted(k, PASS), PASS,
                                           b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED"),
    "ec-sec1": ("ec", lambda k: pki.key_pem(k, "traditional"), None, b"-----BEGIN EC PRIVATE KEY-----"),
    "ec-pkcs8": ("ec", pki.key_pem, None, b"-----BEGIN PRIVATE KEY-----"),
    "ec-pkcs8-encrypted": ("ec", lambda k: pki.key_pem(k, password=PASS), PASS,
                           b"-----BEGIN ENCRYPTED PRIVATE KEY-----"),
}


@pytest.fixture(scope="module")
def materials():
    return {"rsa": Material("rsa"), "ec": Material("ec")}


@pytest.mark.parametrize("case", sorted(KEY_FORMATS))
@pytest.mark.parametrize("cert_file", ["leaf", "leaf+chain", "chain+leaf"])
def test_separate_pem_files(materials, case, cert_file):
    key_type, render, passphrase, head = KEY_FORMATS[case]
    m = materials[key_type]
    key_data = render(m.key)
    assert key_data.startswith(head)
    cert_data = {"leaf": pki.pem(m.leaf), "leaf+chain": pki.pem(m.leaf) + pki.pem(m.inter),
                 "chain+leaf": pki.pem(m.inter) + pki.pem(m.leaf)}[cert_file]
    key, cert, chain = certs.load_separate_pem(cert_data, "client.crt", key_data, "client.key", passphrase)
    assert fp(cert) == fp(m.leaf) and certs.key_matches(cert, key)
    assert [fp(c) for c in chain] == ([] if cert_file == "leaf" else [fp(m.inter)])


# id: (cert data, key data, passphrase, fragments)
SEPARATE_ERRORS = {
    "wrong-passphrase": (lambda m: pki.pem(m.leaf), lambda m: pki.key_pem(m.key, password=PASS), "wrong",
                         ["client.key", "passphrase is wrong"]),
    "passphrase-missing": (lambda m: pki.pem(m.leaf), lambda m: pki.key_pem(m.key, password=PASS), None,
                           ["client.key", "the private key is encrypted"]),
    "legacy-encrypted-wrong-passphrase": (lambda m: pki.pem(m.leaf), lambda m: _traditional_encrypted(m.key, PASS),
                                          "wrong", ["passphrase is wrong"]),
    "key-file-holds-a-certificate": (lambda m: pki.pem(m.leaf), lambda m: pki.pem(m.leaf), None,
                                     ["client.key holds no PEM private key"]),
    "key-file-two-keys": (lambda m: pki.pem(m.leaf), lambda m: pki.key_pem(m.key) + pki.key_pem(pki.ec_key()),
                          None, ["more than one private key"]),
    "foreign-key": (lambda m: pki.pem(m.leaf) + pki.pem(m.inter), lambda m: pki.key_pem(pki.ec_key()), None,
                    ["does not match", "client.crt and client.key"]),
    "cert-file-holds-a-key": (lambda m: pki.key_pem(m.key), lambda m: pki.key_pem(m.key), None,
                              ["client.crt holds no certificate"]),
}


@pytest.mark.parametrize("case", sorted(SEPARATE_ERRORS))
def test_separate_pem_errors(materials, case):
    cert_build, key_build, passphrase, fragments = SEPARATE_ERRORS[case]
    m = materials["ec"]
    with pytest.raises(VipMtlsError) as info:
        certs.load_separate_pem(cert_build(m), "client.crt", key_build(m), "client.key", passphrase)
    for fragment in fragments:
        assert fragment in info.value.msg, info.value.msg


# --- validation: clientAuth EKU, issuer pins ------------------------------------------------------------------

def client_cert(m, eku=None, not_before=None, not_after=None):
    builder = (x509.CertificateBuilder()
               .subject_name(pki.name("EKU client"))
               .issuer_name(m.inter.subject)
               .public_key(m.key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before or pki.NOW - pki.DAY)
               .not_valid_after(not_after or pki.NOW + 365 * pki.DAY)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return builder.sign(m.inter_key, hashes.SHA256())


SERVER, CLIENT = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH


@pytest.mark.parametrize("eku, accepted", [
    (None, True),  # no EKU: any use
    ([CLIENT], True),
    ([SERVER, CLIENT], True),
    ([SERVER], False),
    ([ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CODE_SIGNING], False),
])
def test_client_auth_extended_key_usage(materials, eku, accepted):
    cert = client_cert(materials["ec"], eku)
    if accepted:
        days, warnings_ = certs.check_client_certificate(cert, "vip.p12")
        assert days >= 364 and warnings_ == []
        return
    with pytest.raises(VipMtlsError) as info:
        certs.check_client_certificate(cert, "vip.p12")
    assert "clientAuth" in info.value.msg and "not allowed for client authentication" in info.value.msg
    if eku == [SERVER]:
        assert "serverAuth" in info.value.msg


@pytest.mark.parametrize("case, ok, fragment", [
    ("issuer-pinned", True, None),
    ("issuer-pinned-lowercase-no-colons", True, None),
    ("one-of-several-pins", True, None),
    ("no-pin", True, None),
    ("wrong-pin", False, "was not issued by a CA with a pinned issuer_fingerprint_sha256"),
    ("issuer-missing-from-chain", False, "must carry the issuing CA in its chain"),
    ("root-pinned-not-the-direct-issuer", False, "was not issued by a CA with a pinned"),
])
def test_issuer_pins(materials, case, ok, fragment):
    m = materials["ec"]
    inter_fp, root_fp = fp(m.inter), fp(m.root)
    issuers, pins = {
        "issuer-pinned": ([m.inter, m.root], [inter_fp]),
        "issuer-pinned-lowercase-no-colons": ([m.inter], [inter_fp.replace(":", "").lower()]),
        "one-of-several-pins": ([m.root, m.inter], [root_fp.replace(":", ""), inter_fp]),
        "no-pin": ([], []),
        "wrong-pin": ([m.inter], [fp(pki.Chain(prefix="Other").inter)]),
        "issuer-missing-from-chain": ([], [inter_fp]),
        "root-pinned-not-the-direct-issuer": ([m.inter, m.root], [root_fp]),
    }[case]
    if ok:
        certs.check_client_certificate(m.leaf, "vip.p12", issuers=issuers, issuer_pins=pins)
        return
    with pytest.raises(VipMtlsError) as info:
        certs.check_client_certificate(m.leaf, "vip.p12", issuers=issuers, issuer_pins=pins)
    assert fragment in info.value.msg and "Test client" in info.value.msg


def test_issuer_pin_with_a_forged_issuer_of_the_same_name(materials):
    """A CA with the issuer's name but another key is pinned: the signature decides, not the name."""
    m = materials["ec"]
    forged, _key = pki.make_cert("Test Intermediate CA", ca=True)
    assert forged.subject == m.inter.subject
    with pytest.raises(VipMtlsError, match="was not issued by a CA with a pinned"):
        certs.check_client_certificate(m.leaf, "vip.p12", issuers=[forged], issuer_pins=[fp(forged)])


@pytest.mark.parametrize("when, fragment", [("expired", "expired on"), ("future", "is not valid before")])
def test_validity_window(materials, when, fragment):
    m = materials["ec"]
    if when == "expired":
        cert = client_cert(m, not_before=pki.NOW - 30 * pki.DAY, not_after=pki.NOW - pki.DAY)
    else:
        cert = client_cert(m, not_before=pki.NOW + pki.DAY, not_after=pki.NOW + 30 * pki.DAY)
    with pytest.raises(VipMtlsError, match=fragment):
        certs.check_client_certificate(cert, "vip.p12")


# --- real third-party PKCS#12 files: cryptography-vectors ------------------------------------------------------

cryptography_vectors = pytest.importorskip(
    "cryptography_vectors", reason="cryptography-vectors is not installed (pip install -r requirements-test.txt)")

CRYPTOGRAPHY_CA = "CN=cryptography CA,C=US"

# file: (password, encryption as `openssl pkcs12 -info -legacy` names it, key type, subject, chain length)
VECTORS = {
    "pkcs12/cert-key-aes256cbc.p12": ("cryptography", "PBES2, PBKDF2, AES-256-CBC", ec.EllipticCurvePrivateKey,
                                      CRYPTOGRAPHY_CA, 0),
    "pkcs12/cert-rc2-key-3des.p12": ("cryptography", "pbeWithSHA1And40BitRC2-CBC", ec.EllipticCurvePrivateKey,
                                     CRYPTOGRAPHY_CA, 0),
    "pkcs12/no-password.p12": (None, "pbeWithSHA1And40BitRC2-CBC", ec.EllipticCurvePrivateKey, CRYPTOGRAPHY_CA, 0),
    "pkcs12/cert-none-key-none.p12": ("cryptography", "Key bag", ec.EllipticCurvePrivateKey, CRYPTOGRAPHY_CA, 0),
    "pkcs12/name-all-pwd.p12": ("password", "pbeWithSHA1And3-KeyTripleDES-CBC", ec.EllipticCurvePrivateKey,
                                CRYPTOGRAPHY_CA, 2),
    "pkcs12/name-2-3-no-pwd.p12": (None, "Key bag", ec.EllipticCurvePrivateKey, CRYPTOGRAPHY_CA, 2),
    # NIST PKITS (2011): an RSA end-entity certificate, 3DES
    "x509/PKITS_data/pkcs12/ValidCertificatePathTest1EE.p12": (
        "password", "pbeWithSHA1And3-KeyTripleDES-CBC", rsa.RSAPrivateKey,
        "CN=Valid EE Certificate Test1,O=Test Certificates 2011,C=US", 0),
}
RC2_40 = ("pkcs12/cert-rc2-key-3des.p12", "pkcs12/no-password.p12")


def vector(path):
    with cryptography_vectors.open_vector_file(path, "rb") as handle:
        return handle.read()


def vector_path(path):
    return os.path.join(os.path.dirname(cryptography_vectors.__file__), *path.split("/"))


def load_vector(path, password):
    # cryptography warns that no-password.p12 is BER rather than DER ("may become an exception"): the
    # file loads; the warning is cryptography's, not ours.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PKCS#12 bundle could not be parsed as DER", category=UserWarning)
        return certs.load_client_bundle(vector(path), path, password)


@pytest.mark.parametrize("path", sorted(VECTORS))
def test_third_party_pkcs12_files_load(path):
    password, _encryption, key_type, subject, chain_length = VECTORS[path]
    key, cert, chain = load_vector(path, password)
    assert isinstance(key, key_type)
    assert cert.subject.rfc4514_string() == subject
    assert certs.key_matches(cert, key)
    assert len(chain) == chain_length
    assert fp(cert) not in [fp(c) for c in chain]


@pytest.mark.skipif(not shutil.which("openssl"), reason="the openssl command is not installed")
@pytest.mark.parametrize("path", sorted(VECTORS))
def test_third_party_pkcs12_files_are_what_the_table_says(path):
    """openssl (with its legacy provider for RC2) confirms the encryption each vector is listed with."""
    password, encryption, _key_type, _subject, _chain_length = VECTORS[path]
    proc = subprocess.run(["openssl", "pkcs12", "-info", "-noout", "-legacy", "-in", vector_path(path),
                           "-passin", "pass:%s" % (password or "")], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=60, check=False)
    if proc.returncode != 0 and "legacy" in proc.stdout.lower():
        pytest.skip("openssl has no legacy provider here: %s" % proc.stdout.strip()[:200])
    assert proc.returncode == 0, proc.stdout
    assert encryption in proc.stdout, proc.stdout


@pytest.mark.skipif(not shutil.which("openssl"), reason="the openssl command is not installed")
@pytest.mark.parametrize("path", RC2_40)
def test_rc2_40_files_load_where_openssl_3_refuses_them(path):
    """What OpenSSL 3 users hit: without -legacy the RC2-40 certificate bag is 'unsupported'. We load it."""
    version = subprocess.run(["openssl", "version"], stdout=subprocess.PIPE, text=True, check=False).stdout
    password = VECTORS[path][0]
    key, cert, _chain = load_vector(path, password)
    assert certs.key_matches(cert, key)
    if not version.startswith("OpenSSL 3"):
        pytest.skip("only OpenSSL 3 refuses RC2 by default (%s)" % version.strip())
    proc = subprocess.run(["openssl", "pkcs12", "-info", "-noout", "-in", vector_path(path),
                           "-passin", "pass:%s" % (password or "")], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=60, check=False)
    assert proc.returncode != 0 and "unsupported" in proc.stdout.lower(), proc.stdout


@pytest.mark.parametrize("path, password, fragment", [
    ("pkcs12/cert-aes256cbc-no-key.p12", "cryptography", "holds a certificate but no private key"),
    ("pkcs12/java-truststore.p12", None, "holds a certificate but no private key"),
    ("pkcs12/no-cert-key-aes256cbc.p12", "cryptography", "holds a private key but no certificate"),
    ("pkcs12/cert-key-aes256cbc.p12", "wrong", "passphrase is wrong"),
    ("pkcs12/cert-rc2-key-3des.p12", "wrong", "passphrase is wrong"),
    ("pkcs12/cert-rc2-key-3des.p12", None, "passphrase is wrong"),
])
def test_third_party_pkcs12_errors(path, password, fragment):
    with pytest.raises(VipMtlsError) as info:
        load_vector(path, password)
    assert fragment in info.value.msg and path in info.value.msg


def test_rc2_40_file_through_the_whole_path(tmp_path):
    """A legacy RC2-40 PKCS#12 from elsewhere: validated, rendered into every output, deployed, idempotent."""
    from ansible_collections.vip.mtls.plugins.module_utils import outputs
    from test_clientcert import make_args, run

    path = "pkcs12/cert-rc2-key-3des.p12"
    key, cert, chain = load_vector(path, "cryptography")
    days, _warnings = certs.check_client_certificate(cert, path, issuers=chain)
    assert days > 0
    dest = str(tmp_path / "vip-mtls")
    args = make_args(dest, combined_path=os.path.join(dest, "all.pem"), pkcs12_path=os.path.join(dest, "c.p12"),
                     pkcs12_passphrase="new-pass", pkcs12_compat=True, key_output_passphrase="key-pass")

    def params():
        return {"dest_dir": dest, "owner": None, "group": None, "key_mode": "0600", "cert_mode": "0644",
                "dir_mode": "0750", "backup": False, "state": "present",
                "_outputs": outputs.render_outputs(key, cert, chain, args)}
    result = run(params())
    assert result["changed"] is True
    loaded = pkcs12.load_pkcs12(open(os.path.join(dest, "c.p12"), "rb").read(), b"new-pass")
    assert fp(loaded.cert.certificate) == fp(cert) and certs.key_matches(cert, loaded.key)
    assert run(params())["changed"] is False
