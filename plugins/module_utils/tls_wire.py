# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What crosses the wire during a check, read and written with the standard library only.

The handshake observer (ssl's message callback), the TLS messages it sees (CertificateRequest,
Certificate), just enough DER to name a certificate's subject, issuer and dates, HTTP CONNECT
proxies (and https_proxy/no_proxy), and the VIP getServerTime SOAP exchange.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import os
import re
import ssl
from urllib.parse import quote, unquote, urlsplit


# TLS alert descriptions (RFC 8446 section 6), as OpenSSL words them.
ALERT_NAMES = {
    40: "handshake failure", 42: "bad certificate", 43: "unsupported certificate", 44: "certificate revoked",
    45: "certificate expired", 46: "certificate unknown", 48: "unknown ca", 49: "access denied",
    51: "decrypt error", 70: "protocol version", 71: "insufficient security", 116: "certificate required",
}

# --- what the handshake showed ---------------------------------------------------------------

_HANDSHAKE = 22
_ALERT = 21
_MSG_CERTIFICATE = 11
_MSG_CERTIFICATE_REQUEST = 13
_MSG_SERVER_HELLO_DONE = 14
_MSG_FINISHED = 20
_EXT_CERTIFICATE_AUTHORITIES = 47
_TLS13 = 0x0304


class HandshakeObserver:
    """Records the server's CertificateRequest, certificates and alerts via ssl's message callback.

    SSLContext._msg_callback is private (present in CPython 3.8 to 3.13); without it every
    observation stays None. The callback sees handshake messages after decryption, TLS 1.3 included.
    """

    def __init__(self):
        self.available = False
        self.cert_request_seen = False
        self.server_flight_done = False  # ServerHelloDone (1.2) or server Finished (1.3) was read
        self.handshake_completed = False
        self.acceptable_cas = None
        self.server_certs = []
        self.client_certs_sent = None
        self.alerts = []

    def attach(self, context):
        if not hasattr(type(context), "_msg_callback"):
            return
        try:
            context._msg_callback = self._on_message
        except Exception:
            return
        self.available = True

    @property
    def cert_requested(self):
        if not self.available:
            return None
        if self.cert_request_seen:
            return True
        # only once the server's whole flight was read is "no request seen" a fact
        return False if (self.server_flight_done or self.handshake_completed) else None

    def alert_names(self):
        return [ALERT_NAMES.get(code, "alert %d" % code) for code in self.alerts]

    def server_certificate_names(self):
        """(leaf, last certificate sent) as described dicts, or (None, None) when none was seen."""
        if not self.server_certs:
            return None, None
        return describe_der(self.server_certs[0]), describe_der(self.server_certs[-1])

    def _on_message(self, conn, direction, version, content_type, msg_type, data):
        # Exceptions here would surface as an unrelated handshake error: observe, never interfere.
        try:
            if content_type == _ALERT and direction == "read" and len(data) >= 2:
                self.alerts.append(data[1])
            if content_type != _HANDSHAKE:
                return
            tls13 = version == _TLS13
            if direction == "read":
                if msg_type == _MSG_CERTIFICATE_REQUEST:
                    self.cert_request_seen = True
                    self.acceptable_cas = parse_certificate_request_cas(data, tls13)
                elif msg_type == _MSG_CERTIFICATE:
                    self.server_certs = parse_certificate_message(data, tls13)
                elif msg_type in (_MSG_SERVER_HELLO_DONE, _MSG_FINISHED):
                    self.server_flight_done = True
            elif direction == "write" and msg_type == _MSG_CERTIFICATE:
                self.client_certs_sent = len(parse_certificate_message(data, tls13))
        except Exception:
            pass


class _Reader:
    """Length-prefixed fields of a TLS handshake message."""

    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def take(self, size):
        if self.pos + size > len(self.data):
            raise ValueError("truncated TLS message")
        chunk = self.data[self.pos:self.pos + size]
        self.pos += size
        return chunk

    def number(self, size):
        return int.from_bytes(self.take(size), "big")

    def vector(self, length_size):
        return self.take(self.number(length_size))

    def done(self):
        return self.pos >= len(self.data)


def parse_certificate_request_cas(message, tls13):
    """Distinguished names (RFC 4514 strings) a CertificateRequest names as acceptable CAs.

    ``message`` includes the 4-byte handshake header. TLS 1.2 carries the list in the body;
    TLS 1.3 in the certificate_authorities extension. [] when the server named none.
    """
    reader = _Reader(message)
    reader.take(4)
    if tls13:
        reader.vector(1)  # certificate_request_context
        extensions = _Reader(reader.vector(2))
        names = b""
        while not extensions.done():
            ext_type = extensions.number(2)
            ext_data = extensions.vector(2)
            if ext_type == _EXT_CERTIFICATE_AUTHORITIES:
                names = _Reader(ext_data).vector(2)
    else:
        reader.vector(1)  # certificate_types
        reader.vector(2)  # supported_signature_algorithms
        names = reader.vector(2)
    listing = _Reader(names)
    cas = []
    while not listing.done():
        cas.append(der_name_to_string(listing.vector(2)))
    return cas


def parse_certificate_message(message, tls13):
    """DER certificates of a Certificate handshake message (header included), leaf first."""
    reader = _Reader(message)
    reader.take(4)
    if tls13:
        reader.vector(1)  # certificate_request_context
    entries = _Reader(reader.vector(3))
    ders = []
    while not entries.done():
        ders.append(entries.vector(3))
        if tls13:
            entries.vector(2)  # per-certificate extensions
    return ders


def verified_chain_ders(tls):
    """DER of the verified chain, leaf first and anchor last; None where this Python cannot tell.

    SSLSocket.get_verified_chain is public from 3.13 (returns DER); 3.10-3.12 have the same call on
    the private _sslobj, returning certificate objects.
    """
    getter = getattr(tls, "get_verified_chain", None)
    if getter is None:
        getter = getattr(getattr(tls, "_sslobj", None), "get_verified_chain", None)
    if getter is None:
        return None
    try:
        chain = getter() or []
        ders = []
        for cert in chain:
            if isinstance(cert, (bytes, bytearray)):
                ders.append(bytes(cert))
            else:
                ders.append(ssl.PEM_cert_to_DER_cert(cert.public_bytes()))
        return ders
    except Exception:
        return None


# --- a little DER, for names and dates of certificates ------------------------------------------

# Short names as RFC 4514 (and cryptography's rfc4514_string) write them; other types as dotted OIDs.
_NAME_OIDS = {
    "2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.9": "STREET",
    "2.5.4.10": "O", "2.5.4.11": "OU", "0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
}
_STRING_CODECS = {0x0C: "utf-8", 0x12: "ascii", 0x13: "ascii", 0x14: "latin-1", 0x16: "ascii",
                  0x1A: "ascii", 0x1C: "utf-32-be", 0x1E: "utf-16-be"}


def _der_items(data):
    """(tag, value bytes, whole element bytes) for each element in ``data``."""
    pos = 0
    while pos < len(data):
        tag = data[pos]
        length = data[pos + 1]
        head = 2
        if length & 0x80:
            count = length & 0x7F
            if not 0 < count <= 4:
                raise ValueError("unsupported DER length")
            length = int.from_bytes(data[pos + 2:pos + 2 + count], "big")
            head += count
        end = pos + head + length
        if end > len(data):
            raise ValueError("truncated DER")
        yield tag, data[pos + head:end], data[pos:end]
        pos = end


def _der_oid(value):
    arcs = []
    number = 0
    for byte in bytearray(value):
        number = (number << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(number)
            number = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(n) for n in [first, arcs[0] - 40 * first] + arcs[1:])


def _escape_dn_value(value):
    for char in ("\\", '"', "+", ",", ";", "<", ">"):
        value = value.replace(char, "\\" + char)
    value = value.replace("\0", "\\00")
    if value[:1] in ("#", " "):
        value = "\\" + value
    if value.endswith(" "):
        value = value[:-1] + "\\ "
    return value


def der_name_to_string(der):
    """An X.501 Name (DER) as an RFC 4514 string, most specific part first, as cryptography writes it."""
    (_tag, rdn_sequence, _whole), = _der_items(der)
    rdns = []
    for _set_tag, rdn, _rdn_whole in _der_items(rdn_sequence):
        parts = []
        for _seq_tag, attribute, _attr_whole in _der_items(rdn):
            (_oid_tag, oid, _oid_whole), (value_tag, value, value_whole) = list(_der_items(attribute))
            dotted = _der_oid(oid)
            codec = _STRING_CODECS.get(value_tag)
            if codec:
                text = _escape_dn_value(value.decode(codec, "replace"))
            else:
                text = "#" + value_whole.hex()
            parts.append("%s=%s" % (_NAME_OIDS.get(dotted, dotted), text))
        rdns.append("+".join(parts))
    return ",".join(reversed(rdns))


def _der_time(tag, value):
    text = value.decode("ascii")
    if tag == 0x17:  # UTCTime, two-digit year (RFC 5280: 50-99 are 19xx)
        year = int(text[:2])
        text = ("19" if year >= 50 else "20") + text
    moment = datetime.datetime.strptime(text[:14], "%Y%m%d%H%M%S")
    return moment.replace(tzinfo=datetime.timezone.utc).isoformat()


def describe_der(der):
    """subject, issuer, not_after (ISO 8601) and fingerprint_sha256 of a DER certificate.

    The fingerprint is always given; the parsed fields are None if this small parser cannot read them.
    """
    description = {"subject": None, "issuer": None, "not_after": None,
                   "fingerprint_sha256": ":".join("%02X" % b for b in bytearray(hashlib.sha256(der).digest()))}
    try:
        (_tag, certificate, _whole), = _der_items(der)
        tbs = list(_der_items(next(_der_items(certificate))[1]))
        if tbs[0][0] == 0xA0:  # explicit version
            tbs = tbs[1:]
        # serial, signature algorithm, issuer, validity, subject
        validity = list(_der_items(tbs[3][1]))
        description.update(
            issuer=der_name_to_string(tbs[2][2]),
            not_after=_der_time(validity[1][0], validity[1][1]),
            subject=der_name_to_string(tbs[4][2]),
        )
    except Exception:
        pass
    return description


# --- HTTP CONNECT proxies ----------------------------------------------------------------------


class ProxyError(ValueError):
    """A proxy setting that cannot be used; the message never holds the password."""


class Proxy:
    """An HTTP proxy reached with CONNECT: host, port, and credentials kept out of every echo."""

    def __init__(self, host, port, username=None, password=None, source="proxy"):
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.source = source  # the option or environment variable it came from, for messages

    def masked(self):
        """The proxy as a URL for results and messages: the password replaced by ********."""
        host = "[%s]" % self.host if ":" in self.host else self.host
        auth = ""
        if self.username is not None:
            auth = quote(self.username, safe="") + (":********" if self.password else "") + "@"
        return "http://%s%s:%d" % (auth, host, self.port)

    def connect_request(self, host, port):
        """The CONNECT request for host:port (bytes), with Basic credentials when there are any."""
        authority = "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
        lines = ["CONNECT %s HTTP/1.1" % authority, "Host: %s" % authority, "User-Agent: vip.mtls"]
        if self.username is not None:
            token = base64.b64encode(("%s:%s" % (self.username, self.password or "")).encode("utf-8"))
            lines.append("Proxy-Authorization: Basic %s" % token.decode("ascii"))
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def parse_proxy(value, source="proxy"):
    """A Proxy from http://[user:pass@]host[:port] (a bare host:port means http); ProxyError otherwise.

    Only plain HTTP proxies: a TLS connection to the proxy itself (https://) or SOCKS would need more
    than the standard library gives, and a silent fallback would test another path than the application's.
    """
    text = str(value or "").strip()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    safe = _mask_url_password(text)
    if parts.scheme.lower() != "http":
        raise ProxyError("%s %s: only http:// proxies (HTTP CONNECT) are supported" % (source, safe))
    try:
        port = parts.port or 1080  # curl's default; a proxy URL should name its port
    except ValueError:
        raise ProxyError("%s %s has an invalid port" % (source, safe))
    if not parts.hostname or parts.path not in ("", "/"):
        raise ProxyError("%s %s must look like http://[user:password@]host:port" % (source, safe))
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return Proxy(parts.hostname, port, username, password, source)


def _mask_url_password(text):
    # only for messages about a malformed proxy: hide whatever sits between "user:" and "@"
    return re.sub(r"(//[^/@:]*:)[^/@]*@", r"\1********@", text)


def proxy_from_env(host_names, environ=None):
    """(Proxy or None, why) for a connection to any of ``host_names``, from https_proxy and no_proxy.

    Lower-case variables win over upper-case ones, as in curl. ``why`` says in words what was decided.
    """
    environ = os.environ if environ is None else environ
    name, value = _first_env(environ, ("https_proxy", "HTTPS_PROXY"))
    if not value:
        return None, "no https_proxy/HTTPS_PROXY in the environment"
    no_name, no_proxy = _first_env(environ, ("no_proxy", "NO_PROXY"))
    for host in host_names:
        if host and no_proxy_matches(host, no_proxy or ""):
            return None, "%s matches %s" % (host, no_name)
    return parse_proxy(value, source=name), "from %s" % name


def _first_env(environ, names):
    for name in names:
        if environ.get(name):
            return name, environ[name]
    return names[0], None


def no_proxy_matches(host, no_proxy):
    """Whether no_proxy (comma or space separated) exempts ``host``.

    Entries: '*' (everything), a domain ('example.com', '.example.com' or '*.example.com' match it and
    every name below it), an exact host or IP address, or an IP network in CIDR form. A ':port' suffix
    on an entry is ignored: the check always goes to one port.
    """
    host = host.strip("[]").rstrip(".").lower()
    for entry in re.split(r"[,\s]+", no_proxy.lower()):
        if not entry:
            continue
        if entry == "*":
            return True
        entry = _strip_port(entry)
        if "/" in entry:
            try:
                if ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        entry = entry.lstrip("*").lstrip(".").rstrip(".")
        if entry and (host == entry or host.endswith("." + entry)):
            return True
    return False


def _strip_port(entry):
    if entry.startswith("["):  # [v6] or [v6]:port
        return entry[1:].split("]")[0]
    if entry.count(":") == 1:  # name:port or v4:port; a bare IPv6 address has several colons
        return entry.split(":")[0]
    return entry


_PROXY_STATUS = re.compile(rb"HTTP/\d(?:\.\d)? (\d{3})[^\r\n]*")


def parse_proxy_answer(head):
    """(status code, status line) of a proxy's answer to CONNECT; (None, None) if it is not HTTP."""
    match = _PROXY_STATUS.match(head)
    if not match:
        return None, None
    return int(match.group(1)), match.group(0).decode("latin-1").strip()


# --- VIP getServerTime (SOAP 1.1) ------------------------------------------------------------------

VIP_USER_SERVICES_NS = "https://schemas.symantec.com/vip/2011/04/vipuserservices"


def get_server_time_request(request_id):
    """The SOAP 1.1 envelope of QueryService getServerTime, as bytes."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:vip="%s">'
        "<soapenv:Header/><soapenv:Body><vip:GetServerTimeRequest><vip:requestId>%s</vip:requestId>"
        "</vip:GetServerTimeRequest></soapenv:Body></soapenv:Envelope>" % (VIP_USER_SERVICES_NS, request_id)
    ).encode("utf-8")


def soap_field(body, name):
    """Text of the first <name> element, whatever namespace prefix it carries; None when absent."""
    match = re.search(r"<(?:[\w.-]+:)?%s(?:\s[^>]*)?>\s*([^<]*?)\s*</(?:[\w.-]+:)?%s\s*>" % (name, name), body)
    return match.group(1) if match else None


def dechunk(body):
    """The payload of a chunked HTTP body, as far as it arrived."""
    out = b""
    rest = body
    while rest:
        size_line, sep, rest = rest.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0].strip(), 16)
        except ValueError:
            return out or body
        if not sep or size == 0:
            break
        out += rest[:size]
        rest = rest[size + 2:]
    return out
