# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reachability check against real TLS servers on 127.0.0.1: one test per reason and stage."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import socket
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

pytest_plugins = ["tls_servers"]  # the fixtures pki, servers, closed_port

RESULT_KEYS = {
    "ok", "reason", "stage", "hint", "detail", "tls_version", "cipher", "http_status", "address",
    "elapsed_ms", "server_chain", "anchor", "client_cert_requested", "acceptable_client_cas", "warnings",
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
    collections = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", ".build", "collections"))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([collections] + sys.path))
    completed = subprocess.run(
        [sys.executable, "-m", "ansible_collections.vip.mtls.plugins.modules.mtls_check", str(args_file)],
        capture_output=True, text=True, env=env, timeout=30)
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
