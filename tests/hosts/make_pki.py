"""Generate a throw-away PKI shaped like the real VIP service, for tests and the demo.

Usage: make_pki.py OUTDIR

Server side: root -> intermediate -> leaf (nginx sends leaf + intermediate, never the root),
plus a wrong-name and an expired leaf. Client side: a separate client CA (the stand-in for
"VIP Authentication Service CA") issuing the client certificate as PEM, PEM bundle and PKCS#12,
plus a rogue and an expired client and an unrelated root for negative tests.

Idempotent: nothing is done when OUTDIR/done exists (written last). Needs only `cryptography`.
"""

import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

P12_PASSWORD = b"demo-p12-secret"
ORG = "vip.mtls demo"
NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def name(cn, org=None):
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def issue(subject, key, issuer=None, issuer_key=None, *, ca=False, pathlen=None,
          sans=(), eku=None, not_before=None, not_after=None):
    """Build and sign one certificate; issuer=None means self-signed."""
    issuer = issuer or subject
    issuer_key = issuer_key or key
    not_before = not_before or NOW - DAY  # a day of slack for clock skew
    not_after = not_after or NOW + 365 * DAY
    pub = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject if isinstance(subject, x509.Name) else subject.subject)
        .issuer_name(issuer if isinstance(issuer, x509.Name) else issuer.subject)
        .public_key(pub)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=pathlen if ca else None),
                       critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False)
    )
    if ca:
        usage = dict(digital_signature=False, key_cert_sign=True, crl_sign=True,
                     key_encipherment=False)
    else:
        usage = dict(digital_signature=True, key_cert_sign=False, crl_sign=False,
                     key_encipherment=True)
    builder = builder.add_extension(
        x509.KeyUsage(content_commitment=False, data_encipherment=False, key_agreement=False,
                      encipher_only=False, decipher_only=False, **usage),
        critical=True)
    if sans:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


class Writer:
    def __init__(self, outdir):
        self.outdir = outdir

    def _write(self, filename, data, secret):
        path = os.path.join(self.outdir, filename)
        mode = 0o600 if secret else 0o644
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(path, mode)  # O_CREAT's mode does not apply to a file left by a broken run

    def certs(self, filename, *certs):
        self._write(filename, b"".join(c.public_bytes(serialization.Encoding.PEM)
                                       for c in certs), secret=False)

    def key(self, filename, key):
        self._write(filename, pem_key(key), secret=True)

    def raw(self, filename, data, secret=True):
        self._write(filename, data, secret)

    def pair(self, stem, cert, key):
        self.certs(stem + ".crt", cert)
        self.key(stem + ".key", key)

    def p12(self, filename, cert, key, chain, friendly):
        data = pkcs12.serialize_key_and_certificates(
            friendly.encode(), key, cert, chain,
            serialization.BestAvailableEncryption(P12_PASSWORD))
        self._write(filename, data, secret=True)


def pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def main(outdir):
    if os.path.exists(os.path.join(outdir, "done")):
        return
    os.makedirs(outdir, exist_ok=True)
    w = Writer(outdir)
    server = ExtendedKeyUsageOID.SERVER_AUTH
    client = ExtendedKeyUsageOID.CLIENT_AUTH

    # Server side: root (what hosts must trust) -> intermediate (sent by the server) -> leaves.
    root_key = new_key()
    root = issue(name("VIP Demo Root CA", ORG), root_key, ca=True,
                 not_after=NOW + 3650 * DAY)
    w.pair("root-ca", root, root_key)

    inter_key = new_key()
    inter = issue(name("VIP Demo TLS CA1", ORG), inter_key, root, root_key, ca=True, pathlen=0,
                  not_after=NOW + 1825 * DAY)
    w.pair("intermediate-ca", inter, inter_key)

    leaves = {
        "server": dict(cn="vip-standin.test", sans=("vip-standin.test", "localhost")),
        "wrong-name": dict(cn="wrong-name.test", sans=("wrong-name.test",)),
        "expired-server": dict(cn="vip-standin.test", sans=("vip-standin.test",),
                               not_before=NOW - 2 * DAY, not_after=NOW - DAY),
    }
    for stem, spec in leaves.items():
        key = new_key()
        cert = issue(name(spec["cn"], ORG), key, inter, inter_key, sans=spec["sans"], eku=server,
                     not_before=spec.get("not_before"), not_after=spec.get("not_after"))
        w.pair(stem, cert, key)
        w.certs(stem + "-fullchain.crt", cert, inter)  # up to, not including, the root

    # Client side: the CA nginx trusts for client certificates, and what it issued.
    cca_key = new_key()
    cca = issue(name("VIP Authentication Service CA (demo)", ORG), cca_key, ca=True,
                not_after=NOW + 3650 * DAY)
    w.pair("client-ca", cca, cca_key)

    ckey = new_key()
    ccert = issue(name("vip-demo-client"), ckey, cca, cca_key, eku=client)
    w.pair("client", ccert, ckey)
    w.p12("client.p12", ccert, ckey, [cca], "vip-demo-client")
    w.raw("client.p12.pass", P12_PASSWORD)
    # VIP Manager's other download format: certificate and key in one PEM file.
    w.raw("client-plain.pem", ccert.public_bytes(serialization.Encoding.PEM) + pem_key(ckey))

    # A client certificate from a CA nginx does not trust.
    rca_key = new_key()
    rca = issue(name("Rogue Client CA"), rca_key, ca=True, not_after=NOW + 3650 * DAY)
    w.pair("rogue-ca", rca, rca_key)
    rkey = new_key()
    rcert = issue(name("rogue-client"), rkey, rca, rca_key, eku=client)
    w.pair("rogue-client", rcert, rkey)
    w.p12("rogue-client.p12", rcert, rkey, [rca], "rogue-client")

    # The right CA, but out of date.
    ekey = new_key()
    ecert = issue(name("vip-demo-client-expired"), ekey, cca, cca_key, eku=client,
                  not_before=NOW - 2 * DAY, not_after=NOW - DAY)
    w.pair("expired-client", ecert, ekey)
    w.p12("expired-client.p12", ecert, ekey, [cca], "vip-demo-client-expired")

    # A CA file that does not anchor the server chain.
    urkey = new_key()
    w.certs("untrusted-root.crt",
            issue(name("Unrelated Root CA"), urkey, ca=True, not_after=NOW + 3650 * DAY))

    w.raw("done", b"", secret=False)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_pki.py OUTDIR")
    main(sys.argv[1])
