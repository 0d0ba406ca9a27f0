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
import base64
import os
import re
import select
import socket
import ssl
import threading
import time
import warnings

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
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
        # the client certificate as VIP Manager hands it out: PKCS#12 with a password
        with open(self.client.cert, "rb") as source:
            client_cert = x509.load_pem_x509_certificate(source.read())
        self.client_p12 = os.path.join(self.dir, "client.p12")
        with open(self.client_p12, "wb") as out:
            out.write(pkcs12.serialize_key_and_certificates(
                b"vip", self.client.private_key, client_cert, None,
                serialization.BestAvailableEncryption(b"p12-s3cret")))

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

    def __init__(self, context, response=OK_RESPONSE, handshake_delay=0.0, port=0):
        self.context = context
        self.response = response
        self.handshake_delay = handshake_delay
        self.requests = []
        self.errors = []
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
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
            head, _sep, body = request.partition(b"\r\n\r\n")
            length = re.search(rb"\r\ncontent-length:\s*(\d+)", head.lower())
            while length and len(body) < int(length.group(1)):
                chunk = tls.recv(4096)
                if not chunk:
                    break
                body += chunk
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
        "unavailable": TlsServer(server_context(pki, pki.server, ssl.CERT_NONE),
                                 response=http_response(b"503 Service Unavailable", b"try later")),
        "tls12_only": TlsServer(server_context(pki, pki.server, ssl.CERT_NONE, max_version=ssl.TLSVersion.TLSv1_2)),
        "vip_0000": TlsServer(server_context(pki, pki.server), response=soap_response("0000", "Success")),
        "vip_0000_prefixed": TlsServer(server_context(pki, pki.server),
                                       response=soap_response("0000", "Success", prefix="ns2")),
        "vip_0001": TlsServer(server_context(pki, pki.server),
                              response=soap_response("0001", "Internal Server Error", prefix="ns2")),
        "vip_fault": TlsServer(server_context(pki, pki.server), response=http_response(
            b"500 Internal Server Error", b'<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body>'
            b"<S:Fault><faultcode>S:Client</faultcode><faultstring>Cannot find dispatch method</faultstring>"
            b"</S:Fault></S:Body></S:Envelope>", b"text/xml")),
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


def soap_response(status, message, prefix=""):
    """A getServerTime answer as VIP (and the nginx stand-in) sends it, chunked like a Java server."""
    p = prefix + ":" if prefix else ""
    ns = ' xmlns:%s="https://schemas.symantec.com/vip/2011/04/vipuserservices"' % prefix if prefix else \
        ' xmlns="https://schemas.symantec.com/vip/2011/04/vipuserservices"'
    body = ('<?xml version="1.0" encoding="UTF-8"?><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/">'
            "<S:Body><%sGetServerTimeResponse%s><%srequestId>r1</%srequestId><%sstatus>%s</%sstatus>"
            "<%sstatusMessage>%s</%sstatusMessage><%stimestamp>2026-05-01T10:00:00Z</%stimestamp>"
            "</%sGetServerTimeResponse></S:Body></S:Envelope>"
            % (p, ns, p, p, p, status, p, p, message, p, p, p, p)).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 50]), body[i:i + 50]) for i in range(0, len(body), 50))
    return (b"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n" + chunks + b"0\r\n\r\n")


class ConnectProxy:
    """An HTTP CONNECT proxy on 127.0.0.1 that tunnels only to 127.0.0.1 ("localhost" included).

    mode: "allow" (200 and a tunnel), "forbid" (403), "auth" (407 unless Proxy-Authorization carries
    ``credentials``), "close" (hangs up without an answer), "bad_gateway" (502). Every request head
    received is kept in ``requests``.
    """

    def __init__(self, mode="allow", credentials=None):
        self.mode = mode
        self.credentials = credentials
        self.requests = []
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self._stopping = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def url(self, user=None, password=None):
        auth = "%s:%s@" % (user, password) if user else ""
        return "http://%s127.0.0.1:%d" % (auth, self.port)

    def stop(self):
        self._stopping.set()
        self.listener.close()

    def _serve(self):
        while not self._stopping.is_set():
            try:
                conn, _peer = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        try:
            conn.settimeout(5)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            self.requests.append(head)
            if self.mode == "close":
                return
            if self.mode == "forbid":
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            if self.mode == "bad_gateway":
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                return
            if self.mode == "auth":
                token = base64.b64encode(("%s:%s" % self.credentials).encode()).decode()
                if ("proxy-authorization: basic %s" % token.lower()).encode() not in head.lower():
                    conn.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                                 b"Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
                    return
            target = head.split(b"\r\n")[0].split()[1].decode()
            host, _sep, port = target.rpartition(":")
            if host not in ("127.0.0.1", "localhost"):  # tests may only reach loopback
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
            except OSError:
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                return
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self._pipe(conn, upstream)
        except OSError:
            pass
        finally:
            conn.close()

    @staticmethod
    def _pipe(a, b):
        try:
            while True:
                readable, _w, _x = select.select([a, b], [], [], 5)
                if not readable:
                    return
                for source in readable:
                    data = source.recv(16384)
                    if not data:
                        return
                    (b if source is a else a).sendall(data)
        finally:
            b.close()


@pytest.fixture(scope="session")
def proxies():
    running = {
        "allow": ConnectProxy("allow"),
        "forbid": ConnectProxy("forbid"),
        "auth": ConnectProxy("auth", credentials=("alice", "pr0xy-s3cret")),
        "close": ConnectProxy("close"),
        "bad_gateway": ConnectProxy("bad_gateway"),
    }
    yield running
    for proxy in running.values():
        proxy.stop()
