# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificates and keys generated on the fly with cryptography, for the module_utils unit tests.

Nothing here is hard-coded key material; the only real certificates the tests read are the two
DigiCert roots the collection ships (roles/vip_trust/files/).
"""

from __future__ import annotations

import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ROOTS_DIR = os.path.join(REPO, "roles", "vip_trust", "files")
DIGICERT_G2 = os.path.join(ROOTS_DIR, "digicert-global-root-g2.crt")
DIGICERT_G1 = os.path.join(ROOTS_DIR, "digicert-global-root-ca.crt")
DIGICERT_G2_SHA256 = ("CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:"
                      "47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F")
DIGICERT_G1_SHA256 = ("43:48:A0:E9:44:4C:78:CB:26:5E:05:8D:5E:89:44:B4:"
                      "D8:4F:96:62:BD:26:DB:25:7F:89:34:A4:43:C7:01:61")

# OpenSSL's X509_CERT_AUX as written after the certificate in a TRUSTED CERTIFICATE block:
# SEQUENCE { trust SEQUENCE OF { OID serverAuth } }
TRUST_AUX = bytes.fromhex("300c300a06082b06010505070301")

_RSA_KEY = None


def not_after_utc(cert):
    """End of validity, aware UTC, on any cryptography the tests run with (``not_valid_after_utc`` came in 42; the
    minimum, 41, has only the naive attribute)."""
    if hasattr(cert, "not_valid_after_utc"):
        return cert.not_valid_after_utc
    return cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def rsa_key():
    """One RSA key per test session (generation is the slow part); for PKCS#1 tests."""
    global _RSA_KEY
    if _RSA_KEY is None:
        _RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _RSA_KEY


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "vip.mtls tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_cert(cn, key=None, issuer=None, issuer_key=None, ca=False, not_before=None, not_after=None,
              basic_constraints=True):
    """(cert, key). Self-signed when ``issuer`` is None."""
    key = key or ec_key()
    not_before = not_before or NOW - DAY
    not_after = not_after or NOW + 365 * DAY
    builder = (x509.CertificateBuilder()
               .subject_name(name(cn))
               .issuer_name(issuer.subject if issuer is not None else name(cn))
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before)
               .not_valid_after(not_after))
    if basic_constraints:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    signer = issuer_key if issuer is not None else key
    return builder.sign(signer, hashes.SHA256()), key


class Chain(object):
    """root -> intermediate -> leaf (client certificate), all EC P-256."""

    def __init__(self, leaf_key=None, leaf_not_after=None, prefix="Test"):
        self.root, self.root_key = make_cert("%s Root CA" % prefix, ca=True)
        self.inter, self.inter_key = make_cert("%s Intermediate CA" % prefix, issuer=self.root,
                                               issuer_key=self.root_key, ca=True)
        self.leaf, self.leaf_key = make_cert("%s client" % prefix, key=leaf_key, issuer=self.inter,
                                             issuer_key=self.inter_key, not_after=leaf_not_after)


def der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key, fmt="pkcs8", password=None):
    formats = {
        "pkcs8": serialization.PrivateFormat.PKCS8,
        "traditional": serialization.PrivateFormat.TraditionalOpenSSL,
    }
    encryption = (serialization.BestAvailableEncryption(password.encode("utf-8")) if password
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, formats[fmt], encryption)


def p12(key, cert, cas=None, password=None):
    encryption = (serialization.BestAvailableEncryption(password.encode("utf-8")) if password
                  else serialization.NoEncryption())
    return pkcs12.serialize_key_and_certificates(b"vip", key, cert, cas, encryption)


def pem_text(ders, label="CERTIFICATE"):
    """PEM text from DER bytes without cryptography (any label, 64-column lines)."""
    import base64
    out = []
    for blob in ders:
        b64 = base64.b64encode(blob).decode("ascii")
        out.append("-----BEGIN %s-----\n%s\n-----END %s-----\n"
                   % (label, "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64)), label))
    return "".join(out)


def read(path):
    with open(path, "rb") as handle:
        return handle.read()


def sha1_rsa_root(cn="SHA-1 Root CA"):
    """A self-signed RSA root signed with SHA-1, as old roots are (cryptography will not sign SHA-1).

    Signed with SHA-256 first, then the algorithm OIDs (same length) are swapped to sha1WithRSAEncryption
    and the TBS bytes are signed again with SHA-1; an RSA-2048 signature keeps its 256-byte length.
    """
    from cryptography.hazmat.primitives.asymmetric import padding
    key = rsa_key()
    cert, _key = make_cert(cn, key=key, ca=True)
    sha256_rsa = bytes.fromhex("2a864886f70d01010b")
    sha1_rsa = bytes.fromhex("2a864886f70d010105")
    data = der(cert)
    assert data.count(sha256_rsa) == 2
    data = data.replace(sha256_rsa, sha1_rsa)
    tbs = x509.load_der_x509_certificate(data).tbs_certificate_bytes
    signature = key.sign(tbs, padding.PKCS1v15(), hashes.SHA1())
    assert len(signature) == 256
    return x509.load_der_x509_certificate(data[:-256] + signature)


def rsa_pss_root(cn="PSS Root CA"):
    from cryptography.hazmat.primitives.asymmetric import padding
    key = rsa_key()
    builder = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(name(cn))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW - DAY).not_valid_after(NOW + 365 * DAY)
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True))
    return builder.sign(key, hashes.SHA256(),
                        rsa_padding=padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH))


def flip_last_byte(cert):
    """The certificate with the last byte of its signature changed (still parses)."""
    data = bytearray(der(cert))
    data[-1] ^= 0xFF
    return x509.load_der_x509_certificate(bytes(data))
