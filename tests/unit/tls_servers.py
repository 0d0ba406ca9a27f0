# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A throw-away PKI and small in-process TLS servers on 127.0.0.1, for the tls_probe tests.

The servers are real OpenSSL endpoints (Python's ssl module) in daemon threads: a mutual-TLS
server rejects a missing or foreign client certificate with a TLS alert, as most servers do
(nginx, which answers HTTP 400 instead, is imitated by a server that sends nginx's pages).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import ssl
import threading
import time
import warnings

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)

NGINX_NO_CERT_PAGE = (
    b"<html>\r\n<head><title>400 No required SSL certificate was sent</title></head>\r\n<body>\r\n"
    b"<center><h1>400 Bad Request</h1></center>\r\n<center>No required SSL certificate was sent</center>\r\n"
    b"<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
NGINX_CERT_ERROR_PAGE = (
    b"<html>\r\n<head><title>400 The SSL certificate error</title></head>\r\n<body>\r\n"
    b"<center><h1>400 Bad Request</h1></center>\r\n<center>The SSL certificate error</center>\r\n"
    b"<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


def http_response(status_line, body=b"", content_type=b"text/plain"):
    return (b"HTTP/1.1 " + status_line + b"\r\nServer: test\r\nContent-Type: " + content_type
            + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)


OK_RESPONSE = http_response(b"200 OK", b"hello\n")


class Pki:
    """Certificates and keys written as PEM files into one directory; attributes are paths."""

    def __init__(self, directory):
        self.dir = str(directory)
        root, root_key = self._ca("vip.mtls Test Root CA")
        inter, inter_key = self._ca("vip.mtls Test Intermediate CA", root, root_key)
        self.root_der = root.public_bytes(serialization.Encoding.DER)
        self.root_subject = root.subject.rfc4514_string()
        self.root_ca = self._write("root-ca.pem", root)
        self.inter_subject = inter.subject.rfc4514_string()

        localhost = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        self.server = self._leaf("server", "localhost", inter, inter_key, localhost, server=True, chain=[inter])
        self.server_other_name = self._leaf("server-other", "other.example", inter, inter_key,
                                            [x509.DNSName("other.example")], server=True, chain=[inter])
        self.server_expired = self._leaf("server-expired", "localhost", inter, inter_key, localhost,
                                         server=True, chain=[inter], not_before=NOW - 30 * DAY,
                                         not_after=NOW - DAY)

        client_root, client_root_key = self._ca("vip.mtls Test Client CA")
        self.client_ca = self._write("client-ca.pem", client_root)
        self.client = self._leaf("client", "client.example", client_root, client_root_key)
        foreign_root, foreign_key = self._ca("Some Other CA")
        self.foreign_ca = self._write("foreign-ca.pem", foreign_root)
        self.client_foreign = self._leaf("client-foreign", "client.example", foreign_root, foreign_key)
        self.client_expired = self._leaf("client-expired", "client.example", client_root, client_root_key,
                                         not_before=NOW - 30 * DAY, not_after=NOW - DAY)
        self.client_future = self._leaf("client-future", "client.example", client_root, client_root_key,
                                        not_before=NOW + 10 * DAY, not_after=NOW + 30 * DAY)
        # one file holding certificate then key, as VIP Manager's PEM download does
        self.client_combined = os.path.join(self.dir, "client-combined.pem")
        with open(self.client_combined, "wb") as out:
            for part in (self.client.cert, self.client.key):
                with open(part, "rb") as source:
                    out.write(source.read())
        self.client_key_encrypted = self._write_key("client-encrypted.key", self.client.private_key,
                                                    serialization.BestAvailableEncryption(b"s3cret"))
        self.unrelated_key = self._write_key("unrelated.key", ec.generate_private_key(ec.SECP256R1()))

    # -- builders -----------------------------------------------------------------------------

    def _name(self, common_name):
        return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "vip.mtls tests"),
                          x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    def _builder(self, subject, issuer, public_key, not_before, not_after):
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
                .serial_number(x509.random_serial_number()).not_valid_before(not_before)
                .not_valid_after(not_after)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))

    def _ca(self, common_name, issuer=None, issuer_key=None):
        key = ec.generate_private_key(ec.SECP256R1())
        name = self._name(common_name)
        builder = self._builder(name, issuer.subject if issuer else name, key.public_key(), NOW - DAY,
                                NOW + 365 * DAY)
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
        if issuer is not None:
            builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                issuer_key.public_key()), critical=False)
        return builder.sign(issuer_key or key, hashes.SHA256()), key

    def _leaf(self, stem, common_name, issuer, issuer_key, names=None, server=False, chain=(),
              not_before=None, not_after=None):
        key = ec.generate_private_key(ec.SECP256R1())
        builder = self._builder(self._name(common_name), issuer.subject, key.public_key(),
                                not_before or NOW - DAY, not_after or NOW + 90 * DAY)
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer_key.public_key()), critical=False)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(issuer_key, hashes.SHA256())
        return _Pair(self._write(stem + ".crt", cert, *chain), self._write_key(stem + ".key", key), key)

    def _write(self, filename, *certs):
        path = os.path.join(self.dir, filename)
        with open(path, "wb") as out:
            for cert in certs:
                out.write(cert.public_bytes(serialization.Encoding.PEM))
        return path

    def _write_key(self, filename, key, encryption=None):
        path = os.path.join(self.dir, filename)
        with open(path, "wb") as out:
            out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        encryption or serialization.NoEncryption()))
        return path


class _Pair:
    def __init__(self, cert, key, private_key):
        self.cert = cert
        self.key = key
        self.private_key = private_key


class TlsServer:
    """Accepts connections on 127.0.0.1 in a daemon thread, one at a time, until stopped.

    ``context`` None means a plain TCP server that never says anything (for timeouts); ``response``
    None a TLS server that completes the handshake (after ``handshake_delay`` seconds) and then
    never answers. Every
    request received is kept in ``requests`` so tests can look at what the probe sent.
    """

    def __init__(self, context, response=OK_RESPONSE, handshake_delay=0.0):
        self.context = context
        self.response = response
        self.handshake_delay = handshake_delay
        self.requests = []
        self.errors = []
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self._stopping = threading.Event()
        self._held = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def url(self, host="localhost", path="/"):
        return "https://%s:%d%s" % (host, self.port, path)

    def stop(self):
        self._stopping.set()
        # closing the listener does not wake a thread blocked in accept(); a connection does
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            pass
        self._thread.join(5)
        self.listener.close()
        for conn in self._held:
            conn.close()

    def _serve(self):
        while True:
            try:
                conn, _peer = self.listener.accept()
            except OSError:
                return
            if self._stopping.is_set():
                conn.close()
                return
            if self.context is None:
                self._held.append(conn)  # keep it open, say nothing
                continue
            try:
                self._answer(conn)
            except Exception as exc:  # the probe's side decides what this looked like
                self.errors.append(exc)
            finally:
                conn.close()

    def _answer(self, conn):
        conn.settimeout(5)
        time.sleep(self.handshake_delay)
        tls = self.context.wrap_socket(conn, server_side=True)
        try:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = tls.recv(4096)
                if not chunk:
                    break
                request += chunk
            self.requests.append(request)
            if self.response is None:  # mute: wait for the client to give up
                while tls.recv(4096):
                    pass
                return
            tls.sendall(self.response)
        finally:
            tls.close()


def server_context(pki, leaf, client_cert=ssl.CERT_REQUIRED, max_version=None, min_version=None, ciphers=None):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if ciphers:
        context.set_ciphers(ciphers)
    if min_version:
        context.minimum_version = min_version
    if max_version:
        context.maximum_version = max_version
    context.load_cert_chain(leaf.cert, leaf.key)
    context.verify_mode = client_cert
    if client_cert != ssl.CERT_NONE:
        context.load_verify_locations(pki.client_ca)
    return context


def old_tls_context(pki):
    """A server that speaks only TLS 1.0/1.1, or None where this OpenSSL cannot be one."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # being deprecated is the point
            return server_context(pki, pki.server, ssl.CERT_NONE, min_version=ssl.TLSVersion.TLSv1,
                                  max_version=ssl.TLSVersion.TLSv1_1, ciphers="DEFAULT:@SECLEVEL=0")
    except (ssl.SSLError, ValueError):
        return None


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def servers(pki):
    """The TLS servers of the suite by name; they live for the whole session (each starts in ~1 ms)."""
    running = {
        "mtls13": TlsServer(server_context(pki, pki.server)),
        "mtls12": TlsServer(server_context(pki, pki.server, max_version=ssl.TLSVersion.TLSv1_2)),
        "plain": TlsServer(server_context(pki, pki.server, ssl.CERT_NONE)),
        "other_name": TlsServer(server_context(pki, pki.server_other_name, ssl.CERT_NONE)),
        "expired": TlsServer(server_context(pki, pki.server_expired, ssl.CERT_NONE)),
        "silent": TlsServer(None),
        "not_http": TlsServer(server_context(pki, pki.server, ssl.CERT_NONE), response=b"SSH-2.0-OpenSSH\r\n"),
        "nginx_no_cert": TlsServer(server_context(pki, pki.server, ssl.CERT_OPTIONAL),
                                   response=http_response(b"400 Bad Request", NGINX_NO_CERT_PAGE, b"text/html")),
        "nginx_cert_error": TlsServer(server_context(pki, pki.server, ssl.CERT_OPTIONAL),
                                      response=http_response(b"400 Bad Request", NGINX_CERT_ERROR_PAGE,
                                                             b"text/html")),
        "optional": TlsServer(server_context(pki, pki.server, ssl.CERT_OPTIONAL)),
        "mute": TlsServer(server_context(pki, pki.server, ssl.CERT_NONE), response=None),
        "slow_mute": TlsServer(server_context(pki, pki.server, ssl.CERT_NONE), response=None, handshake_delay=0.5),
        "not_found": TlsServer(server_context(pki, pki.server, ssl.CERT_NONE),
                               response=http_response(b"404 Not Found", b"no such page")),
    }
    old = old_tls_context(pki)
    if old is not None:
        running["old_tls"] = TlsServer(old)
    yield running
    for server in running.values():
        server.stop()


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port
