# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reachability check against real TLS servers on 127.0.0.1: one test per reason and stage."""

from __future__ import annotations

import builtins
import datetime
import errno
import hashlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.vip.mtls.plugins.module_utils import tls_probe, tls_wire
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.module_utils.tls_probe import check

pytest_plugins = ["tls_servers"]  # the fixtures pki, servers, proxies, closed_port

RESULT_KEYS = {
    "ok", "reason", "stage", "hint", "detail", "tls_version", "cipher", "http_status", "address",
    "elapsed_ms", "server_chain", "anchor", "client_cert_requested", "acceptable_client_cas", "client_cert_issuer", "warnings",
    "attempts", "proxy",
}
# get_verified_chain: public from 3.13, on the private _sslobj from 3.10
CHAIN_VISIBLE = sys.version_info >= (3, 10)


def client(pki, **extra):
    options = dict(client_cert=pki.client.cert, client_key=pki.client.key, ca_path=pki.root_ca, timeout=5)
    options.update(extra)
    return options


def assert_failed(result, reason, stage):
    assert set(result) == RESULT_KEYS
    assert (result["ok"], result["reason"], result["stage"]) == (False, reason, stage), result
    assert result["hint"] and "\n" not in result["hint"]
    assert result["detail"]


# --- success ---------------------------------------------------------------------------------


@pytest.mark.parametrize("server, version", [("mtls13", "TLSv1.3"), ("mtls12", "TLSv1.2")])
def test_mutual_tls_succeeds(pki, servers, server, version):
    result = check(servers[server].url(), **client(pki))
    assert set(result) == RESULT_KEYS
    assert (result["ok"], result["reason"], result["stage"]) == (True, "ok", None), result
    assert result["tls_version"] == version
    assert result["http_status"] == 200
    assert result["cipher"]
    assert result["address"] == "127.0.0.1:%d" % servers[server].port
    assert result["detail"].startswith("HTTP/1.1 200 OK")
    assert result["client_cert_requested"] is True
    assert result["acceptable_client_cas"] == []  # Python's ssl server names no CAs
    assert result["warnings"] == []
    assert 0 <= result["elapsed_ms"] < 5000


def test_success_reports_the_verified_chain_and_its_anchor(pki, servers):
    result = check(servers["mtls13"].url(), **client(pki))
    if not CHAIN_VISIBLE:
        assert result["server_chain"] is None and result["anchor"] is None
        return
    chain = result["server_chain"]
    assert [c["subject"] for c in chain] == [
        "CN=localhost,O=vip.mtls tests", pki.inter_subject, pki.root_subject]
    assert chain[0]["issuer"] == pki.inter_subject
    anchor = result["anchor"]
    assert anchor == chain[-1]
    assert anchor["fingerprint_sha256"] == colon_sha256(pki.root_der)
    assert anchor["not_after"].startswith(str(datetime.date.today().year + 1))


def test_request_is_minimal_http_1_1_with_host_and_port(pki, servers):
    server = servers["plain"]
    before = len(server.requests)
    check(server.url(path="/vipuserservices/QueryService_1_8?wsdl"), ca_path=pki.root_ca, timeout=5)
    request = server.requests[before].decode("latin-1")
    lines = request.split("\r\n")
    assert lines[0] == "GET /vipuserservices/QueryService_1_8?wsdl HTTP/1.1"
    assert "Host: localhost:%d" % server.port in lines
    assert "Connection: close" in lines
    assert "User-Agent: vip.mtls" in lines


def test_host_header_leaves_out_the_default_port():
    assert tls_probe._parse_url("https://api-auth.vip.symantec.com/x").host_header() == "api-auth.vip.symantec.com"
    assert tls_probe._parse_url("https://[::1]:8443/").host_header() == "[::1]:8443"


def test_any_http_status_is_ok(pki, servers):
    result = check(servers["not_found"].url(), ca_path=pki.root_ca, timeout=5)
    assert (result["ok"], result["reason"], result["http_status"]) == (True, "ok", 404)


def test_server_without_client_auth_is_ok_with_a_warning(pki, servers):
    result = check(servers["plain"].url(), **client(pki))
    assert result["ok"] is True
    assert result["client_cert_requested"] is False
    assert result["acceptable_client_cas"] is None
    assert result["warnings"] == [tls_probe.NO_MTLS_WARNING]


def test_optional_client_auth_without_a_certificate_warns(pki, servers):
    result = check(servers["optional"].url(), ca_path=pki.root_ca, timeout=5)
    assert result["ok"] is True
    assert result["client_cert_requested"] is True
    assert result["warnings"] == [tls_probe.CERT_NOT_SENT_WARNING]


def test_key_inside_the_certificate_file(pki, servers):
    result = check(servers["mtls13"].url(), **client(pki, client_cert=pki.client_combined, client_key=None))
    assert result["ok"] is True, result


def test_encrypted_key_with_its_passphrase(pki, servers):
    result = check(servers["mtls13"].url(),
                   **client(pki, client_key=pki.client_key_encrypted, client_key_passphrase="s3cret"))
    assert result["ok"] is True, result


def test_ca_directory(pki, servers, tmp_path):
    openssl = shutil.which("openssl")
    if not openssl:
        pytest.skip("openssl is needed to hash a CA directory")
    shutil.copy(pki.root_ca, str(tmp_path / "root.pem"))
    subprocess.run([openssl, "rehash", str(tmp_path)], check=True, capture_output=True)
    result = check(servers["plain"].url(), ca_path=str(tmp_path), timeout=5)
    assert result["ok"] is True, result


# --- local stage -----------------------------------------------------------------------------


@pytest.mark.parametrize("case, expected", [
    ("missing_cert", "cannot be read"),
    ("key_mismatch", "does not belong"),
    ("encrypted_no_passphrase", "encrypted and no client_key_passphrase"),
    ("wrong_passphrase", "wrong client_key_passphrase"),
    ("expired", "expired on"),
    ("not_yet_valid", "not valid before"),
    ("no_certificate_in_file", "holds no PEM certificate"),
    ("no_key", "client_cert %s holds no PEM private key and client_key is not set"),
    ("key_file_without_key", "client_key %s holds no PEM private key"),
])
def test_local_problems_are_found_before_connecting(pki, closed_port, case, expected):
    options = {
        "missing_cert": dict(client_cert=pki.dir + "/missing.crt"),
        "key_mismatch": dict(client_key=pki.unrelated_key),
        "encrypted_no_passphrase": dict(client_key=pki.client_key_encrypted),
        "wrong_passphrase": dict(client_key=pki.client_key_encrypted, client_key_passphrase="wrong-s3cret"),
        "expired": dict(client_cert=pki.client_expired.cert, client_key=pki.client_expired.key),
        "not_yet_valid": dict(client_cert=pki.client_future.cert, client_key=pki.client_future.key),
        "no_certificate_in_file": dict(client_cert=pki.client.key, client_key=None),
        "no_key": dict(client_key=None),
        "key_file_without_key": dict(client_key=pki.root_ca),
    }[case]
    if "%s" in expected:
        expected %= options.get("client_key") or options.get("client_cert") or pki.client.cert
    # the port is closed: reaching the network would say connect_refused instead
    result = check("https://127.0.0.1:%d/" % closed_port, **client(pki, **options))
    assert_failed(result, "client_cert_invalid", "local")
    assert expected in result["detail"]
    assert result["address"] is None
    assert "s3cret" not in json.dumps(result)
    assert "set client_key" not in result["detail"] or not options.get("client_key")


def _key_body(path):
    with open(path) as handle:
        return "".join(handle.read().splitlines()[1:-1])


@pytest.mark.parametrize("swap", ["key_as_cert", "cert_as_key", "key_as_both"])
def test_local_failures_never_show_key_material(pki, closed_port, swap):
    options = {
        "key_as_cert": dict(client_cert=pki.client.key, client_key=pki.client.key),
        "cert_as_key": dict(client_key=pki.client.cert),
        "key_as_both": dict(client_cert=pki.unrelated_key, client_key=pki.unrelated_key),
    }[swap]
    result = check("https://127.0.0.1:%d/" % closed_port, **client(pki, **options))
    assert_failed(result, "client_cert_invalid", "local")
    shown = json.dumps(result) + tls_probe.failure_message(result)
    for key in (pki.client.key, pki.unrelated_key):
        body = _key_body(key)
        assert body[:40] not in shown and body[-40:] not in shown
    assert "PRIVATE KEY-----" not in shown


def test_expiry_check_needs_the_private_decoder_or_skips():
    # documents the dependency: if CPython drops it, the date check silently stops
    assert hasattr(tls_probe.ssl._ssl, "_test_decode_cert")


# --- dns and connect -------------------------------------------------------------------------


def test_dns_failure(pki):
    result = check("https://nonexistent.invalid/", ca_path=pki.root_ca, timeout=3)
    assert_failed(result, "dns_failure", "dns")
    assert "nonexistent.invalid" in result["detail"]


def test_resolver_that_does_not_answer_in_time_is_a_timeout(pki, monkeypatch):
    release = threading.Event()
    real_getaddrinfo = socket.getaddrinfo

    def slow_getaddrinfo(host, *args, **kwargs):
        if host == "slow.example":
            release.wait(5)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(tls_probe.socket, "getaddrinfo", slow_getaddrinfo)
    try:
        result = check("https://slow.example/", ca_path=pki.root_ca, timeout=0.01)
    finally:
        release.set()
    assert_failed(result, "timeout", "dns")
    assert "slow.example" in result["detail"]
    assert "0.01s" in result["detail"]
    assert "resolve" in result["hint"] and "timeout" in result["hint"] and "resolver" in result["hint"]
    assert result["hint"] != tls_probe.HINTS["timeout"]


def test_connection_refused(pki, closed_port):
    result = check("https://127.0.0.1:%d/" % closed_port, ca_path=pki.root_ca, timeout=3)
    assert_failed(result, "connect_refused", "connect")
    assert "ECONNREFUSED" in result["detail"]
    assert result["address"] is None


def test_connect_timeout(pki):
    # A listener with backlog 0 whose one queue slot is taken: Linux drops further SYNs,
    # which is what a filtering firewall looks like from the client.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port), timeout=1)
    try:
        probe = socket.socket()
        probe.settimeout(0.2)
        try:
            probe.connect(("127.0.0.1", port))
            pytest.skip("this kernel accepts beyond the listen backlog; no way to make a connect time out")
        except socket.timeout:
            pass
        finally:
            probe.close()
        result = check("https://127.0.0.1:%d/" % port, ca_path=pki.root_ca, timeout=0.5)
        assert_failed(result, "connect_timeout", "connect")
        assert "timed out" in result["detail"]
        assert 400 <= result["elapsed_ms"] < 3000
    finally:
        filler.close()
        listener.close()


# --- tls: the server side ----------------------------------------------------------------------


def test_untrusted_server_names_the_root_it_needs(pki, servers):
    result = check(servers["plain"].url(), ca_path=pki.client_ca, timeout=5)
    assert_failed(result, "server_untrusted", "tls")
    assert pki.root_subject in result["hint"]
    assert "vip.mtls.trust_anchor" in result["hint"]
    assert "verify code 20" in result["detail"]


def test_system_store_does_not_trust_a_private_root(servers):
    result = check(servers["plain"].url(), timeout=5)
    assert_failed(result, "server_untrusted", "tls")


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_hostname_mismatch(pki, servers, host):
    result = check(servers["other_name"].url(host=host), ca_path=pki.root_ca, timeout=5)
    assert_failed(result, "server_hostname_mismatch", "tls")
    assert "other.example" in result["detail"]


def test_expired_server_certificate(pki, servers):
    result = check(servers["expired"].url(), ca_path=pki.root_ca, timeout=5)
    assert_failed(result, "server_cert_expired", "tls")
    assert "verify code 10" in result["detail"]


def test_old_tls_only_server(pki, servers):
    if "old_tls" not in servers:
        pytest.skip("this OpenSSL cannot run a TLS 1.0/1.1 server")
    result = check(servers["old_tls"].url(), ca_path=pki.root_ca, timeout=5)
    assert_failed(result, "tls_protocol_mismatch", "tls")


def test_plain_tcp_port_that_never_answers_times_out_in_tls(pki, servers):
    result = check(servers["silent"].url(), ca_path=pki.root_ca, timeout=0.5)
    assert_failed(result, "timeout", "tls")
    assert result["address"] == "127.0.0.1:%d" % servers["silent"].port
    assert 400 <= result["elapsed_ms"] < 3000


def test_server_that_never_answers_http_times_out_in_http(pki, servers):
    result = check(servers["mute"].url(), ca_path=pki.root_ca, timeout=0.5)
    assert_failed(result, "timeout", "http")
    assert result["tls_version"] == "TLSv1.3"


def test_one_deadline_covers_handshake_and_http(pki, servers):
    # 0.5 s go to a slow handshake; the HTTP read gets only what is left of the 0.8 s
    result = check(servers["slow_mute"].url(), ca_path=pki.root_ca, timeout=0.8)
    assert_failed(result, "timeout", "http")
    assert 750 <= result["elapsed_ms"] < 1150


# --- tls: the server refuses our certificate ------------------------------------------------


@pytest.mark.parametrize("server", ["mtls13", "mtls12"])
def test_missing_client_certificate_is_refused_by_alert(pki, servers, server):
    result = check(servers[server].url(), ca_path=pki.root_ca, timeout=5)
    assert_failed(result, "client_cert_required", "tls")
    assert result["client_cert_requested"] is True
    if server == "mtls13":  # the alert arrives on the first read, after our handshake completed
        assert "certificate required" in result["detail"]
        assert result["tls_version"] == "TLSv1.3"
    else:  # TLS 1.2: a plain handshake_failure, told apart by the empty Certificate we sent
        assert "handshake failure" in result["detail"]


@pytest.mark.parametrize("server", ["mtls13", "mtls12"])
def test_foreign_client_certificate_is_rejected_by_alert(pki, servers, server):
    options = client(pki, client_cert=pki.client_foreign.cert, client_key=pki.client_foreign.key)
    result = check(servers[server].url(), **options)
    assert_failed(result, "client_cert_rejected", "tls")
    assert "unknown ca" in result["detail"]


# --- http ----------------------------------------------------------------------------------


def test_nginx_missing_certificate_page(pki, servers):
    result = check(servers["nginx_no_cert"].url(), ca_path=pki.root_ca, timeout=5)
    assert_failed(result, "client_cert_required", "http")
    assert result["http_status"] == 400
    assert "No required SSL certificate was sent" in result["detail"]


def test_nginx_certificate_error_page(pki, servers):
    result = check(servers["nginx_cert_error"].url(), **client(pki))
    assert_failed(result, "client_cert_rejected", "http")
    assert result["http_status"] == 400


def test_answer_that_is_not_http(pki, servers):
    result = check(servers["not_http"].url(), ca_path=pki.root_ca, timeout=5)
    assert_failed(result, "http_error", "http")
    assert "SSH-2.0" in result["detail"]


# --- usage errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://example.com/", "https://", "ftp://example.com", "example.com",
                                 "https://example.com:99999/"])
def test_url_must_be_https_with_a_host(url):
    with pytest.raises(VipMtlsError) as raised:
        check(url)
    assert "url" in raised.value.msg


def test_key_without_certificate_is_a_usage_error(pki):
    with pytest.raises(VipMtlsError):
        check("https://localhost/", client_key=pki.client.key)


@pytest.mark.parametrize("timeout", [0, -1, -0.001, float("nan"), float("inf"), float("-inf"), 1e12,
                                     99999999999, 3600.001, "soon", None])
def test_timeout_must_be_finite_positive_and_at_most_an_hour(timeout):
    with pytest.raises(VipMtlsError) as raised:
        check("https://localhost/", timeout=timeout)
    assert "timeout" in raised.value.msg
    assert "3600" in raised.value.msg


@pytest.mark.parametrize("timeout", [0.001, 3600, "2.5"])
def test_timeout_limits_themselves_are_allowed(pki, closed_port, timeout):
    result = check("https://127.0.0.1:%d/" % closed_port, ca_path=pki.root_ca, timeout=timeout)
    assert result["reason"] in ("connect_refused", "connect_timeout")


def test_missing_ca_path_is_a_usage_error(pki):
    with pytest.raises(VipMtlsError) as raised:
        check("https://localhost/", ca_path=pki.dir + "/no-such-ca.pem")
    assert "ca_path" in raised.value.msg


# --- the small parsers ----------------------------------------------------------------------


@pytest.mark.parametrize("attributes", [
    [(NameOID.COMMON_NAME, "DigiCert Global Root G2"), (NameOID.ORGANIZATIONAL_UNIT_NAME, "www.digicert.com"),
     (NameOID.ORGANIZATION_NAME, "DigiCert Inc"), (NameOID.COUNTRY_NAME, "US")],
    [(NameOID.DOMAIN_COMPONENT, "com"), (NameOID.DOMAIN_COMPONENT, "example"), (NameOID.USER_ID, "u1"),
     (NameOID.EMAIL_ADDRESS, "ops@example.com"), (NameOID.COMMON_NAME, "Jörg, \"the\" + <admin>; #1 ")],
    [(NameOID.STATE_OR_PROVINCE_NAME, "CA"), (NameOID.LOCALITY_NAME, "Mountain View"),
     (NameOID.STREET_ADDRESS, "1 Main St"), (NameOID.SERIAL_NUMBER, "42")],
])
def test_distinguished_names_read_like_cryptography_writes_them(attributes):
    name = x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes])
    assert tls_wire.der_name_to_string(name.public_bytes()) == name.rfc4514_string()


def test_multi_valued_rdn():
    name = x509.Name([x509.RelativeDistinguishedName([
        x509.NameAttribute(NameOID.COMMON_NAME, "a"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "b")])])
    parsed = tls_wire.der_name_to_string(name.public_bytes())
    assert sorted(parsed.split("+")) == ["CN=a", "O=b"]


@pytest.mark.parametrize("not_after", [datetime.datetime(2038, 1, 15, 12, 0, tzinfo=datetime.timezone.utc),
                                       datetime.datetime(2061, 6, 1, 0, 0, 5, tzinfo=datetime.timezone.utc)])
def test_certificate_description_matches_cryptography(not_after):
    # 2038 is written as UTCTime, 2061 as GeneralizedTime
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Root")])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Other")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer).public_key(key.public_key())
            .serial_number(7).not_valid_before(datetime.datetime(2020, 1, 1)).not_valid_after(not_after)
            .sign(key, hashes.SHA256()))
    der = cert.public_bytes(serialization.Encoding.DER)
    assert tls_wire.describe_der(der) == {
        "subject": "CN=Root", "issuer": "CN=Other", "not_after": not_after.isoformat(),
        "fingerprint_sha256": colon_sha256(der),
    }


def colon_sha256(der):
    return ":".join("%02X" % b for b in hashlib.sha256(der).digest())


def test_unreadable_certificate_still_has_a_fingerprint():
    not_a_certificate = b"\x30\x03\x02\x01\x01"
    described = tls_wire.describe_der(not_a_certificate)
    assert described["subject"] is None and described["not_after"] is None
    assert described["fingerprint_sha256"] == colon_sha256(not_a_certificate)


def _vector(data, length_size):
    return len(data).to_bytes(length_size, "big") + data


def _handshake(msg_type, body):
    return bytes([msg_type]) + len(body).to_bytes(3, "big") + body


CA_NAMES = [x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "VIP Authentication Service CA"),
                       x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Symantec Corporation")]),
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Other Client CA")])]


def test_certificate_request_cas_tls12():
    names = b"".join(_vector(n.public_bytes(), 2) for n in CA_NAMES)
    body = _vector(b"\x01\x40", 1) + _vector(b"\x04\x03\x08\x04", 2) + _vector(names, 2)
    parsed = tls_wire.parse_certificate_request_cas(_handshake(13, body), tls13=False)
    assert parsed == [n.rfc4514_string() for n in CA_NAMES]


def test_certificate_request_cas_tls13():
    names = b"".join(_vector(n.public_bytes(), 2) for n in CA_NAMES)
    signature_algorithms = (13).to_bytes(2, "big") + _vector(_vector(b"\x04\x03", 2), 2)
    authorities = (47).to_bytes(2, "big") + _vector(_vector(names, 2), 2)
    body = _vector(b"", 1) + _vector(signature_algorithms + authorities, 2)
    parsed = tls_wire.parse_certificate_request_cas(_handshake(13, body), tls13=True)
    assert parsed == [n.rfc4514_string() for n in CA_NAMES]
    no_authorities = _vector(b"", 1) + _vector(signature_algorithms, 2)
    assert tls_wire.parse_certificate_request_cas(_handshake(13, no_authorities), tls13=True) == []


# --- the module, run as Ansible runs it ---------------------------------------------------------


def run_module(tmp_path, **args):
    pytest.importorskip("ansible")
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    collections = os.path.abspath(os.path.join(os.path.dirname(tls_probe.__file__), *[".."] * 5))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([collections] + sys.path))
    completed = subprocess.run(
        [sys.executable, "-m", "ansible_collections.vip.mtls.plugins.modules.mtls_check", str(args_file)],
        capture_output=True, text=True, env=env, timeout=30, check=False)
    return json.loads(completed.stdout)


def test_module_success_is_never_a_change(pki, servers, tmp_path):
    result = run_module(tmp_path, url=servers["plain"].url(), ca_path=pki.root_ca, _ansible_check_mode=True)
    assert result.get("failed") is not True, result
    assert (result["changed"], result["ok"], result["http_status"]) == (False, True, 200)
    assert tls_probe.NO_MTLS_WARNING in json.dumps(result["warnings"])  # 2.19 returns structured warnings


def test_module_failure_names_reason_and_hint_and_hides_the_passphrase(pki, servers, tmp_path):
    result = run_module(tmp_path, url=servers["mtls13"].url(), ca_path=pki.root_ca, client_cert=pki.client.cert,
                        client_key=pki.client_key_encrypted, client_key_passphrase="wrong-s3cret")
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"].startswith("client_cert_invalid: ")
    assert result["msg"].endswith(" (%s)" % result["detail"])
    assert "wrong client_key_passphrase" in result["msg"]
    assert (result["reason"], result["stage"]) == ("client_cert_invalid", "local")
    assert "wrong-s3cret" not in json.dumps(result)


def test_module_failure_message_names_the_key_file_without_its_content(pki, servers, tmp_path):
    result = run_module(tmp_path, url=servers["mtls13"].url(), ca_path=pki.root_ca, client_cert=pki.client.cert,
                        client_key=pki.root_ca)
    assert result["failed"] is True
    assert result["msg"] == "client_cert_invalid: %s (client_key %s holds no PEM private key)" % (
        tls_probe.HINTS["client_cert_invalid"], pki.root_ca)
    assert "BEGIN" not in json.dumps(result)


@pytest.mark.parametrize("timeout", [1e12, 99999999999, "inf", "nan", -1])
def test_module_rejects_a_timeout_out_of_range(tmp_path, timeout):
    result = run_module(tmp_path, url="https://localhost/", timeout=timeout)
    assert result["failed"] is True
    assert "timeout" in result["msg"] and "3600" in result["msg"]
    assert "_PyTime_t" not in json.dumps(result)


def test_failure_message_shortens_the_detail_to_one_line():
    long_detail = "HTTP/1.1 400 Bad Request | " + "x" * 500 + "\nsecond line"
    message = tls_probe.failure_message({"reason": "http_error", "hint": "h", "detail": long_detail})
    assert message.startswith("http_error: h (HTTP/1.1 400 Bad Request | xxx")
    assert message.endswith("...)")
    assert "\n" not in message
    assert len(message) <= len("http_error: h ()") + tls_probe.MESSAGE_DETAIL_CHARS
    assert tls_probe.failure_message({"reason": "timeout", "hint": "h", "detail": None}) == "timeout: h"


def test_failure_message_never_repeats_a_private_key():
    pem = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----"
    message = tls_probe.failure_message({"reason": "http_error", "hint": "h", "detail": "not HTTP: " + pem})
    assert "MIGHAgEAMBMG" not in message and "PRIVATE KEY-----" not in message


def test_module_usage_error(tmp_path):
    result = run_module(tmp_path, url="http://example.com/")
    assert result["failed"] is True
    assert "https://" in result["msg"]


# --- proxies -----------------------------------------------------------------------------------


def test_through_a_proxy_that_allows_connect(pki, servers, proxies):
    proxy = proxies["allow"]
    before = len(proxy.requests)
    result = check(servers["mtls13"].url(), proxy=proxy.url(), **client(pki))
    assert result["ok"] is True, result
    assert result["proxy"] == proxy.url()
    assert result["address"] == "127.0.0.1:%d" % proxy.port  # the TCP peer is the proxy
    request = proxy.requests[before].decode()
    assert request.startswith("CONNECT localhost:%d HTTP/1.1\r\n" % servers["mtls13"].port)
    assert "proxy-authorization" not in request.lower()


def test_proxy_credentials_are_sent_but_never_shown(pki, servers, proxies):
    proxy = proxies["auth"]
    before = len(proxy.requests)
    result = check(servers["mtls13"].url(), proxy=proxy.url("alice", "pr0xy-s3cret"), **client(pki))
    assert result["ok"] is True, result
    assert "Proxy-Authorization: Basic YWxpY2U6cHIweHktczNjcmV0" in proxy.requests[before].decode()
    assert result["proxy"] == "http://alice:********@127.0.0.1:%d" % proxy.port
    assert "pr0xy-s3cret" not in json.dumps(result)


@pytest.mark.parametrize("user, hint", [(None, "requires credentials"), ("alice", "refused the credentials")])
def test_proxy_that_wants_credentials(pki, servers, proxies, user, hint):
    proxy = proxies["auth"]
    result = check(servers["mtls13"].url(), proxy=proxy.url(user, "wrong-pw"), **client(pki, retries=3))
    assert_failed(result, "proxy_failure", "proxy")
    assert "HTTP/1.1 407 Proxy Authentication Required" in result["detail"]
    assert hint in result["hint"]
    assert result["attempts"] == 1  # a refusal is not retried
    shown = json.dumps(result) + tls_probe.failure_message(result)
    assert "wrong-pw" not in shown


def test_proxy_that_forbids_connect(pki, servers, proxies):
    result = check(servers["mtls13"].url(), proxy=proxies["forbid"].url(), **client(pki))
    assert_failed(result, "proxy_failure", "proxy")
    assert "HTTP/1.1 403 Forbidden" in result["detail"]
    assert "CONNECT localhost:%d" % servers["mtls13"].port in result["detail"]
    assert "allow CONNECT" in result["hint"]


def test_proxy_that_hangs_up(pki, servers, proxies):
    result = check(servers["mtls13"].url(), proxy=proxies["close"].url(), **client(pki))
    assert_failed(result, "proxy_failure", "proxy")
    assert "closed the connection" in result["detail"]


def test_proxy_that_is_not_reachable(pki, servers, closed_port):
    result = check(servers["mtls13"].url(), proxy="http://u:hidden-pw@127.0.0.1:%d" % closed_port, **client(pki))
    assert_failed(result, "proxy_failure", "proxy")
    assert "not reachable" in result["detail"] and "ECONNREFUSED" in result["detail"]
    assert "hidden-pw" not in json.dumps(result)


def test_proxy_name_that_does_not_resolve(pki, servers):
    result = check(servers["mtls13"].url(), proxy="http://proxy.nonexistent.invalid:3128", **client(pki))
    assert_failed(result, "proxy_failure", "proxy")
    assert "does not resolve" in result["detail"] and "proxy.nonexistent.invalid" in result["detail"]


def test_hostname_is_verified_against_the_target_not_the_proxy(pki, servers, proxies):
    # the proxy is 127.0.0.1, whose name the certificate carries; the target's name is other.example
    result = check(servers["plain"].url(), proxy=proxies["allow"].url(), server_name="other.example",
                   ca_path=pki.root_ca, timeout=5)
    assert_failed(result, "server_hostname_mismatch", "tls")


@pytest.mark.parametrize("environ, used", [
    ({"https_proxy": "PROXY"}, True),
    ({"HTTPS_PROXY": "PROXY", "NO_PROXY": "example.com"}, True),
    ({"https_proxy": "PROXY", "no_proxy": "localhost"}, False),
    ({"https_proxy": "PROXY", "no_proxy": ".example.com, *"}, False),
    ({"https_proxy": "PROXY", "no_proxy": "127.0.0.0/8"}, False),  # matches address
    ({"https_proxy": "PROXY", "no_proxy": "calhost"}, True),  # a suffix only counts at a dot
    ({}, False),
])
def test_proxy_from_the_environment(pki, servers, proxies, environ, used):
    proxy = proxies["allow"]
    environ = {k: v.replace("PROXY", proxy.url()) for k, v in environ.items()}
    result = check(servers["mtls13"].url(), use_proxy_env=True, environ=environ, address="127.0.0.1", **client(pki))
    assert result["ok"] is True, result
    assert result["proxy"] == (proxy.url() if used else None)


@pytest.mark.parametrize("host, no_proxy, expected", [
    ("api.example.com", "example.com", True), ("api.example.com", ".example.com", True),
    ("api.example.com", "*.example.com", True), ("example.com", "example.com:443", True),
    ("badexample.com", "example.com", False), ("10.1.2.3", "10.0.0.0/8", True), ("::1", "[::1]:8443", True),
    ("api.example.com", "", False), ("anything", "*", True), ("API.Example.COM.", "example.com", True),
])
def test_no_proxy_matching(host, no_proxy, expected):
    assert tls_wire.no_proxy_matches(host, no_proxy) is expected


@pytest.mark.parametrize("proxy", ["https://proxy:3128", "socks5://proxy:1080", "http://proxy:99999",
                                   "http://user:pw@proxy:3128/path"])
def test_unusable_proxy_is_a_usage_error_without_the_password(proxy):
    with pytest.raises(VipMtlsError) as raised:
        check("https://localhost/", proxy=proxy)
    assert "proxy" in raised.value.msg
    assert ":pw@" not in raised.value.msg


# --- server_name, address, tls_min_version -------------------------------------------------------


def test_address_connects_elsewhere_but_verifies_the_url_host(pki, servers):
    # the url names a host that does not resolve; address says where the node really is
    server = servers["plain"]
    result = check("https://localhost.invalid:%d/" % server.port, address="127.0.0.1", server_name="localhost",
                   ca_path=pki.root_ca, timeout=5)
    assert result["ok"] is True, result
    assert "Host: localhost:%d" % server.port in server.requests[-1].decode()


def test_address_alone_keeps_verifying_the_url_host(pki, servers):
    result = check("https://other.example:%d/" % servers["plain"].port, address="127.0.0.1",
                   ca_path=pki.root_ca, timeout=5)
    assert_failed(result, "server_hostname_mismatch", "tls")  # the node's certificate is for localhost


def test_server_name_is_what_the_certificate_must_match(pki, servers):
    server = servers["other_name"]
    result = check("https://127.0.0.1:%d/" % server.port, server_name="other.example", ca_path=pki.root_ca,
                   timeout=5)
    assert result["ok"] is True, result
    assert "Host: other.example:%d" % server.port in server.requests[-1].decode()


def test_address_with_its_own_port(pki, servers):
    result = check("https://localhost/", address="127.0.0.1:%d" % servers["plain"].port, ca_path=pki.root_ca,
                   timeout=5)
    assert result["ok"] is True, result


def test_tls_1_3_minimum_against_a_tls_1_2_server(pki, servers):
    result = check(servers["tls12_only"].url(), tls_min_version="1.3", ca_path=pki.root_ca, timeout=5)
    assert_failed(result, "tls_protocol_mismatch", "tls")
    assert "TLS 1.3 or newer" in result["hint"]
    ok = check(servers["tls12_only"].url(), tls_min_version="1.2", ca_path=pki.root_ca, timeout=5)
    assert (ok["ok"], ok["tls_version"]) == (True, "TLSv1.2")


@pytest.mark.parametrize("options", [dict(tls_min_version="1.1"), dict(probe="soap"), dict(retries=-1),
                                     dict(retries="x"), dict(delay=-1), dict(expected_status=[99]),
                                     dict(server_name="bad name"), dict(address="host:notaport"),
                                     dict(ca_path="/etc", anchors=["x"])])
def test_bad_option_values_are_usage_errors(options):
    with pytest.raises(VipMtlsError):
        check("https://localhost/", **options)


# --- anchors -------------------------------------------------------------------------------------


def test_anchors_as_pem_text_and_as_files(pki, servers):
    with open(pki.root_ca) as handle:
        root_pem = handle.read()
    for anchors in ([root_pem], [pki.client_ca, pki.root_ca], [pki.foreign_ca, root_pem]):
        result = check(servers["plain"].url(), anchors=anchors, timeout=5)
        assert result["ok"] is True, result
        if CHAIN_VISIBLE:
            assert result["anchor"]["fingerprint_sha256"] == colon_sha256(pki.root_der)
            assert result["anchor"]["subject"] == pki.root_subject


def test_anchors_replace_the_system_store(pki, servers):
    result = check(servers["plain"].url(), anchors=[pki.client_ca], timeout=5)
    assert_failed(result, "server_untrusted", "tls")


def test_anchor_is_named_without_get_verified_chain(pki, servers, monkeypatch):
    # Python 3.9 has no verified chain; with explicit anchors the one root that fits is still certain
    monkeypatch.setattr(tls_probe, "verified_chain_ders", lambda tls: None)
    result = check(servers["plain"].url(), anchors=[pki.client_ca, pki.root_ca], timeout=5)
    assert result["ok"] is True
    assert result["server_chain"] is None
    assert result["anchor"]["fingerprint_sha256"] == colon_sha256(pki.root_der)
    system = check(servers["plain"].url(), timeout=5, ca_path=None)  # unknown trusted set: never guessed
    assert system["anchor"] is None


def test_anchor_file_in_der_form(pki, servers, tmp_path):
    der = tmp_path / "root.der"
    der.write_bytes(pki.root_der)
    assert check(servers["plain"].url(), anchors=[str(der)], timeout=5)["ok"] is True


@pytest.mark.parametrize("anchor", ["/no/such/root.pem", "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"])
def test_unusable_anchor_is_a_usage_error(anchor):
    with pytest.raises(VipMtlsError) as raised:
        check("https://localhost/", anchors=[anchor])
    assert "anchors[0]" in raised.value.msg
    assert "abc" not in raised.value.msg


# --- PKCS#12 -------------------------------------------------------------------------------------


def test_pkcs12_with_cryptography(pki, servers, monkeypatch):
    made = []
    real_mkdtemp = tls_probe.tempfile.mkdtemp

    def watched_mkdtemp(**kwargs):
        made.append(real_mkdtemp(**kwargs))
        assert os.stat(made[-1]).st_mode & 0o777 == 0o700
        return made[-1]

    monkeypatch.setattr(tls_probe.tempfile, "mkdtemp", watched_mkdtemp)
    result = check(servers["mtls13"].url(), client_pkcs12=pki.client_p12, client_pkcs12_passphrase="p12-s3cret",
                   ca_path=pki.root_ca, timeout=5)
    assert result["ok"] is True, result
    assert result["client_cert_requested"] is True and result["warnings"] == []
    assert made and not os.path.exists(made[0])  # the temporary key is gone at once
    assert "p12-s3cret" not in json.dumps(result)


def test_pkcs12_with_a_wrong_password(pki, closed_port):
    result = check("https://127.0.0.1:%d/" % closed_port, client_pkcs12=pki.client_p12,
                   client_pkcs12_passphrase="wrong-pw", ca_path=pki.root_ca, timeout=5)
    assert_failed(result, "client_cert_invalid", "local")
    assert "wrong client_pkcs12_passphrase" in result["detail"]
    assert result["attempts"] == 0 and "wrong-pw" not in json.dumps(result)


def test_pkcs12_without_cryptography_names_the_pem_route(pki, closed_port, monkeypatch):
    monkeypatch.setattr(tls_probe, "_import_pkcs12", lambda: None)
    result = check("https://127.0.0.1:%d/" % closed_port, client_pkcs12=pki.client_p12,
                   client_pkcs12_passphrase="p12-s3cret", ca_path=pki.root_ca, timeout=5)
    assert_failed(result, "client_cert_invalid", "local")
    assert "cryptography" in result["detail"] and "client_cert and client_key" in result["detail"]
    assert "vip.mtls.client_cert" in result["hint"]


def test_pkcs12_import_really_is_guarded(monkeypatch):
    real_import = builtins.__import__

    def no_cryptography(name, *args, **kwargs):
        if name.startswith("cryptography"):
            raise ImportError("No module named %r" % name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cryptography)
    assert tls_probe._import_pkcs12() is None


# --- probe: vip_get_server_time, expected_status --------------------------------------------------


@pytest.mark.parametrize("server", ["vip_0000", "vip_0000_prefixed"])
def test_vip_get_server_time_success(pki, servers, server):
    before = len(servers[server].requests)
    result = check(servers[server].url(path="/vipuserservices/QueryService_1_8"), probe="vip_get_server_time",
                   **client(pki))
    assert result["ok"] is True, result
    assert "status 0000 (Success)" in result["detail"]
    request = servers[server].requests[before].decode()
    head, _sep, body = request.partition("\r\n\r\n")
    lines = head.split("\r\n")
    assert lines[0] == "POST /vipuserservices/QueryService_1_8 HTTP/1.1"
    assert "Content-Type: text/xml; charset=utf-8" in lines
    assert 'SOAPAction: ""' in lines
    assert "Content-Length: %d" % len(body.encode()) in lines
    assert 'xmlns:vip="https://schemas.symantec.com/vip/2011/04/vipuserservices"' in body
    assert "<vip:GetServerTimeRequest><vip:requestId>vipmtls" in body


def test_vip_get_server_time_other_status_is_an_application_error(pki, servers):
    result = check(servers["vip_0001"].url(), probe="vip_get_server_time", **client(pki, retries=2))
    assert_failed(result, "application_error", "application")
    assert "status 0001 (Internal Server Error)" in result["detail"]
    assert result["attempts"] == 1


def test_vip_get_server_time_soap_fault(pki, servers):
    result = check(servers["vip_fault"].url(), probe="vip_get_server_time", **client(pki))
    assert_failed(result, "application_error", "application")
    assert "Cannot find dispatch method" in result["detail"]
    assert result["http_status"] == 500


def test_expected_status(pki, servers):
    assert check(servers["not_found"].url(), expected_status=[404], ca_path=pki.root_ca)["ok"] is True
    result = check(servers["not_found"].url(), expected_status=[200, 204], ca_path=pki.root_ca, timeout=5)
    assert_failed(result, "http_error", "http")
    assert "404" in result["detail"] and "expected_status" in result["hint"]


# --- retries and the one deadline ----------------------------------------------------------------


def test_retry_until_the_service_comes_up(pki, closed_port):
    from tls_servers import TlsServer, server_context  # loaded as a plugin already; imported late to keep it so

    started = []

    def start_later():
        started.append(TlsServer(server_context(pki, pki.server, ssl.CERT_NONE), port=closed_port))

    timer = threading.Timer(0.4, start_later)
    timer.start()
    try:
        result = check("https://localhost:%d/" % closed_port, ca_path=pki.root_ca, timeout=5, retries=10,
                       delay=0.2)
    finally:
        timer.join()
        for server in started:
            server.stop()
    assert result["ok"] is True, result
    assert result["attempts"] >= 2
    assert any("earlier attempts failed with connect_refused" in w for w in result["warnings"])


@pytest.mark.parametrize("timeout, delay", [(1.0, 0.3), (0.5, 0.2), (0.7, 0.0)])
def test_retries_never_exceed_the_deadline(pki, closed_port, timeout, delay):
    result = check("https://127.0.0.1:%d/" % closed_port, ca_path=pki.root_ca, timeout=timeout, retries=100,
                   delay=delay)
    assert_failed(result, "connect_refused", "connect")
    assert result["attempts"] >= 2
    assert result["elapsed_ms"] <= timeout * 1000 + 50


def test_a_slow_attempt_leaves_no_time_for_another(pki, servers):
    result = check(servers["mute"].url(), ca_path=pki.root_ca, timeout=0.6, retries=5, delay=0.1)
    assert_failed(result, "timeout", "http")
    assert result["attempts"] == 1
    assert 550 <= result["elapsed_ms"] <= 600 + 80


@pytest.mark.parametrize("server, options, attempts", [
    ("plain", dict(ca_path="CLIENT_CA"), 1),  # untrusted server: never retried
    ("mtls13", dict(), 1),  # certificate required: never retried
    ("unavailable", dict(expected_status=[200]), 3),  # 5xx outside expected_status: retried
    ("unavailable", dict(), 1),  # without expected_status a 503 is an answer, so ok
])
def test_what_is_retried(pki, servers, server, options, attempts):
    options = dict(options)
    options["ca_path"] = pki.client_ca if options.get("ca_path") == "CLIENT_CA" else pki.root_ca
    result = check(servers[server].url(), timeout=5, retries=2, delay=0.05, **options)
    assert result["attempts"] == attempts, result


def test_proxy_5xx_is_retried_and_a_refused_proxy_too(pki, servers, proxies, closed_port):
    result = check(servers["plain"].url(), proxy=proxies["bad_gateway"].url(), ca_path=pki.root_ca, timeout=5,
                   retries=2, delay=0.05)
    assert_failed(result, "proxy_failure", "proxy")
    assert "502 Bad Gateway" in result["detail"] and result["attempts"] == 3
    result = check(servers["plain"].url(), proxy="http://127.0.0.1:%d" % closed_port, ca_path=pki.root_ca,
                   timeout=5, retries=1, delay=0.05)
    assert result["attempts"] == 2


# --- the error mapping, from recorded values -----------------------------------------------------


class RecordedObserver:
    """What a HandshakeObserver had seen when the recorded error was raised."""

    def __init__(self, requested=None, sent=None, completed=False, alerts=()):
        self.cert_requested = requested
        self.client_certs_sent = sent
        self.handshake_completed = completed
        self.alerts = list(alerts)

    def alert_names(self):
        return [tls_wire.ALERT_NAMES.get(code, "alert %d" % code) for code in self.alerts]

    def server_certificate_names(self):
        return None, None


def ssl_error(text):
    return ssl.SSLError(1, text)


# (error as Python 3.9-3.13 with OpenSSL 1.1/3.x reports it, what the observer had seen) -> reason, stage
RECORDED_TLS_ERRORS = [
    (ssl_error("[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required (_ssl.c:2580)"),
     RecordedObserver(True, 0, True, [116]), "client_cert_required", "tls"),
    (ssl_error("[SSL: SSLV3_ALERT_BAD_CERTIFICATE] sslv3 alert bad certificate (_ssl.c:2580)"),
     RecordedObserver(True, 1, True, [42]), "client_cert_rejected", "tls"),
    (ssl_error("[SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 alert unknown ca (_ssl.c:1006)"),
     RecordedObserver(True, 1), "client_cert_rejected", "tls"),
    (ssl_error("[SSL: SSLV3_ALERT_CERTIFICATE_EXPIRED] sslv3 alert certificate expired (_ssl.c:2580)"),
     RecordedObserver(True, 1, True), "client_cert_rejected", "tls"),
    (ssl_error("[SSL: SSLV3_ALERT_CERTIFICATE_REVOKED] sslv3 alert certificate revoked (_ssl.c:1006)"),
     RecordedObserver(True, 1), "client_cert_rejected", "tls"),
    (ssl_error("[SSL: TLSV1_ALERT_ACCESS_DENIED] tlsv1 alert access denied (_ssl.c:1006)"),
     RecordedObserver(True, 1), "client_cert_rejected", "tls"),
    (ssl_error("[SSL: TLSV1_ALERT_DECRYPT_ERROR] tlsv1 alert decrypt error (_ssl.c:1006)"),
     RecordedObserver(True, 1), "client_cert_rejected", "tls"),
    (ssl_error("[SSL: SSLV3_ALERT_HANDSHAKE_FAILURE] sslv3 alert handshake failure (_ssl.c:1006)"),
     RecordedObserver(True, 0, alerts=[40]), "client_cert_required", "tls"),
    (ssl_error("[SSL: SSLV3_ALERT_HANDSHAKE_FAILURE] sslv3 alert handshake failure (_ssl.c:1006)"),
     RecordedObserver(True, 1, alerts=[40]), "client_cert_rejected", "tls"),
    (ssl_error("[SSL: SSLV3_ALERT_HANDSHAKE_FAILURE] sslv3 alert handshake failure (_ssl.c:1006)"),
     RecordedObserver(False), "tls_protocol_mismatch", "tls"),
    (ssl_error("[SSL: SSLV3_ALERT_BAD_CERTIFICATE] sslv3 alert bad certificate (_ssl.c:1006)"),
     RecordedObserver(False), "tls_protocol_mismatch", "tls"),  # no mutual TLS: not about our certificate
    (ssl_error("[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version (_ssl.c:1006)"),
     RecordedObserver(), "tls_protocol_mismatch", "tls"),
    (ssl_error("[SSL: UNSUPPORTED_PROTOCOL] unsupported protocol (_ssl.c:1006)"),
     RecordedObserver(), "tls_protocol_mismatch", "tls"),
    (ssl_error("[SSL: NO_PROTOCOLS_AVAILABLE] no protocols available (_ssl.c:1006)"),
     RecordedObserver(), "tls_protocol_mismatch", "tls"),
    (ssl_error("[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)"),
     RecordedObserver(), "tls_protocol_mismatch", "tls"),
    (ssl_error("[SSL: TLSV1_ALERT_INSUFFICIENT_SECURITY] tlsv1 alert insufficient security (_ssl.c:1006)"),
     RecordedObserver(), "tls_protocol_mismatch", "tls"),
    (ssl_error("[SSL: NO_SHARED_CIPHER] no shared cipher (_ssl.c:1006)"),
     RecordedObserver(), "tls_protocol_mismatch", "tls"),
    (ssl.SSLEOFError(8, "[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol (_ssl.c:1006)"),
     RecordedObserver(True, 0), "client_cert_required", "tls"),
    (ssl.SSLEOFError(8, "EOF occurred in violation of protocol (_ssl.c:1131)"),
     RecordedObserver(False, None, True), "http_error", "http"),
    (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
     RecordedObserver(True, 1, True), "client_cert_rejected", "tls"),
    (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
     RecordedObserver(None), "tls_protocol_mismatch", "tls"),
    (BrokenPipeError(errno.EPIPE, "Broken pipe"), RecordedObserver(True, 0), "client_cert_required", "tls"),
    (socket.timeout("The read operation timed out"), RecordedObserver(), "timeout", "tls"),
]


@pytest.mark.parametrize("exc, observer, reason, stage", RECORDED_TLS_ERRORS)
def test_recorded_tls_errors(exc, observer, reason, stage):
    failure = tls_probe.classify_tls_error(exc, observer, "during the TLS handshake")
    assert (failure.reason, failure.stage) == (reason, stage)
    assert failure.detail.startswith("during the TLS handshake")


@pytest.mark.parametrize("code, message, reason", [
    (10, "certificate has expired", "server_cert_expired"),
    (9, "certificate is not yet valid", "server_cert_expired"),
    (62, "Hostname mismatch, certificate is not valid for 'example.com'.", "server_hostname_mismatch"),
    (64, "IP address mismatch, certificate is not valid for '127.0.0.1'.", "server_hostname_mismatch"),
    (20, "unable to get local issuer certificate", "server_untrusted"),
    (19, "self-signed certificate in certificate chain", "server_untrusted"),
    (18, "self-signed certificate", "server_untrusted"),
    (2, "unable to get issuer certificate", "server_untrusted"),
])
def test_recorded_verify_errors(code, message, reason):
    exc = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: %s" % message)
    exc.verify_code = code
    exc.verify_message = message
    failure = tls_probe.server_verify_failure(exc, RecordedObserver())
    assert (failure.reason, failure.stage) == (reason, "tls")
    assert "verify code %d" % code in failure.detail


@pytest.mark.parametrize("number, reason", [
    (errno.ECONNREFUSED, "connect_refused"), (errno.ECONNRESET, "connect_refused"),
    (errno.ETIMEDOUT, "connect_timeout"), (errno.EHOSTUNREACH, "connect_timeout"),
    (errno.ENETUNREACH, "connect_timeout"), (errno.EADDRNOTAVAIL, "connect_timeout"), (None, "connect_timeout"),
])
def test_recorded_connect_errnos(number, reason):
    assert tls_probe.connect_failure_reason(number) == reason


@pytest.mark.parametrize("error", [socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
                                   socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
                                   UnicodeError("label empty or too long")])
def test_recorded_resolver_errors(pki, monkeypatch, error):
    def failing_getaddrinfo(host, *args, **kwargs):
        raise error

    monkeypatch.setattr(tls_probe.socket, "getaddrinfo", failing_getaddrinfo)
    result = check("https://api.example.test/", ca_path=pki.root_ca, timeout=2, retries=3, delay=0.01)
    assert_failed(result, "dns_failure", "dns")
    assert result["attempts"] == 1  # a name that does not resolve is not retried


def test_module_passes_every_new_option(pki, servers, proxies, tmp_path):
    result = run_module(tmp_path, url=servers["vip_0000"].url(path="/vipuserservices/QueryService_1_8"),
                        client_pkcs12=pki.client_p12, client_pkcs12_passphrase="p12-s3cret",
                        anchors=[pki.root_ca], proxy=proxies["auth"].url("alice", "pr0xy-s3cret"),
                        server_name="localhost", address="localhost", tls_min_version="1.3",
                        probe="vip_get_server_time", expected_status=[200], retries=1, delay=0.1, timeout=5,
                        _ansible_check_mode=True)
    assert result.get("failed") is not True, result
    assert (result["changed"], result["ok"], result["attempts"], result["tls_version"]) == (False, True, 1, "TLSv1.3")
    assert result["proxy"] == "http://alice:********@127.0.0.1:%d" % proxies["auth"].port
    shown = json.dumps(result)
    assert "pr0xy-s3cret" not in shown and "p12-s3cret" not in shown


def test_client_issuer_compared_with_the_cas_the_server_accepts(tmp_path):
    """When the server names the client CAs it accepts, an issuer outside them is pointed out."""
    import pki as factory
    leaf = factory.Chain(prefix="Issuer").leaf
    path = tmp_path / "client.crt"
    path.write_bytes(factory.pem(leaf))
    ours = leaf.issuer.rfc4514_string()
    for reason, accepted, where in (("ok", ["CN=Other CA"], "warnings"), ("client_cert_rejected", ["CN=Other CA"], "hint"),
                                    ("ok", [ours], None)):
        result = {"reason": reason, "hint": "h", "warnings": [], "acceptable_client_cas": accepted}
        tls_probe._compare_client_issuer(result, str(path))
        assert result["client_cert_issuer"] == ours
        note = "ours is issued by %s" % ours
        if where == "warnings":
            assert any(note in w for w in result["warnings"]) and result["hint"] == "h"
        elif where == "hint":
            assert note in result["hint"] and not result["warnings"]
        else:
            assert not result["warnings"] and result["hint"] == "h"
