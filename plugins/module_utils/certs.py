# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificate parsing, validation and normalisation, on the CONTROLLER (needs cryptography).

Only action plugins import this file, so targets never need python3-cryptography.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import re

from ansible_collections.vip.mtls.plugins.module_utils.crypto_support import (
    InvalidSignature,
    UnsupportedAlgorithm,
    ec,
    not_valid_after,
    not_valid_before,
    pkcs12,
    serialization,
    x509,
)
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.module_utils.pem import (
    PEM_BLOCK,
    colon_hex,
    normalise_fingerprint,
)

# Labels that wrap one X.509 certificate; TRUSTED CERTIFICATE is OpenSSL's form with
# trust settings appended after the certificate's DER.
_CERT_LABELS = ("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE")
_MAX_INPUT = 1024 * 1024  # a trust anchor or a PKCS#12 is a few KiB; refuse what cannot be one


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def fingerprint(cert):
    """SHA-256 of the DER bytes, colon-separated upper-case hex (as INTERFACE.md returns it)."""
    return colon_hex(hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest())


def to_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def describe(cert):
    """What users see of a certificate: never anything secret."""
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "X"),
        "not_before": not_valid_before(cert).isoformat(),
        "not_after": not_valid_after(cert).isoformat(),
        "fingerprint_sha256": fingerprint(cert),
    }


def _der_length(der):
    """Length of the leading DER element, so trailing trust data can be cut off."""
    if len(der) < 2 or der[0] != 0x30:
        raise ValueError("not a DER SEQUENCE")
    first = der[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4 or len(der) < 2 + count:
        raise ValueError("bad DER length")
    return 2 + count + int.from_bytes(der[2:2 + count], "big")


def _decode_text(data, source):
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_like_utf16(data[:200]):
        raise VipMtlsError(
            "%s looks like UTF-16 text; save it as PEM in ASCII/UTF-8 "
            "(for example: iconv -f UTF-16 -t UTF-8) or as DER" % source
        )
    if b"\x00" in data[:200]:
        raise VipMtlsError("%s holds binary data that is neither a PEM nor a DER certificate" % source)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")


def _looks_like_utf16(head):
    """Text saved as UTF-16 without a byte-order mark: every other byte NUL, the rest printable."""
    for zeros, chars in ((head[1::2], head[0::2]), (head[0::2], head[1::2])):
        if len(zeros) > 4 and not zeros.strip(b"\x00") and chars.strip(b"\x00") \
                and all(32 <= c < 127 or c in (9, 10, 13) for c in chars.strip(b"\x00")):
            return True
    return False


def _load_der_certificate(der, source, what="certificate"):
    try:
        cert = x509.load_der_x509_certificate(der)
        # cryptography parses names and extensions lazily: a damaged one would raise later, anywhere.
        cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(), cert.extensions, cert.version
        return cert
    except (ValueError, KeyError, x509.InvalidVersion):  # KeyError: cryptography 41 on an unknown string type
        raise VipMtlsError("%s: the %s cannot be parsed as X.509 DER: the file is damaged, or it is another "
                           "kind of DER data (a PKCS#12 bundle or a key?). Give the certificate itself, in PEM "
                           "or DER" % (source, what))


def load_certificates(data, source):
    """Every certificate in PEM or DER ``data``; never silently only the first.

    Accepts CRLF line ends, a UTF-8 byte-order mark, text around the PEM blocks
    (``openssl x509 -text`` output), a missing final newline and TRUSTED CERTIFICATE blocks.
    """
    if not data:
        raise VipMtlsError("%s is empty: expected one or more certificates in PEM or DER" % source)
    if len(data) > _MAX_INPUT:
        raise VipMtlsError("%s is %d bytes: too large to be a certificate file" % (source, len(data)))
    if data[:1] == b"\x30":
        try:
            der = data[:_der_length_or_fail(data, source)]
            return [_load_der_certificate(der, source)]
        except VipMtlsError:
            if b"-----BEGIN" not in data:
                raise  # else: PEM after text that happens to start with "0"

    text = _decode_text(data, source)
    certs = []
    for label, body in PEM_BLOCK.findall(text):
        if label not in _CERT_LABELS:
            continue
        der = _pem_body_to_der(body, source, label)
        if label == "TRUSTED CERTIFICATE":
            der = der[:_der_length_or_fail(der, source)]
        certs.append(_load_der_certificate(der, source))
    begins = len(re.findall(r"-----BEGIN (?:%s)-----" % "|".join(_CERT_LABELS), text))
    if certs and begins > len(certs):
        raise VipMtlsError(
            "%s holds %d BEGIN CERTIFICATE lines but only %d complete certificate(s): a block has no END "
            "line, the file is truncated" % (source, begins, len(certs))
        )
    if certs:
        return certs
    if "-----BEGIN" in text and "CERTIFICATE-----" in text:
        raise VipMtlsError(
            "%s holds a BEGIN CERTIFICATE line without its END line: the file is truncated" % source
        )
    raise VipMtlsError("%s holds no certificate: expected PEM (-----BEGIN CERTIFICATE-----) or DER" % source)


def _der_length_or_fail(der, source):
    try:
        length = _der_length(der)
    except ValueError:
        raise VipMtlsError("%s is not a valid DER certificate" % source)
    if length > len(der):
        raise VipMtlsError("%s is truncated: its DER certificate needs %d bytes, the file has %d"
                           % (source, length, len(der)))
    return length


def _pem_body_to_der(body, source, label):
    # Headers such as Proc-Type would appear before a blank line; certificates have none.
    compact = "".join(body.split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise VipMtlsError("%s: the base64 inside a %s block is damaged or truncated" % (source, label))


def is_self_signed_root(cert):
    """True when the certificate names itself as issuer and its own key verifies the signature."""
    if cert.subject != cert.issuer:
        return False
    try:
        cert.verify_directly_issued_by(cert)
        return True
    except InvalidSignature:
        return False
    except (ValueError, TypeError, UnsupportedAlgorithm):
        pass  # cryptography's verifier refuses SHA-1 signatures, which old roots (DigiCert G1) carry
    # Verify with the certificate's own key and signature parameters (PKCS1v15/PSS/ECDSA/EdDSA).
    try:
        key, params, digest = cert.public_key(), cert.signature_algorithm_parameters, cert.signature_hash_algorithm
        if isinstance(params, ec.ECDSA):
            extra = (params,)
        elif params is None:
            extra = (digest,) if digest else ()  # DSA / EdDSA
        else:
            extra = (params, digest)  # RSA: PKCS1v15 or PSS
        key.verify(cert.signature, cert.tbs_certificate_bytes, *extra)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def is_ca(cert):
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        # X.509 v1 roots (some still shipped by browsers) carry no extensions at all.
        return cert.version == x509.Version.v1


def check_validity(cert, source, now=None):
    now = now or utcnow()
    if not_valid_after(cert) < now:
        raise VipMtlsError(
            "%s: certificate '%s' expired on %s; get a current copy"
            % (source, cert.subject.rfc4514_string(), not_valid_after(cert).date().isoformat())
        )
    if not_valid_before(cert) > now:
        raise VipMtlsError(
            "%s: certificate '%s' is not valid before %s; check the controller's clock or the file"
            % (source, cert.subject.rfc4514_string(), not_valid_before(cert).isoformat())
        )


def check_trust_anchor(cert, source, allow_intermediate=False):
    """Root-only policy. Returns warnings; raises when the certificate must not be trusted."""
    check_validity(cert, source)
    subject = cert.subject.rfc4514_string()
    if cert.subject == cert.issuer and not is_self_signed_root(cert):
        raise VipMtlsError(
            "%s: certificate '%s' claims to be self-signed but its signature does not verify; "
            "the file is damaged or forged: download the root again from its publisher" % (source, subject)
        )
    if is_self_signed_root(cert) and is_ca(cert):
        return []
    kind = "a CA certificate issued by '%s' (an intermediate)" % cert.issuer.rfc4514_string() \
        if is_ca(cert) else "not a CA certificate (a leaf or end-entity certificate)"
    problem = "%s: certificate '%s' (SHA-256 %s) is %s, not a self-signed root" % (
        source, subject, fingerprint(cert), kind)
    if allow_intermediate:
        return [problem + "; trusted anyway because allow_intermediate is true. Intermediates change "
                "when the service renews its certificate: trust the root instead."]
    raise VipMtlsError(
        problem + ". Trust the ROOT, never an intermediate or a leaf: intermediates change when the service "
        "renews its certificate and pinned intermediates break clients. Install the root that issued it "
        "(for VIP: DigiCert Global Root G2), or set allow_intermediate: true to accept it anyway."
    )


def check_pins(certs, pins, source):
    """Every certificate must match one of the SHA-256 pins (when pins are given)."""
    if not pins:
        return
    wanted = {normalise_fingerprint(pin) for pin in pins}
    for cert in certs:
        actual = fingerprint(cert)
        if normalise_fingerprint(actual) not in wanted:
            raise VipMtlsError(
                "%s: certificate '%s' has SHA-256 fingerprint %s, which matches none of the pinned "
                "fingerprint_sha256 values; nothing was changed. Check that the file is the root you "
                "meant, or correct the pin." % (source, cert.subject.rfc4514_string(), actual)
            )


# --- client certificate and key ---------------------------------------------------------

def _public_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def key_matches(cert, key):
    return _public_der(cert.public_key()) == _public_der(key.public_key())


def _passphrase_bytes(passphrase):
    if passphrase is None or passphrase == "":
        return None
    return passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase


def load_client_bundle(data, source, passphrase=None):
    """(key, cert, chain) from a PKCS#12 file or one PEM file holding certificate and key."""
    if not data:
        raise VipMtlsError("%s is empty: expected a PKCS#12 (.p12/.pfx) or a PEM with certificate and key" % source)
    if len(data) > _MAX_INPUT:
        raise VipMtlsError("%s is %d bytes: too large to be a client certificate" % (source, len(data)))
    if b"-----BEGIN" in data:
        return _load_pem_bundle(data, source, passphrase)
    return _load_pkcs12(data, source, passphrase)


def _load_pkcs12(data, source, passphrase):
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, _passphrase_bytes(passphrase))
    except ValueError as exc:
        if _is_pkcs12(data):
            raise VipMtlsError(
                "%s: cannot open the PKCS#12 file: the passphrase is wrong or the file is damaged "
                "(%s). Check the passphrase variable (vault) that belongs to this file." % (source, exc)
            )
        raise VipMtlsError("%s is neither PKCS#12 (.p12/.pfx) nor PEM: cannot read a client certificate" % source)
    except UnsupportedAlgorithm as exc:
        raise VipMtlsError("%s: the PKCS#12 file uses an algorithm this controller cannot read (%s)" % (source, exc))
    return _pick_matching(key, [cert] if cert else [], list(extra or []), source)


def _is_pkcs12(data):
    # A PKCS#12 PFX is a DER SEQUENCE starting with INTEGER version 3.
    try:
        length = _der_length(data)
    except ValueError:
        return False
    header = 2 + (data[1] & 0x7F if data[1] & 0x80 else 0)
    return length <= len(data) and data[header:header + 3] == b"\x02\x01\x03"


def _load_pem_bundle(data, source, passphrase):
    text = _decode_text(data, source)
    blocks = PEM_BLOCK.findall(text)
    begins = len(re.findall(r"-----BEGIN [A-Z0-9 ]+-----", text))
    if begins > len(blocks):
        raise VipMtlsError("%s holds %d BEGIN lines but only %d complete PEM block(s): a block has no END line, "
                           "the file is truncated" % (source, begins, len(blocks)))
    certs = [_load_der_certificate(_pem_body_to_der(body, source, label), source)
             for label, body in blocks if label in _CERT_LABELS]
    key = _load_single_key(blocks, source, passphrase, "passphrase")
    return _pick_matching(key, certs[:1], certs[1:], source)


def _load_single_key(blocks, source, passphrase, option):
    """The one private key among the PEM blocks (None if there is none); two keys are an error."""
    keys = [(label, body) for label, body in blocks if label.endswith("PRIVATE KEY")]
    if len(keys) > 1:
        raise VipMtlsError("%s holds more than one private key; keep only the client's key" % source)
    if not keys:
        return None
    label, body = keys[0]
    return _load_pem_key(_key_block(label, body, source), source, passphrase, option)


def _key_block(label, body, source):
    """The PEM block of a private key, re-assembled; a damaged (non-ASCII) body is the input's fault."""
    try:
        return ("-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, body.strip(), label)).encode("ascii")
    except UnicodeEncodeError:
        raise VipMtlsError("%s: the %s block holds bytes that are not base64 text: the file is damaged"
                           % (source, label))


def _load_pem_key(block, source, passphrase, option="passphrase"):
    try:
        return serialization.load_pem_private_key(block, _passphrase_bytes(passphrase))
    except TypeError:
        if passphrase:
            raise VipMtlsError("%s: the private key is not encrypted but a passphrase was given; "
                               "remove %s" % (source, option))
        raise VipMtlsError("%s: the private key is encrypted; set %s" % (source, option))
    except ValueError:
        raise VipMtlsError("%s: cannot decrypt or parse the private key: the passphrase is wrong or "
                           "the key is damaged" % source)
    except UnsupportedAlgorithm as exc:
        raise VipMtlsError("%s: unsupported private key type (%s)" % (source, exc))


def _pick_matching(key, main, extra, source):
    """The certificate that belongs to the key; the rest is the chain."""
    if key is None and not (main or extra):
        raise VipMtlsError("%s holds neither a certificate nor a private key" % source)
    if key is None:
        raise VipMtlsError("%s holds a certificate but no private key; export the certificate WITH its "
                           "private key from VIP Manager" % source)
    candidates = main + extra
    if not candidates:
        raise VipMtlsError("%s holds a private key but no certificate" % source)
    for cert in candidates:
        try:
            matches = key_matches(cert, key)
        except (ValueError, UnsupportedAlgorithm):
            raise VipMtlsError("%s: the public key of certificate '%s' cannot be read: the file is damaged or the "
                               "key type is not supported" % (source, cert.subject.rfc4514_string()))
        if matches:
            chain = [c for c in candidates if c is not cert]
            return key, cert, chain
    raise VipMtlsError("%s: the private key does not match the certificate '%s' (nor any other certificate "
                       "in the file); the key belongs to another certificate"
                       % (source, candidates[0].subject.rfc4514_string()))


def load_separate_pem(cert_data, cert_source, key_data, key_source, passphrase=None):
    """(key, cert, chain) from a certificate PEM (the client certificate, then its chain) and a key PEM."""
    certs = load_certificates(cert_data, cert_source)
    blocks = PEM_BLOCK.findall(_decode_text(key_data, key_source))
    key = _load_single_key(blocks, key_source, passphrase, "key_passphrase")
    if key is None:
        raise VipMtlsError("%s holds no PEM private key" % key_source)
    return _pick_matching(key, certs[:1], certs[1:], "%s and %s" % (cert_source, key_source))


def check_client_auth_usage(cert, source):
    """A certificate with an Extended Key Usage must allow clientAuth to be presented by a client."""
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return
    if x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH not in usages:
        names = ", ".join(getattr(u, "_name", None) or u.dotted_string for u in usages)
        raise VipMtlsError("%s: certificate '%s' is not allowed for client authentication: its Extended Key "
                           "Usage lists %s but not clientAuth. Use the client certificate issued for this service"
                           % (source, cert.subject.rfc4514_string(), names))


def check_issuer(cert, issuers, pins, source):
    """With issuer_fingerprint_sha256: one of ``issuers`` (the input's chain) has a pinned
    fingerprint and really signed ``cert``."""
    if not pins:
        return
    wanted = {normalise_fingerprint(pin) for pin in pins}
    for issuer in issuers:
        if normalise_fingerprint(fingerprint(issuer)) in wanted:
            try:
                cert.verify_directly_issued_by(issuer)
                return
            except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
                continue
    raise VipMtlsError(
        "%s: certificate '%s' was not issued by a CA with a pinned issuer_fingerprint_sha256 (issuer '%s'); "
        "the input must carry the issuing CA in its chain and the pin must be that CA's SHA-256 fingerprint"
        % (source, cert.subject.rfc4514_string(), cert.issuer.rfc4514_string()))


def check_client_certificate(cert, source, warn_days=30, min_days_valid=0, now=None, issuers=(), issuer_pins=()):
    """Validity checks for a client certificate; returns (days_remaining, warnings)."""
    now = now or utcnow()
    check_validity(cert, source, now)
    check_client_auth_usage(cert, source)
    check_issuer(cert, list(issuers), issuer_pins, source)
    days = (not_valid_after(cert) - now).days
    subject = cert.subject.rfc4514_string()
    if days < min_days_valid:
        raise VipMtlsError(
            "%s: client certificate '%s' expires in %d days (on %s), fewer than min_days_valid=%d; "
            "renew it in VIP Manager first" % (source, subject, days, not_valid_after(cert).date(), min_days_valid)
        )
    warnings = []
    if days < warn_days:
        warnings.append("client certificate '%s' expires in %d days (on %s): renew it in VIP Manager soon"
                        % (subject, days, not_valid_after(cert).date()))
    return days, warnings


def key_to_pem(key):
    """Unencrypted PKCS#8 PEM: what curl, OpenSSL, Python and nginx all read."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")
