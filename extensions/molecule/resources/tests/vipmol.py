"""Helpers for the testinfra verifiers of every scenario (imported by each scenario's tests/conftest.py).

The verifiers check behaviour from inside the host with independent clients - curl, openssl, a Java program,
Python's ssl - against the nginx stand-in that resources/prepare.yml started on the controller's loopback;
files are read back and fingerprinted here, on the controller, without the collection's code.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shlex
from pathlib import Path

import pytest
import testinfra

PORT = int(os.environ.get("VIP_MOLECULE_PORT", "18600"))
PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
PKI = PROJECT / ".build" / "molecule" / ("standin-%d" % PORT) / "pki"
HOST_DIR = "/etc/vip-molecule"
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
JAVA_CACERTS = "/etc/ssl/certs/java/cacerts"

# The roots the collection ships (DESIGN.md), by SHA-256 of the DER certificate.
DIGICERT_G2 = "CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F"
DIGICERT_G1 = "43:48:A0:E9:44:4C:78:CB:26:5E:05:8D:5E:89:44:B4:D8:4F:96:62:BD:26:DB:25:7F:89:34:A4:43:C7:01:61"

# The stand-in's ports (tests/hosts/standin.sh): mTLS; wrong server name; expired server certificate;
# plain TLS without a client certificate request.
MTLS, WRONG_NAME, EXPIRED, NO_CLIENT_CERT = range(4)


def url(port_offset: int = MTLS, path: str = "/") -> str:
    return "https://vip-standin.test:%d%s" % (PORT + port_offset, path)


PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.S)


def pem_fingerprints(data: bytes) -> list[str]:
    """SHA-256 of the DER bytes of every certificate in PEM data, colon-separated upper-case hex, in order."""
    found = []
    for block in PEM_CERT.findall(data):
        digest = hashlib.sha256(base64.b64decode(b"".join(block.split()))).hexdigest().upper()
        found.append(":".join(digest[i:i + 2] for i in range(0, len(digest), 2)))
    return found


def pki_fingerprint(name: str) -> str:
    """Fingerprint of the first certificate in a file of the stand-in's test PKI (on the controller)."""
    return pem_fingerprints((PKI / name).read_bytes())[0]


def as_user(user: str | None, argv: list[str], group: str | None = None) -> list[str]:
    """argv run as USER with its supplementary groups (primary group GROUP, default USER), or as root when
    user is None."""
    if user is None:
        return argv
    return ["setpriv", "--reuid=" + user, "--regid=" + (group or user), "--init-groups", "--"] + argv


class Curl:
    """One curl call on the host: rc, HTTP status (0 without an HTTP answer), body and stderr."""

    def __init__(self, node, target: str, *args: str, user: str | None = None):
        argv = as_user(user, ["curl", "-sS", "--max-time", "10", "-w", "\n%{http_code}", *args, target])
        result = node.run(shlex.join(argv))
        body, _sep, code = result.stdout.rpartition("\n")
        self.rc = result.rc
        self.status = int(code) if code.isdigit() else 0
        self.body = body
        self.stderr = result.stderr

    def __repr__(self):
        return "Curl(rc=%s, status=%s, body=%r, stderr=%r)" % (self.rc, self.status, self.body[:300], self.stderr)


def java_probe(node, target: str, *props: str, user: str | None = None):
    """The Java probe (resources/java/MtlsProbe.java) on the host: (rc, output)."""
    argv = as_user(user, ["java", "-cp", HOST_DIR, *props, "MtlsProbe", target])
    result = node.run(shlex.join(argv))
    return result.rc, (result.stdout + result.stderr).strip()


SOAP_GET_SERVER_TIME = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:vip="https://schemas.symantec.com/vip/2011/04/vipuserservices"><soapenv:Body>'
    '<vip:GetServerTimeRequest><vip:requestId>molecule-1</vip:requestId></vip:GetServerTimeRequest>'
    '</soapenv:Body></soapenv:Envelope>'
)


@pytest.fixture(scope="module")
def node(host):
    """The same host over `podman exec` directly: much faster than testinfra's ansible backend, which runs
    each command as an ansible ad-hoc call for the podman connection. `host` stays for host.ansible()."""
    return testinfra.get_host("podman://" + host.backend.host)
