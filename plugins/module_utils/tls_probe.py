# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reachability check of vip.mtls.mtls_check: one HTTPS request with a client certificate.

Runs on TARGETS, so only Python's standard library (3.9+) is used. ``check()`` never raises for
what the network, TLS or HTTP did: every such outcome is a result with a ``reason`` and a ``stage``
from the table in INTERFACE.md. Only a malformed request (bad url, missing ca_path) raises VipMtlsError.

What the server did during the handshake (did it ask for a client certificate, which CAs it named,
which chain it sent) is observed with ssl's message callback where this Python has one; what cannot
be observed is reported as None, never guessed.
"""

from __future__ import annotations

import errno
import ipaddress
import math
import os
import re
import socket
import ssl
import threading
import time
from urllib.parse import urlsplit

from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.module_utils.tls_wire import (
    HandshakeObserver,
    describe_der,
    verified_chain_ders,
)

USER_AGENT = "vip.mtls"
MAX_BODY = 64 * 1024  # enough to see an error page; a probe never needs the whole answer
DETAIL_BODY_CHARS = 300
MAX_TIMEOUT = 3600  # seconds; more is a typo, and beyond ~1e9 the platform's time_t overflows
MESSAGE_DETAIL_CHARS = 200  # how much of detail the module's failure message repeats

HINTS = {
    "ok": "the handshake completed and the server answered over HTTP",
    "client_cert_invalid": "fix the client certificate or key on this host (deploy them again with "
                           "vip.mtls.client_cert)",
    "dns_failure": "the host name does not resolve on this host: check the URL and this host's DNS resolver",
    "connect_refused": "nothing accepts connections at this address and port: check the URL's port, the service "
                       "and any firewall that rejects the connection",
    "connect_timeout": "no TCP connection could be made: check routing and firewalls, and whether this host "
                       "needs a proxy",
    "tls_protocol_mismatch": "client and server share no TLS version or cipher (this check requires TLS 1.2 or "
                             "newer): check that the port speaks TLS and that the server allows TLS 1.2/1.3",
    "server_untrusted": "install the root CA the server chains to with vip.mtls.trust_anchor (for VIP: DigiCert "
                        "Global Root G2) or point ca_path at it",
    "server_hostname_mismatch": "the server certificate is not issued for this host name: use the name the service "
                                "publishes in the URL",
    "server_cert_expired": "the server certificate is outside its validity period: check this host's clock; if it "
                           "is right, the service owner must renew the certificate",
    "client_cert_required": "the server requires a client certificate: set client_cert and client_key (deploy them "
                            "with vip.mtls.client_cert)",
    "client_cert_rejected": "the server refused the client certificate: use a current certificate from a CA the "
                            "server trusts (for VIP: issued by VIP Manager), not expired or revoked",
    "http_error": "the server gave no valid HTTP answer: check the URL and that this port serves HTTPS",
    "timeout": "the server did not answer before the deadline: raise timeout, or check the server and anything "
               "in between (proxy, load balancer, firewall)",
}
DNS_TIMEOUT_HINT = ("the host name could not be resolved within the deadline: raise timeout, or check this host's "
                    "DNS resolver (is it reachable and answering?)")

# OpenSSL reason text of a failed handshake or read, lower case -> reason. Received alerts read
# "sslv3 alert bad certificate" / "tlsv13 alert certificate required"; first match wins.
TLS_ERROR_REASONS = (
    ("certificate required", "client_cert_required"),
    ("unsupported protocol", "tls_protocol_mismatch"),
    ("protocol version", "tls_protocol_mismatch"),
    ("no protocols available", "tls_protocol_mismatch"),
    ("wrong version number", "tls_protocol_mismatch"),
    ("insufficient security", "tls_protocol_mismatch"),
    ("no shared cipher", "tls_protocol_mismatch"),
    ("bad certificate", "client_cert_rejected"),
    ("unknown ca", "client_cert_rejected"),
    ("certificate expired", "client_cert_rejected"),
    ("certificate unknown", "client_cert_rejected"),
    ("certificate revoked", "client_cert_rejected"),
    ("unsupported certificate", "client_cert_rejected"),
    ("access denied", "client_cert_rejected"),
    ("decrypt error", "client_cert_rejected"),
)
# Alerts that say "handshake failed" without saying why, and a peer that just hung up: which
# reason they stand for depends on whether the server had asked for our certificate.
AMBIGUOUS_TLS_ERRORS = ("handshake failure", "unexpected eof", "eof occurred", "connection reset", "broken pipe")

# TLS alert numbers (RFC 8446 6.2) as OpenSSL words them, to name alerts seen by the message callback.
# X509_V_ERR_* codes of a failed server certificate verification; all others mean "untrusted".
VERIFY_CODE_REASONS = {
    9: "server_cert_expired",  # not yet valid
    10: "server_cert_expired",
    62: "server_hostname_mismatch",
    64: "server_hostname_mismatch",  # IP address mismatch
}

# nginx completes the handshake, then answers 400 with these page titles (or 496/495 when an
# error_page is set for its internal codes).
NGINX_CLIENT_CERT_PAGES = (
    ("No required SSL certificate was sent", "client_cert_required"),
    ("The SSL certificate error", "client_cert_rejected"),
)
NGINX_CLIENT_CERT_STATUS = {496: "client_cert_required", 495: "client_cert_rejected"}

NO_MTLS_WARNING = "the server did not ask for a client certificate: mutual TLS is not in force"
CERT_NOT_SENT_WARNING = ("the server asked for a client certificate but none was given, and it answered anyway: "
                         "set client_cert to test mutual TLS")


def check(url, client_cert=None, client_key=None, client_key_passphrase=None, ca_path=None, timeout=10.0,
          method="GET"):
    """Open ``url`` with the client certificate and report what happened.

    Returns a dict with ok, reason, stage, hint, detail, tls_version, cipher, http_status, address,
    elapsed_ms, server_chain, anchor, client_cert_requested, acceptable_client_cas and warnings.
    Raises VipMtlsError only for a request that cannot be a probe (bad url, missing ca_path, key without cert).
    """
    target = _parse_url(url)
    seconds = _parse_timeout(timeout)
    if client_key and not client_cert:
        raise VipMtlsError("client_key is set but client_cert is not: give the certificate too")
    probe = _Probe(target, method, seconds)
    return probe.run(client_cert, client_key, client_key_passphrase, ca_path)


def failure_message(result):
    """The one-line fail msg of a failed check: "REASON: HINT (DETAIL)", detail shortened.

    detail never holds key material (the local stage names files, never their content); a PEM
    private key block is still cut out here, so that no server answer can put one into a message.
    """
    message = "%s: %s" % (result["reason"], result["hint"])
    detail = " ".join(_redact_private_keys(result.get("detail") or "").split())
    if not detail:
        return message
    if len(detail) > MESSAGE_DETAIL_CHARS:
        detail = detail[:MESSAGE_DETAIL_CHARS - 3].rstrip() + "..."
    return "%s (%s)" % (message, detail)


_PRIVATE_KEY_BLOCK = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)",
                                re.DOTALL)


def _redact_private_keys(text):
    return _PRIVATE_KEY_BLOCK.sub("[private key left out]", text)


def _parse_timeout(timeout):
    """Seconds as a float: finite, > 0 and <= MAX_TIMEOUT, else a usage error."""
    try:
        seconds = float(timeout)
    except (TypeError, ValueError, OverflowError):
        seconds = None
    if seconds is None or not math.isfinite(seconds) or not 0 < seconds <= MAX_TIMEOUT:
        raise VipMtlsError("timeout must be a number of seconds greater than 0 and at most %d, got %r"
                           % (MAX_TIMEOUT, timeout))
    return seconds


def _seconds(value):
    """A duration for a detail text: 10s, 0.5s, 0.01s (never rounded to 0.0s)."""
    return "%gs" % float("%.3g" % value)


class _Failed(Exception):
    """Ends a probe early with a reason; internal, turned into a result by _Probe.run."""

    def __init__(self, reason, stage, detail, hint=None):
        super().__init__(detail)
        self.reason = reason
        self.stage = stage
        self.detail = detail
        self.hint = hint


class _Target:
    def __init__(self, host, port, path):
        self.host = host
        self.port = port
        self.path = path

    def host_header(self):
        host = "[%s]" % self.host if ":" in self.host else self.host
        return host if self.port == 443 else "%s:%d" % (host, self.port)


def _parse_url(url):
    parts = urlsplit(str(url or ""))
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise VipMtlsError("url must be an https:// URL with a host name, got %r" % (url,))
    try:
        port = parts.port or 443
    except ValueError:
        raise VipMtlsError("url %r has an invalid port" % (url,))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return _Target(parts.hostname, port, path)


class _Probe:
    def __init__(self, target, method, timeout):
        self.target = target
        self.method = method.upper()
        self.timeout = timeout
        self.observer = HandshakeObserver()
        self.started = time.monotonic()
        self.result = {
            "ok": False, "reason": None, "stage": None, "hint": None, "detail": None,
            "tls_version": None, "cipher": None, "http_status": None, "address": None, "elapsed_ms": 0,
            "server_chain": None, "anchor": None, "client_cert_requested": None,
            "acceptable_client_cas": None, "warnings": [],
        }

    def remaining(self):
        return self.timeout - (time.monotonic() - self.started)

    def run(self, client_cert, client_key, passphrase, ca_path):
        context = _client_context(ca_path)  # a bad ca_path raises VipMtlsError: a usage error
        try:
            if client_cert:
                _load_client_cert(context, client_cert, client_key, passphrase)
            self.observer.attach(context)
            addresses = self._resolve()
            sock = self._connect(addresses)
            # wrap_socket takes the connection over: from here on closing tls closes it
            tls = context.wrap_socket(sock, server_hostname=self.target.host, do_handshake_on_connect=False)
            try:
                self._handshake(tls)
                status_line, body = self._exchange(tls)
            finally:
                tls.close()
            self._finish_http(status_line, body)
        except _Failed as failure:
            self.result.update(reason=failure.reason, stage=failure.stage, detail=failure.detail,
                               hint=failure.hint or HINTS[failure.reason])
        if self.result["detail"]:
            # server answers are quoted in detail; a private key must not travel on even from there
            self.result["detail"] = _redact_private_keys(self.result["detail"])
        self._add_observations(client_cert)
        self.result["elapsed_ms"] = int(round((time.monotonic() - self.started) * 1000))
        return self.result

    def _resolve(self):
        if _is_ip_literal(self.target.host):
            # no resolver involved: getaddrinfo only converts the address, at once
            try:
                return socket.getaddrinfo(self.target.host, self.target.port, type=socket.SOCK_STREAM,
                                          flags=socket.AI_NUMERICHOST)
            except OSError as exc:
                raise _Failed("dns_failure", "dns", "%s: %s" % (self.target.host, _os_error_text(exc)))
        # getaddrinfo has no timeout of its own; a daemon thread lets the deadline cover DNS too
        # (a lookup still running is abandoned, it ends with the process).
        outcome = {}

        def lookup():
            try:
                outcome["addresses"] = socket.getaddrinfo(self.target.host, self.target.port, type=socket.SOCK_STREAM)
            except (OSError, UnicodeError) as exc:
                outcome["error"] = exc

        worker = threading.Thread(target=lookup, name="vip-mtls-dns", daemon=True)
        worker.start()
        worker.join(max(self.remaining(), 0.0))
        if worker.is_alive():
            # the resolver is slow, not saying "no such name": the deadline ran out at stage dns
            raise _Failed("timeout", "dns", "%s: no answer from the resolver within %s"
                          % (self.target.host, _seconds(self.timeout)), DNS_TIMEOUT_HINT)
        if "error" in outcome:
            raise _Failed("dns_failure", "dns", "%s: %s" % (self.target.host, _os_error_text(outcome["error"])))
        return outcome["addresses"]

    def _connect(self, addresses):
        # Every address is tried in resolver order, like socket.create_connection, but with the
        # one deadline; "refused" wins the report because it proves the host was reached.
        failures = []
        refused = False
        for family, kind, proto, _name, sockaddr in addresses:
            address = _format_address(sockaddr)
            if self.remaining() <= 0:
                failures.append("%s: not tried, deadline reached" % address)
                break
            sock = None
            try:
                sock = socket.socket(family, kind, proto)
                sock.settimeout(self.remaining())
                sock.connect(sockaddr)
            except socket.timeout:
                sock.close()
                failures.append("%s: timed out" % address)
                continue
            except OSError as exc:
                if sock is not None:
                    sock.close()
                refused = refused or exc.errno in (errno.ECONNREFUSED, errno.ECONNRESET)
                failures.append("%s: %s" % (address, _os_error_text(exc)))
                continue
            self.result["address"] = address
            return sock
        raise _Failed("connect_refused" if refused else "connect_timeout", "connect", "; ".join(failures))

    def _handshake(self, tls):
        try:
            tls.settimeout(max(self.remaining(), 0.001))
            tls.do_handshake()
        except socket.timeout:
            raise _Failed("timeout", "tls", "no TLS handshake within %s" % _seconds(self.timeout))
        except ssl.SSLCertVerificationError as exc:
            raise self._server_verify_failure(exc)
        except OSError as exc:  # SSLError and resets alike
            raise self._tls_failure(exc, "during the TLS handshake")
        self.result["tls_version"] = tls.version()
        cipher = tls.cipher()
        self.result["cipher"] = cipher[0] if cipher else None
        self.observer.handshake_completed = True
        self._record_chain(tls)

    def _exchange(self, tls):
        request = (
            "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\nConnection: close\r\n%s\r\n"
            % (self.method, self.target.path, self.target.host_header(), USER_AGENT,
               "Content-Length: 0\r\n" if self.method in ("POST", "PUT", "PATCH") else "")
        ).encode("latin-1")
        response = b""
        try:
            try:
                tls.settimeout(max(self.remaining(), 0.001))
                tls.sendall(request)
            except (ssl.SSLError, ConnectionError):
                # A TLS 1.3 server that refuses our certificate may close before our request is
                # written; its alert may still be readable, so read before classifying.
                pass
            while not _response_complete(response, self.method):
                if self.remaining() <= 0:
                    raise socket.timeout()
                tls.settimeout(self.remaining())
                chunk = tls.recv(16384)
                if not chunk:
                    break
                response += chunk
        except socket.timeout:
            if not _STATUS_LINE.match(response):
                raise _Failed("timeout", "http", "no HTTP answer within %s after the handshake"
                              % _seconds(self.timeout))
            # an answer has started; what arrived is enough to judge it
        except OSError as exc:
            # In TLS 1.3 the server judges our certificate after our side of the handshake has
            # completed, so its refusal arrives here, on the first read: still a TLS failure.
            if not _STATUS_LINE.match(response):
                raise self._tls_failure(exc, "after the TLS handshake, before any HTTP answer")
        return _parse_response(response, self._certificate_outcome())

    def _finish_http(self, status_line, body_text):
        detail = status_line
        if body_text:
            detail += " | " + " ".join(body_text[:DETAIL_BODY_CHARS].split())
        http_status = int(status_line.split()[1])
        self.result["http_status"] = http_status
        reason = NGINX_CLIENT_CERT_STATUS.get(http_status)
        if http_status == 400:
            for marker, marker_reason in NGINX_CLIENT_CERT_PAGES:
                if marker in body_text:
                    reason = marker_reason
        if reason:
            raise _Failed(reason, "http", detail)
        self.result.update(ok=True, reason="ok", stage=None, hint=HINTS["ok"], detail=detail)

    def _server_verify_failure(self, exc):
        code = getattr(exc, "verify_code", None)
        detail = "%s (verify code %s)" % (getattr(exc, "verify_message", None) or exc, code)
        reason = VERIFY_CODE_REASONS.get(code, "server_untrusted")
        leaf, top = self.observer.server_certificate_names()
        hint = None
        if reason == "server_untrusted" and top:
            issuer = top["issuer"]
            hint = ("the server chain needs the root %s, which this host does not trust: install it with "
                    "vip.mtls.trust_anchor (for VIP: DigiCert Global Root G2) or point ca_path at it" % issuer)
        if leaf:
            detail += "; server certificate subject %s, issuer %s, not after %s" % (
                leaf["subject"], leaf["issuer"], leaf["not_after"])
        return _Failed(reason, "tls", detail, hint)

    def _tls_failure(self, exc, when):
        """Classify a failed handshake or a failed first read by the alert or error it carried."""
        text = "%s %s" % (_os_error_text(exc), " ".join("alert " + a for a in self.observer.alert_names()))
        lowered = text.lower()
        detail = "%s: %s" % (when, _os_error_text(exc))
        if self.observer.alert_names():
            detail += " (alert received: %s)" % ", ".join(self.observer.alert_names())
        if isinstance(exc, socket.timeout):
            return _Failed("timeout", "tls", detail)
        for marker, reason in TLS_ERROR_REASONS:
            if marker in lowered:
                if reason == "client_cert_rejected" and self.observer.cert_requested is False:
                    reason = "tls_protocol_mismatch"  # certificate alerts without mutual TLS: not about ours
                return _Failed(reason, "tls", detail)
        if any(marker in lowered for marker in AMBIGUOUS_TLS_ERRORS) or isinstance(exc, ConnectionError):
            reason = self._certificate_outcome()
            if reason:
                return _Failed(reason, "tls", detail)
            if self.observer.handshake_completed:
                return _Failed("http_error", "http", "%s: the server closed the connection without an HTTP answer"
                               % when)
        return _Failed("tls_protocol_mismatch", "tls", detail)

    def _certificate_outcome(self):
        """client_cert_required/rejected when the server asked for a certificate, else None."""
        if not self.observer.cert_requested:
            return None
        return "client_cert_rejected" if self.observer.client_certs_sent else "client_cert_required"

    def _record_chain(self, tls):
        ders = verified_chain_ders(tls)
        if ders is None:
            return
        chain = [describe_der(der) for der in ders]
        self.result["server_chain"] = chain
        self.result["anchor"] = chain[-1] if chain else None

    def _add_observations(self, client_cert):
        observer = self.observer
        if observer.available:
            self.result["client_cert_requested"] = observer.cert_requested
            if observer.cert_requested:
                self.result["acceptable_client_cas"] = observer.acceptable_cas
        if self.result["ok"]:
            if observer.cert_requested is False:
                self.result["warnings"].append(NO_MTLS_WARNING)
            elif observer.cert_requested and not client_cert:
                self.result["warnings"].append(CERT_NOT_SENT_WARNING)


# --- local stage -------------------------------------------------------------------------------


def _client_context(ca_path):
    # Plain PROTOCOL_TLS_CLIENT rather than create_default_context: the same verification on every
    # Python (3.13 adds strict and partial-chain flags there), and a chain must end at a trusted root.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    if ca_path is None:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
        return context
    if not os.path.exists(ca_path):
        raise VipMtlsError("ca_path %s does not exist: give a CA file or directory, or omit it for the system store"
                           % ca_path)
    try:
        if os.path.isdir(ca_path):
            context.load_verify_locations(capath=ca_path)
        else:
            context.load_verify_locations(cafile=ca_path)
    except (ssl.SSLError, OSError) as exc:
        raise VipMtlsError("ca_path %s holds no usable PEM certificate: %s" % (ca_path, _os_error_text(exc)))
    return context


def _load_client_cert(context, cert_path, key_path, passphrase):
    """Load certificate and key, failing with client_cert_invalid before any connection is made."""
    cert_text = _read_local(cert_path, "client_cert")
    key_text = _read_local(key_path, "client_key") if key_path else cert_text
    # Details name the files, never quote them: a key file's content must not reach a result.
    if "-----BEGIN CERTIFICATE-----" not in cert_text:
        raise _Failed("client_cert_invalid", "local", "client_cert %s holds no PEM certificate (PKCS#12 and DER "
                      "are not read here: deploy the certificate with vip.mtls.client_cert)" % cert_path)
    if not _PEM_PRIVATE_KEY.search(key_text):
        if key_path:
            detail = "client_key %s holds no PEM private key" % key_path
        else:
            detail = ("client_cert %s holds no PEM private key and client_key is not set: set client_key to the "
                      "key file" % cert_path)
        raise _Failed("client_cert_invalid", "local", detail)

    asked = []

    def password():
        # Always a callable: without one OpenSSL would prompt on the terminal for an encrypted key.
        asked.append(True)
        return passphrase.encode("utf-8") if passphrase else b""

    try:
        context.load_cert_chain(cert_path, key_path, password=password)
    except ssl.SSLError as exc:
        if getattr(exc, "reason", None) == "KEY_VALUES_MISMATCH":
            detail = "the private key in %s does not belong to the certificate in %s" % (
                key_path or cert_path, cert_path)
        elif asked and not passphrase:
            detail = "the private key is encrypted and no client_key_passphrase was given"
        elif asked:
            detail = "the private key could not be decrypted: wrong client_key_passphrase"
        else:
            detail = "certificate or key could not be loaded: %s" % _os_error_text(exc)
        raise _Failed("client_cert_invalid", "local", detail)
    _check_validity(cert_path)


_PEM_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")


def _is_ip_literal(host):
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _read_local(path, option):
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("latin-1")
    except OSError as exc:
        raise _Failed("client_cert_invalid", "local", "%s %s cannot be read: %s" % (
            option, path, _os_error_text(exc)))


def _check_validity(cert_path):
    # ssl has no public way to decode a certificate file; _test_decode_cert is private, so a
    # Python without it simply skips the date check.
    decode = getattr(getattr(ssl, "_ssl", None), "_test_decode_cert", None)
    if decode is None:
        return
    try:
        info = decode(cert_path)
        not_before = ssl.cert_time_to_seconds(info["notBefore"])
        not_after = ssl.cert_time_to_seconds(info["notAfter"])
    except Exception:  # an undecodable date is not worth failing a probe over
        return
    now = time.time()
    if now > not_after:
        raise _Failed("client_cert_invalid", "local", "the client certificate in %s expired on %s"
                      % (cert_path, info["notAfter"]))
    if now < not_before:
        raise _Failed("client_cert_invalid", "local", "the client certificate in %s is not valid before %s "
                      "(check this host's clock)" % (cert_path, info["notBefore"]))


# --- HTTP --------------------------------------------------------------------------------------

_STATUS_LINE = re.compile(rb"HTTP/\d(?:\.\d)? (\d{3})(?: [^\r\n]*)?\r?\n")


def _response_complete(response, method):
    head_end = response.find(b"\r\n\r\n")
    if head_end < 0:
        return len(response) > MAX_BODY  # no end of headers in 64 KiB: this is not going to be HTTP
    status = _STATUS_LINE.match(response)
    if method == "HEAD" or (status and status.group(1) in (b"204", b"304")):
        return True  # no body follows
    body = response[head_end + 4:]
    if len(body) >= MAX_BODY:
        return True
    headers = response[:head_end].lower()
    length = re.search(rb"\r\ncontent-length:\s*(\d+)", headers)
    if length:
        return len(body) >= int(length.group(1))
    if re.search(rb"\r\ntransfer-encoding:[^\r\n]*chunked", headers):
        return body.startswith(b"0\r\n\r\n") or b"\r\n0\r\n\r\n" in body
    return False  # delimited by the server closing (we asked for Connection: close): read on


def _parse_response(response, certificate_outcome):
    """(status line, start of body) of a response; _Failed when there is no HTTP answer."""
    status = _STATUS_LINE.match(response)
    if not status:
        if not response:
            if certificate_outcome:
                # the server hung up instead of answering after it had asked for a certificate
                raise _Failed(certificate_outcome, "tls", "the server closed the connection after the handshake "
                              "without an HTTP answer")
            raise _Failed("http_error", "http", "the server closed the connection without an HTTP answer")
        raise _Failed("http_error", "http", "not an HTTP answer: %r" % response[:120])
    status_line = response[:status.end()].decode("latin-1").strip()
    head_end = response.find(b"\r\n\r\n")
    body = response[head_end + 4:head_end + 4 + MAX_BODY] if head_end >= 0 else b""
    return status_line, body.decode("utf-8", "replace")


def _format_address(sockaddr):
    host, port = sockaddr[0], sockaddr[1]
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def _os_error_text(exc):
    if isinstance(exc, ssl.SSLError):
        return str(exc)
    if getattr(exc, "errno", None) is not None:
        name = errno.errorcode.get(exc.errno, "")
        return "[Errno %s%s] %s" % (exc.errno, " " + name if name else "", exc.strerror or exc)
    return str(exc) or type(exc).__name__
