# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reachability check of vip.mtls.mtls_check: one HTTPS request with a client certificate.

Runs on TARGETS, so only Python's standard library (3.9+) is used; the one exception is the
optional PKCS#12 route, which uses cryptography only if the target happens to have it.
``check()`` never raises for what the network, a proxy, TLS, HTTP or the application did: every
such outcome is a result with a ``reason`` and a ``stage`` from the table in INTERFACE.md. Only a
request that cannot be a probe (bad url, missing ca_path, bad option values) raises VipMtlsError.

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
import secrets
import shutil
import socket
import ssl
import sys
import tempfile
import threading
import time
from urllib.parse import urlsplit

from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.module_utils.pem import certificate_ders
from ansible_collections.vip.mtls.plugins.module_utils.tls_wire import (
    HandshakeObserver,
    ProxyError,
    dechunk,
    describe_der,
    get_server_time_request,
    parse_proxy,
    parse_proxy_answer,
    proxy_from_env,
    soap_field,
    verified_chain_ders,
)

USER_AGENT = "vip.mtls"
MAX_BODY = 64 * 1024  # enough to see an error page; a probe never needs the whole answer
DETAIL_BODY_CHARS = 300
MAX_TIMEOUT = 3600  # seconds; more is a typo, and beyond ~1e9 the platform's time_t overflows
MAX_RETRIES = 100
MESSAGE_DETAIL_CHARS = 200  # how much of detail the module's failure message repeats

TLS_MIN_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
PROBES = ("http", "vip_get_server_time")

HINTS = {
    "ok": "the handshake completed and the server answered over HTTP",
    "client_cert_invalid": "fix the client certificate or key on this host (deploy them again with "
                           "vip.mtls.client_cert)",
    "dns_failure": "the host name does not resolve on this host: check the URL and this host's DNS resolver",
    "connect_refused": "nothing accepts connections at this address and port: check the URL's port, the service "
                       "and any firewall that rejects the connection",
    "connect_timeout": "no TCP connection could be made: check routing and firewalls, and whether this host "
                       "needs a proxy",
    "proxy_failure": "the proxy did not open a tunnel to the service: check the proxy setting and ask the proxy's "
                     "administrators to allow CONNECT to the service's host and port",
    "tls_protocol_mismatch": "client and server share no TLS version or cipher (this check requires TLS %s or "
                             "newer): check that the port speaks TLS and that the server allows TLS 1.2/1.3",
    "server_untrusted": "install the root CA the server chains to with vip.mtls.trust_anchor (for VIP: DigiCert "
                        "Global Root G2) or point ca_path at it",
    "server_hostname_mismatch": "the server certificate is not issued for this host name: use the name the service "
                                "publishes in the URL (or in server_name)",
    "server_cert_expired": "the server certificate is outside its validity period: check this host's clock; if it "
                           "is right, the service owner must renew the certificate",
    "client_cert_required": "the server requires a client certificate: set client_cert and client_key (deploy them "
                            "with vip.mtls.client_cert)",
    "client_cert_rejected": "the server refused the client certificate: use a current certificate from a CA the "
                            "server trusts (for VIP: issued by VIP Manager), not expired or revoked",
    "http_error": "the server gave no valid HTTP answer: check the URL and that this port serves HTTPS",
    "application_error": "the service answered getServerTime without status 0000: check that the URL is VIP's "
                         "QueryService (.../vipuserservices/QueryService_1_8) and read statusMessage in detail",
    "timeout": "the server did not answer before the deadline: raise timeout, or check the server and anything "
               "in between (proxy, load balancer, firewall)",
}
DNS_TIMEOUT_HINT = ("the host name could not be resolved within the deadline: raise timeout, or check this host's "
                    "DNS resolver (is it reachable and answering?)")
EXPECTED_STATUS_HINT = ("the server answered with a status outside expected_status: check the URL's path and the "
                        "service's health")
PKCS12_HINT = ("this host cannot open PKCS#12 files (no Python cryptography library): deploy the certificate as PEM "
               "with vip.mtls.client_cert and set client_cert and client_key")
PROXY_HINTS = {
    "dns": "the proxy's host name does not resolve on this host: check the proxy setting (proxy or https_proxy) "
           "and this host's DNS resolver",
    "unreachable": "the proxy is not reachable from this host: check the proxy setting (proxy or https_proxy), that "
                   "the proxy runs, and any firewall between this host and the proxy",
    "auth_missing": "the proxy requires credentials: give them in the proxy URL (http://user:password@host:port)",
    "auth_refused": "the proxy refused the credentials in the proxy URL: check user and password with the proxy's "
                    "administrators",
    "refused": "the proxy refused to open a tunnel to the service: ask its administrators to allow CONNECT to this "
               "host and port (proxies often allow only port 443)",
    "upstream": "the proxy could not reach the service: check the URL's host and port, and the proxy's DNS and "
                "outbound access",
    "closed": "the proxy closed the connection without answering CONNECT: check that it is an HTTP proxy and that "
              "it allows this host",
    "not_http": "the proxy's answer to CONNECT is not HTTP: point proxy at an HTTP proxy (not SOCKS, not a web server)",
    "timeout": "the proxy did not answer CONNECT before the deadline: raise timeout, or check the proxy",
}

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

# X509_V_ERR_* codes of a failed server certificate verification; all others mean "untrusted".
VERIFY_CODE_REASONS = {
    9: "server_cert_expired",  # not yet valid
    10: "server_cert_expired",
    62: "server_hostname_mismatch",
    64: "server_hostname_mismatch",  # IP address mismatch
}

# errno of a failed connect() that proves the host was reached and said no; everything else
# (timeouts, unreachable networks and hosts) reads as "no connection could be made".
REFUSED_ERRNOS = (errno.ECONNREFUSED, errno.ECONNRESET)

# Failures worth another attempt: the path or the service may come back. A refused or untrusted
# certificate, a DNS name that does not exist or a usage problem will not change by waiting.
TRANSIENT_REASONS = ("connect_refused", "connect_timeout", "timeout")

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
          method="GET", proxy=None, use_proxy_env=False, server_name=None, address=None, tls_min_version="1.2",
          anchors=None, client_pkcs12=None, client_pkcs12_passphrase=None, probe="http", expected_status=None,
          retries=0, delay=1.0, environ=None):
    """Open ``url`` with the client certificate and report what happened.

    Returns a dict with ok, reason, stage, hint, detail, tls_version, cipher, http_status, address,
    elapsed_ms, server_chain, anchor, client_cert_requested, acceptable_client_cas, warnings, attempts
    and proxy (the proxy URL used, password masked). ``environ`` (default os.environ) is where
    use_proxy_env looks. Raises VipMtlsError only for a request that cannot be a probe.
    """
    target = _parse_url(url)
    seconds = _parse_timeout(timeout)
    if client_key and not client_cert:
        raise VipMtlsError("client_key is set but client_cert is not: give the certificate too")
    if client_pkcs12 and client_cert:
        raise VipMtlsError("client_pkcs12 and client_cert are two ways to give the client certificate: set one")
    if client_pkcs12_passphrase and not client_pkcs12:
        raise VipMtlsError("client_pkcs12_passphrase is set but client_pkcs12 is not")
    if ca_path and anchors:
        raise VipMtlsError("ca_path and anchors both say what to trust: set one (anchors replace the system store)")
    min_version = _parse_min_version(tls_min_version)
    retries, delay = _parse_retries(retries, delay)
    request = _Request(target, method, probe, expected_status, server_name)
    route = _Route(target, server_name, address, proxy, use_proxy_env, environ)
    context = _client_context(ca_path, anchors, min_version)  # a bad ca_path raises: a usage error

    started = time.monotonic()
    deadline = started + seconds
    attempts = 0
    earlier = []
    try:
        _load_credentials(context, client_cert, client_key, client_key_passphrase, client_pkcs12,
                          client_pkcs12_passphrase)
    except _Failed as failure:
        # nothing was sent: a local problem does not improve with retries
        result = _new_result()
        _apply_failure(result, failure, min_version)
    else:
        while True:
            attempts += 1
            attempt = _Probe(route, request, context, deadline, seconds, min_version, anchors or ca_path)
            result = attempt.run(bool(client_cert or client_pkcs12))
            if result["ok"] or not attempt.transient or attempts > retries:
                break
            # no retry that could not finish: the deadline covers every attempt
            if deadline - time.monotonic() <= delay:
                break
            earlier.append(result["reason"])
            time.sleep(delay)
    if result["ok"] and earlier:
        result["warnings"].append("succeeded on attempt %d; earlier attempts failed with %s"
                                  % (attempts, ", ".join(earlier)))
    _compare_client_issuer(result, client_cert)
    result["attempts"] = attempts
    result["proxy"] = route.proxy.masked() if route.proxy else None
    result["elapsed_ms"] = int(round((time.monotonic() - started) * 1000))
    return result


def _compare_client_issuer(result, client_cert):
    """Is our certificate's issuer among the CAs the server said it accepts? Only when both are known."""
    result["client_cert_issuer"] = None
    if not client_cert:
        return
    try:
        with open(client_cert, "rb") as handle:
            ders = certificate_ders(handle.read(1024 * 1024))
    except OSError:
        return
    issuer = describe_der(ders[0])["issuer"] if ders else None
    result["client_cert_issuer"] = issuer
    acceptable = result.get("acceptable_client_cas")
    if not issuer or not acceptable or issuer in acceptable:
        return
    note = ("the server accepts client certificates issued by %s; ours is issued by %s"
            % ("; ".join(acceptable), issuer))
    if result["reason"] == "client_cert_rejected":
        result["hint"] = "%s (%s)" % (result["hint"], note)
    else:
        result["warnings"].append(note)


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


# --- options ----------------------------------------------------------------------------------


def _parse_timeout(timeout):
    """Seconds as a float: finite, > 0 and <= MAX_TIMEOUT, else a usage error."""
    seconds = _number(timeout)
    if seconds is None or not 0 < seconds <= MAX_TIMEOUT:
        raise VipMtlsError("timeout must be a number of seconds greater than 0 and at most %d, got %r"
                           % (MAX_TIMEOUT, timeout))
    return seconds


def _number(value):
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _parse_min_version(value):
    text = str(value if value is not None else "1.2").strip()
    if text not in TLS_MIN_VERSIONS:
        raise VipMtlsError("tls_min_version must be 1.2 or 1.3, got %r" % (value,))
    return text


def _parse_retries(retries, delay):
    try:
        count = int(retries if retries is not None else 0)
    except (TypeError, ValueError):
        count = -1
    if not 0 <= count <= MAX_RETRIES or str(retries).strip() not in (str(count), "None"):
        raise VipMtlsError("retries must be a whole number from 0 to %d, got %r" % (MAX_RETRIES, retries))
    seconds = _number(1.0 if delay is None else delay)
    if seconds is None or not 0 <= seconds <= MAX_TIMEOUT:
        raise VipMtlsError("delay must be a number of seconds from 0 to %d, got %r" % (MAX_TIMEOUT, delay))
    return count, seconds


def _seconds(value):
    """A duration for a detail text: 10s, 0.5s, 0.01s (never rounded to 0.0s)."""
    return "%gs" % float("%.3g" % value)


class _Failed(Exception):
    """Ends a probe early with a reason; internal, turned into a result by _apply_failure."""

    def __init__(self, reason, stage, detail, hint=None, transient=None):
        super().__init__(detail)
        self.reason = reason
        self.stage = stage
        self.detail = detail
        self.hint = hint
        self.transient = reason in TRANSIENT_REASONS if transient is None else transient


def _new_result():
    return {
        "ok": False, "reason": None, "stage": None, "hint": None, "detail": None,
        "tls_version": None, "cipher": None, "http_status": None, "address": None, "elapsed_ms": 0,
        "server_chain": None, "anchor": None, "client_cert_requested": None,
        "acceptable_client_cas": None, "warnings": [],
    }


def _apply_failure(result, failure, min_version):
    hint = failure.hint or HINTS[failure.reason]
    if failure.reason == "tls_protocol_mismatch" and not failure.hint:
        hint = hint % min_version
    result.update(reason=failure.reason, stage=failure.stage, detail=failure.detail, hint=hint)


class _Target:
    def __init__(self, host, port, path):
        self.host = host
        self.port = port
        self.path = path

    def host_header(self):
        return _authority(self.host, self.port, 443)


def _authority(host, port, default_port=None):
    host = "[%s]" % host if ":" in host else host
    return host if port == default_port else "%s:%d" % (host, port)


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


_HOST_NAME = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?$")


def _parse_host(value, option):
    host = str(value).strip().strip("[]") if value is not None else ""
    if not (_HOST_NAME.match(host) or _is_ip_literal(host)):
        raise VipMtlsError("%s must be a host name or IP address, got %r" % (option, value))
    return host


def _parse_address(value, default_port):
    """(host, port) from address: a host name or IP, optionally with :port ([v6]:port for IPv6)."""
    text = str(value).strip()
    port = None
    if text.startswith("[") and "]:" in text:
        text, port = text[1:].split("]:", 1)
    elif text.count(":") == 1:
        text, port = text.split(":")
    host = _parse_host(text, "address")
    if port is None:
        return host, default_port
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise VipMtlsError("address %r has an invalid port" % (value,))
    return host, int(port)


class _Route:
    """Where the TCP connection goes (address or url host, maybe via a proxy) and which name TLS checks.

    The name TLS sends (SNI) and verifies is always the service's, never the proxy's or the address's.
    """

    def __init__(self, target, server_name, address, proxy, use_proxy_env, environ):
        self.tls_name = _parse_host(server_name, "server_name") if server_name else target.host
        if address:
            self.host, self.port = _parse_address(address, target.port)
        else:
            self.host, self.port = target.host, target.port
        self.proxy = None
        try:
            if proxy:
                self.proxy = parse_proxy(proxy, "proxy")  # an explicit proxy always applies
            elif use_proxy_env:
                self.proxy, _why = proxy_from_env([target.host, self.host], environ)
        except ProxyError as exc:
            raise VipMtlsError(str(exc))


class _Request:
    """The HTTP request of the probe and what its answer must be."""

    def __init__(self, target, method, probe, expected_status, server_name):
        if probe not in PROBES:
            raise VipMtlsError("probe must be one of %s, got %r" % (", ".join(PROBES), probe))
        self.probe = probe
        self.path = target.path
        self.host_header = _authority(server_name, target.port, 443) if server_name else target.host_header()
        self.expected_status = _parse_expected_status(expected_status)
        self.method = method.upper()
        self.headers = []
        self.body = b""
        if probe == "vip_get_server_time":
            self.method = "POST"
            # VIP caps requestId in length; 24 hex characters are unique enough to find in its logs
            self.request_id = "vipmtls" + secrets.token_hex(12)
            self.body = get_server_time_request(self.request_id)
            self.headers = ["Content-Type: text/xml; charset=utf-8", 'SOAPAction: ""']

    def encode(self):
        lines = ["%s %s HTTP/1.1" % (self.method, self.path), "Host: %s" % self.host_header,
                 "User-Agent: %s" % USER_AGENT, "Accept: */*", "Connection: close"] + self.headers
        if self.body or self.method in ("POST", "PUT", "PATCH"):
            lines.append("Content-Length: %d" % len(self.body))
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


def _parse_expected_status(values):
    if values is None:
        return None
    if isinstance(values, (str, int)):
        values = [values]
    statuses = []
    for value in values:
        try:
            status = int(value)
        except (TypeError, ValueError):
            status = 0
        if not 100 <= status <= 599 or str(value).strip() != str(status):
            raise VipMtlsError("expected_status must be a list of HTTP status codes (100-599), got %r" % (value,))
        statuses.append(status)
    return statuses or None


# --- one attempt --------------------------------------------------------------------------------


class _Probe:
    def __init__(self, route, request, context, deadline, timeout, min_version, explicit_trust):
        self.route = route
        self.request = request
        self.context = context
        self.deadline = deadline
        self.timeout = timeout
        self.min_version = min_version
        self.explicit_trust = explicit_trust
        self.observer = HandshakeObserver()
        self.transient = False
        self.result = _new_result()

    def remaining(self):
        return self.deadline - time.monotonic()

    def run(self, has_client_cert):
        try:
            self.observer.attach(self.context)
            if self.route.proxy:
                sock = self._through_proxy()
            else:
                sock = self._connect(self._resolve(self.route.host, self.route.port))
            # wrap_socket takes the connection over: from here on closing tls closes it
            tls = self.context.wrap_socket(sock, server_hostname=self.route.tls_name,
                                           do_handshake_on_connect=False)
            try:
                self._handshake(tls)
                status_line, body = self._exchange(tls)
            finally:
                tls.close()
            self._finish_http(status_line, body)
        except _Failed as failure:
            self.transient = failure.transient
            _apply_failure(self.result, failure, self.min_version)
        if self.result["detail"]:
            # server answers are quoted in detail; a private key must not travel on even from there
            self.result["detail"] = _redact_private_keys(self.result["detail"])
        self._add_observations(has_client_cert)
        return self.result

    # -- dns and tcp --

    def _resolve(self, host, port, proxy=None):
        what = "proxy %s: " % proxy.masked() if proxy else ""
        if _is_ip_literal(host):
            # no resolver involved: getaddrinfo only converts the address, at once
            try:
                return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
            except OSError as exc:
                raise self._dns_failure(proxy, "%s%s: %s" % (what, host, _os_error_text(exc)))
        # getaddrinfo has no timeout of its own; a daemon thread lets the deadline cover DNS too
        # (a lookup still running is abandoned, it ends with the process).
        outcome = {}

        def lookup():
            try:
                outcome["addresses"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (OSError, UnicodeError) as exc:
                outcome["error"] = exc

        worker = threading.Thread(target=lookup, name="vip-mtls-dns", daemon=True)
        worker.start()
        worker.join(max(self.remaining(), 0.0))
        if worker.is_alive():
            # the resolver is slow, not saying "no such name": the deadline ran out at stage dns
            detail = "%s%s: no answer from the resolver within %s" % (what, host, _seconds(self.timeout))
            if proxy:
                raise _Failed("proxy_failure", "proxy", "not reachable: " + detail, PROXY_HINTS["dns"], True)
            raise _Failed("timeout", "dns", detail, DNS_TIMEOUT_HINT)
        if "error" in outcome:
            raise self._dns_failure(proxy, "%s%s: %s" % (what, host, _os_error_text(outcome["error"])))
        return outcome["addresses"]

    @staticmethod
    def _dns_failure(proxy, detail):
        if proxy:
            return _Failed("proxy_failure", "proxy", "not reachable (its name does not resolve): " + detail,
                           PROXY_HINTS["dns"])
        return _Failed("dns_failure", "dns", detail)

    def _connect(self, addresses, proxy=None):
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
                refused = refused or connect_failure_reason(exc.errno) == "connect_refused"
                failures.append("%s: %s" % (address, _os_error_text(exc)))
                continue
            self.result["address"] = address
            return sock
        if proxy:
            raise _Failed("proxy_failure", "proxy", "proxy %s not reachable (%s): %s" % (
                proxy.masked(), "connection refused" if refused else "no connection", "; ".join(failures)),
                PROXY_HINTS["unreachable"], transient=True)
        raise _Failed("connect_refused" if refused else "connect_timeout", "connect", "; ".join(failures))

    def _through_proxy(self):
        """A TCP connection to the service tunnelled through the proxy with CONNECT."""
        proxy = self.route.proxy
        sock = self._connect(self._resolve(proxy.host, proxy.port, proxy), proxy)
        authority = _authority(self.route.host, self.route.port)
        where = "proxy %s, CONNECT %s" % (proxy.masked(), authority)
        head = b""
        try:
            sock.settimeout(max(self.remaining(), 0.001))
            sock.sendall(proxy.connect_request(self.route.host, self.route.port))
            # A proxy sends nothing after its answer until the TLS client speaks, so reading up
            # to the blank line cannot swallow bytes of the tunnel.
            while b"\r\n\r\n" not in head and len(head) < 16384:
                if self.remaining() <= 0:
                    raise socket.timeout()
                sock.settimeout(self.remaining())
                chunk = sock.recv(4096)
                if not chunk:
                    break
                head += chunk
        except socket.timeout:
            sock.close()
            raise _Failed("timeout", "proxy", "%s: no answer within %s" % (where, _seconds(self.timeout)),
                          PROXY_HINTS["timeout"])
        except OSError as exc:
            if not head:
                sock.close()
                raise _Failed("proxy_failure", "proxy", "%s: the proxy closed the connection: %s"
                              % (where, _os_error_text(exc)), PROXY_HINTS["closed"], transient=True)
        status, status_line = parse_proxy_answer(head)
        if status is not None and 200 <= status < 300:
            return sock
        sock.close()
        if not head:
            raise _Failed("proxy_failure", "proxy", "%s: the proxy closed the connection without an answer" % where,
                          PROXY_HINTS["closed"], transient=True)
        if status is None:
            raise _Failed("proxy_failure", "proxy", "%s: not an HTTP answer: %r" % (where, head[:60]),
                          PROXY_HINTS["not_http"])
        if status == 407:
            hint = PROXY_HINTS["auth_refused" if proxy.username is not None else "auth_missing"]
        elif status >= 500:
            hint = PROXY_HINTS["upstream"]
        else:
            hint = PROXY_HINTS["refused"]
        # the status line is the proxy's own words; the request with our credentials is never quoted
        raise _Failed("proxy_failure", "proxy", "%s: %s" % (where, status_line), hint, transient=status >= 500)

    # -- tls --

    def _handshake(self, tls):
        try:
            tls.settimeout(max(self.remaining(), 0.001))
            tls.do_handshake()
        except socket.timeout:
            raise _Failed("timeout", "tls", "no TLS handshake within %s" % _seconds(self.timeout))
        except ssl.SSLCertVerificationError as exc:
            raise server_verify_failure(exc, self.observer)
        except OSError as exc:  # SSLError and resets alike
            raise classify_tls_error(exc, self.observer, "during the TLS handshake")
        self.result["tls_version"] = tls.version()
        cipher = tls.cipher()
        self.result["cipher"] = cipher[0] if cipher else None
        self.observer.handshake_completed = True
        self._record_chain(tls)

    def _record_chain(self, tls):
        ders = verified_chain_ders(tls)
        if ders is None:
            self.result["anchor"] = self._anchor_from_trusted_set()
            return
        chain = [describe_der(der) for der in ders]
        self.result["server_chain"] = chain
        self.result["anchor"] = chain[-1] if chain else None

    def _anchor_from_trusted_set(self):
        """The anchor on a Python without get_verified_chain (3.9), where it is certain; else None.

        Only with explicit trust (anchors or a ca_path file: every trusted certificate is loaded and
        listed) and when exactly one trusted self-signed certificate can have issued the last
        certificate the server sent, or the server sent that root itself.
        """
        if not self.explicit_trust or not self.observer.server_certs:
            return None
        try:
            trusted = [describe_der(der) for der in self.context.get_ca_certs(binary_form=True)]
        except Exception:
            return None
        top = describe_der(self.observer.server_certs[-1])
        roots = [t for t in trusted if t["subject"] and t["subject"] == t["issuer"]]
        same = [t for t in roots if t["fingerprint_sha256"] == top["fingerprint_sha256"]]
        if same:
            return same[0]
        issuers = [t for t in roots if t["subject"] == top["issuer"]]
        return issuers[0] if len(issuers) == 1 else None

    # -- http --

    def _exchange(self, tls):
        response = b""
        try:
            try:
                tls.settimeout(max(self.remaining(), 0.001))
                tls.sendall(self.request.encode())
            except (ssl.SSLError, ConnectionError):
                # A TLS 1.3 server that refuses our certificate may close before our request is
                # written; its alert may still be readable, so read before classifying.
                pass
            while not _response_complete(response, self.request.method):
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
                raise classify_tls_error(exc, self.observer, "after the TLS handshake, before any HTTP answer")
        # Only in TLS 1.3 does the server judge our certificate after our handshake completed; in
        # TLS 1.2 a completed handshake means it accepted it, so a silent hang-up is an HTTP failure.
        late_verdict = tls.version() == "TLSv1.3"
        return _parse_response(response, self._certificate_outcome() if late_verdict else None)

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
        expected = self.request.expected_status
        if expected and http_status not in expected:
            raise _Failed("http_error", "http", "status %d is not in expected_status %s: %s"
                          % (http_status, expected, detail), EXPECTED_STATUS_HINT, transient=http_status >= 500)
        if self.request.probe == "vip_get_server_time":
            detail = self._check_server_time(status_line, body_text)
        self.result.update(ok=True, reason="ok", stage=None, hint=HINTS["ok"], detail=detail)

    def _check_server_time(self, status_line, body_text):
        status = soap_field(body_text, "status")
        message = soap_field(body_text, "statusMessage")
        said = "getServerTime requestId %s: " % self.request.request_id
        if status == "0000":
            return "%sstatus 0000 (%s) | %s" % (said, message or "no statusMessage", status_line)
        if status is not None:
            detail = "%sstatus %s (%s) | %s" % (said, status, message or "no statusMessage", status_line)
        else:
            fault = soap_field(body_text, "faultstring")
            shown = ("SOAP fault: " + fault) if fault else " ".join(body_text[:DETAIL_BODY_CHARS].split())
            detail = "%sno VIP status in the answer | %s | %s" % (said, status_line, shown)
        raise _Failed("application_error", "application", detail)

    # -- what the handshake showed --

    def _certificate_outcome(self):
        return certificate_outcome(self.observer)

    def _add_observations(self, has_client_cert):
        observer = self.observer
        if observer.available:
            self.result["client_cert_requested"] = observer.cert_requested
            if observer.cert_requested:
                self.result["acceptable_client_cas"] = observer.acceptable_cas
        if self.result["ok"]:
            if observer.cert_requested is False:
                self.result["warnings"].append(NO_MTLS_WARNING)
            elif observer.cert_requested and not has_client_cert:
                self.result["warnings"].append(CERT_NOT_SENT_WARNING)


# --- the error mapping (pure functions, tested with recorded values) ----------------------------


def connect_failure_reason(error_number):
    """connect_refused when the errno proves the host said no, else connect_timeout."""
    return "connect_refused" if error_number in REFUSED_ERRNOS else "connect_timeout"


def certificate_outcome(observer):
    """client_cert_required/rejected when the server asked for a certificate, else None."""
    if not observer.cert_requested:
        return None
    return "client_cert_rejected" if observer.client_certs_sent else "client_cert_required"


def server_verify_failure(exc, observer):
    """Classify a failed verification of the server's certificate by its X509_V_ERR code."""
    code = getattr(exc, "verify_code", None)
    detail = "%s (verify code %s)" % (getattr(exc, "verify_message", None) or exc, code)
    reason = VERIFY_CODE_REASONS.get(code, "server_untrusted")
    leaf, top = observer.server_certificate_names()
    hint = None
    if reason == "server_untrusted" and top:
        hint = ("the server chain needs the root %s, which this host does not trust: install it with "
                "vip.mtls.trust_anchor (for VIP: DigiCert Global Root G2) or point ca_path at it" % top["issuer"])
    if leaf:
        detail += "; server certificate subject %s, issuer %s, not after %s" % (
            leaf["subject"], leaf["issuer"], leaf["not_after"])
    return _Failed(reason, "tls", detail, hint)


def classify_tls_error(exc, observer, when):
    """Classify a failed handshake or a failed first read by the alert or error it carried.

    ``observer`` is the HandshakeObserver of the connection (alert_names(), cert_requested,
    client_certs_sent, handshake_completed).
    """
    alerts = observer.alert_names()
    lowered = ("%s %s" % (_os_error_text(exc), " ".join("alert " + a for a in alerts))).lower()
    detail = "%s: %s" % (when, _os_error_text(exc))
    if alerts:
        detail += " (alert received: %s)" % ", ".join(alerts)
    if isinstance(exc, socket.timeout):
        return _Failed("timeout", "tls", detail)
    for marker, reason in TLS_ERROR_REASONS:
        if marker in lowered:
            if reason == "client_cert_rejected" and observer.cert_requested is False:
                reason = "tls_protocol_mismatch"  # certificate alerts without mutual TLS: not about ours
            return _Failed(reason, "tls", detail)
    if any(marker in lowered for marker in AMBIGUOUS_TLS_ERRORS) or isinstance(exc, ConnectionError):
        reason = certificate_outcome(observer)
        if reason:
            return _Failed(reason, "tls", detail)
        if observer.handshake_completed:
            return _Failed("http_error", "http", "%s: the server closed the connection without an HTTP answer"
                           % when)
    return _Failed("tls_protocol_mismatch", "tls", detail)


# --- local stage -------------------------------------------------------------------------------


def _client_context(ca_path, anchors, min_version):
    # Plain PROTOCOL_TLS_CLIENT rather than create_default_context: the same verification on every
    # Python (3.13 adds strict and partial-chain flags there), and a chain must end at a trusted root.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = TLS_MIN_VERSIONS[min_version]
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    if anchors:
        try:
            context.load_verify_locations(cadata=_anchors_pem(anchors))
        except ssl.SSLError as exc:
            raise VipMtlsError("anchors hold a certificate this host cannot read: %s" % _os_error_text(exc))
        return context
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


_PEM_CERTIFICATE = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


def _anchors_pem(anchors):
    """The certificates of every anchor (PEM text, or a PEM or DER file on this host) as one PEM text."""
    if isinstance(anchors, str):
        anchors = [anchors]
    blocks = []
    for index, anchor in enumerate(anchors):
        text = str(anchor or "")
        label = "anchors[%d]" % index
        if "-----BEGIN" not in text:
            path = text.strip()
            label += " (%s)" % path
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
            except OSError as exc:
                raise VipMtlsError("%s is neither PEM text nor a readable file on this host: %s"
                                   % (label, _os_error_text(exc)))
            text = data.decode("latin-1")
            if "-----BEGIN" not in text and data[:1] == b"\x30":
                text = ssl.DER_cert_to_PEM_cert(data)
        found = _PEM_CERTIFICATE.findall(text)
        if not found:
            # only certificates are taken: a key pasted by mistake is neither used nor echoed
            raise VipMtlsError("%s holds no PEM certificate" % label)
        blocks.extend(found)
    if not blocks:
        raise VipMtlsError("anchors is empty: give at least one root certificate, or omit it")
    return "\n".join(blocks) + "\n"


def _load_credentials(context, client_cert, client_key, passphrase, pkcs12_path, pkcs12_passphrase):
    if pkcs12_path:
        _load_pkcs12(context, pkcs12_path, pkcs12_passphrase)
    elif client_cert:
        _load_client_cert(context, client_cert, client_key, passphrase)


def _load_client_cert(context, cert_path, key_path, passphrase):
    """Load certificate and key, failing with client_cert_invalid before any connection is made."""
    cert_text = _read_local(cert_path, "client_cert").decode("latin-1")
    key_text = _read_local(key_path, "client_key").decode("latin-1") if key_path else cert_text
    # Details name the files, never quote them: a key file's content must not reach a result.
    if "-----BEGIN CERTIFICATE-----" not in cert_text:
        raise _Failed("client_cert_invalid", "local", "client_cert %s holds no PEM certificate (for a PKCS#12 file "
                      "use client_pkcs12; DER is not read here: deploy the certificate with vip.mtls.client_cert)"
                      % cert_path)
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


def _import_pkcs12():
    """(pkcs12, serialization, backend) from cryptography, or None where this host's Python lacks it.

    Imported here, not at the top: targets need only the standard library, and PKCS#12 is optional. ``backend`` is
    required before cryptography 3.1 (Ubuntu 20.04 ships 2.8); from 3.1 on it is None and not passed.
    """
    try:
        import cryptography
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.serialization import pkcs12
    except ImportError:
        return None
    backend = None
    if tuple(int(n) for n in re.findall(r"\d+", getattr(cryptography, "__version__", ""))[:2]) < (3, 1):
        try:
            from cryptography.hazmat.backends import default_backend
            backend = default_backend()
        except ImportError:
            pass
    return pkcs12, serialization, backend


def _load_pkcs12(context, path, passphrase):
    """Open a PKCS#12 file with cryptography and load it as PEM, through a private temporary directory.

    ssl reads certificates and keys only from files; the key is written encrypted with a one-time
    password into a 0700 directory that is removed before this returns.
    """
    data = _read_local(path, "client_pkcs12")
    modules = _import_pkcs12()
    if modules is None:
        raise _Failed("client_cert_invalid", "local", "client_pkcs12 %s cannot be opened: the Python cryptography "
                      "library is not installed for %s on this host; use client_cert and client_key (PEM, e.g. "
                      "written by vip.mtls.client_cert) instead" % (path, sys.executable), PKCS12_HINT)
    pkcs12, serialization, backend = modules
    try:
        password = passphrase.encode("utf-8") if passphrase else None
        if backend is None:
            key, cert, extra = pkcs12.load_key_and_certificates(data, password)
        else:
            key, cert, extra = pkcs12.load_key_and_certificates(data, password, backend)
    except (ValueError, TypeError):
        if passphrase:
            detail = "client_pkcs12 %s could not be opened: wrong client_pkcs12_passphrase, or not a PKCS#12 file"
        else:
            detail = ("client_pkcs12 %s could not be opened: not a PKCS#12 file, or it is protected and no "
                      "client_pkcs12_passphrase was given")
        raise _Failed("client_cert_invalid", "local", detail % path)
    except Exception as exc:  # e.g. an algorithm this host's OpenSSL no longer offers (RC2-40)
        raise _Failed("client_cert_invalid", "local", "client_pkcs12 %s could not be opened by this host's "
                      "cryptography: %s" % (path, type(exc).__name__))
    if cert is None or key is None:
        raise _Failed("client_cert_invalid", "local", "client_pkcs12 %s holds no %s" % (
            path, "certificate" if cert is None else "private key"))
    one_time = secrets.token_hex(24)
    directory = tempfile.mkdtemp(prefix="vip-mtls-")  # 0700, owned by us
    cert_file = os.path.join(directory, "client.crt")
    key_file = os.path.join(directory, "client.key")
    try:
        _write_private(cert_file, b"".join(c.public_bytes(serialization.Encoding.PEM) for c in [cert] + list(extra)))
        _write_private(key_file, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.BestAvailableEncryption(one_time.encode())))
        _load_client_cert(context, cert_file, key_file, one_time)
    except _Failed as failure:
        # name the user's file, not the temporary ones
        failure.detail = failure.detail.replace(cert_file, path).replace(key_file, path)
        raise
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _write_private(path, data):
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


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
            return handle.read()
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
    if _is_chunked(headers):
        return body.startswith(b"0\r\n\r\n") or b"\r\n0\r\n\r\n" in body
    return False  # delimited by the server closing (we asked for Connection: close): read on


def _is_chunked(headers):
    return re.search(rb"\r\ntransfer-encoding:[^\r\n]*chunked", headers.lower()) is not None


def _parse_response(response, certificate_outcome_reason):
    """(status line, start of body) of a response; _Failed when there is no HTTP answer."""
    status = _STATUS_LINE.match(response)
    if not status:
        if not response:
            if certificate_outcome_reason:
                # the server hung up instead of answering after it had asked for a certificate
                raise _Failed(certificate_outcome_reason, "tls", "the server closed the connection after the "
                              "handshake without an HTTP answer")
            raise _Failed("http_error", "http", "the server closed the connection without an HTTP answer")
        raise _Failed("http_error", "http", "not an HTTP answer: %r" % response[:120])
    status_line = response[:status.end()].decode("latin-1").strip()
    head_end = response.find(b"\r\n\r\n")
    body = response[head_end + 4:head_end + 4 + MAX_BODY] if head_end >= 0 else b""
    if head_end >= 0 and _is_chunked(response[:head_end]):
        body = dechunk(body)  # a SOAP answer must be read without chunk sizes cutting through it
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
