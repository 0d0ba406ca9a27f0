"""After vip.mtls.vip_mtls: the host calls the mTLS stand-in with what the role installed, nothing else.

curl runs as the application account with the deployed certificate and key and the host's default trust
store: success needs both the stand-in's root in the system store (vip_trust) and an accepted client
certificate (vip_client_cert). The negative controls show the stand-in and the clients really check.
"""

import vipmol
from vipmol import Curl

CERT = "/etc/vip-mtls/client.crt"
KEY = "/etc/vip-mtls/client.key"


def test_app_user_completes_mutual_tls_with_system_store(node):
    call = Curl(node, vipmol.url(), "--cert", CERT, "--key", KEY, user="vipapp")
    assert (call.rc, call.status, call.body) == (0, 200, "vip-standin ok\n"), call


def test_vip_get_server_time_answers_success(node):
    call = Curl(node, vipmol.url(path="/vipuserservices/QueryService_1_8"), "--cert", CERT, "--key", KEY,
                "-H", "Content-Type: text/xml; charset=utf-8", "-H", "SOAPAction: \"\"",
                "--data-binary", vipmol.SOAP_GET_SERVER_TIME, user="vipapp")
    assert call.status == 200 and "<status>0000</status>" in call.body, call


def test_openssl_verifies_the_chain_against_the_system_store(node):
    result = node.run(
        "openssl s_client -connect 127.0.0.1:%d -servername vip-standin.test -verify_hostname vip-standin.test "
        "-verify_return_error -CAfile %s -cert %s -key %s </dev/null" % (vipmol.PORT, vipmol.SYSTEM_BUNDLE, CERT, KEY))
    assert result.rc == 0 and "Verify return code: 0 (ok)" in result.stdout, result.stdout + result.stderr


def test_system_bundle_holds_both_digicert_roots_and_the_added_root(node):
    found = set(vipmol.pem_fingerprints(node.file(vipmol.SYSTEM_BUNDLE).content))
    expected = {vipmol.DIGICERT_G2, vipmol.DIGICERT_G1, vipmol.pki_fingerprint("root-ca.crt")}
    assert expected <= found, expected - found


def test_deployed_certificate_is_the_one_from_the_pkcs12(node):
    assert vipmol.pem_fingerprints(node.file(CERT).content) == [vipmol.pki_fingerprint("client.crt")]


def test_key_readable_by_the_application_group_only(node):
    key = node.file(KEY)
    assert (key.user, key.group, key.mode) == ("root", "vipapp", 0o640)
    assert node.run(" ".join(vipmol.as_user("vipapp", ["head", "-c", "1", KEY]))).rc == 0
    other = node.run(" ".join(vipmol.as_user("nobody", ["head", "-c", "1", KEY], group="nogroup")))
    assert other.rc != 0 and "Permission denied" in other.stderr, other


def test_stand_in_refuses_a_call_without_client_certificate(node):
    # negative control: success above is due to the client certificate, not an open server
    call = Curl(node, vipmol.url(), user="vipapp")
    assert call.status == 400 and "No required SSL certificate was sent" in call.body, call


def test_curl_still_refuses_a_server_name_mismatch(node):
    # negative control: the trust store is used for verification, not bypassed
    call = Curl(node, vipmol.url(vipmol.WRONG_NAME), "--cert", CERT, "--key", KEY, user="vipapp")
    assert call.rc == 60 and call.status == 0, call
