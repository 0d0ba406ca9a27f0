"""After vip.mtls.vip_client_cert: each output form, read by the application account, completes a mutual-TLS
call with the stand-in (curl with the PEM pair, the combined PEM and the PKCS#12; Java with the keystore),
while another account can read none of the key material. The server is trusted through the stand-in's root
copied by prepare.yml (this role does not touch the trust store)."""

import pytest

import vipmol
from vipmol import Curl

DIR = "/etc/vip-mtls"
ROOT = vipmol.HOST_DIR + "/root-ca.crt"
SECRETS = ("client.key", "client-combined.pem", "client-out.p12", "client-keystore.p12")


@pytest.mark.parametrize("args", [
    ["--cert", DIR + "/client.crt", "--key", DIR + "/client.key"],
    ["--cert", DIR + "/client-combined.pem"],
    ["--cert-type", "P12", "--cert", DIR + "/client-out.p12:molecule-p12-out"],
], ids=["pem-pair", "combined", "pkcs12"])
def test_curl_completes_mutual_tls_with_each_output(node, args):
    call = Curl(node, vipmol.url(), "--cacert", ROOT, *args, user="vipapp")
    assert (call.rc, call.status, call.body) == (0, 200, "vip-standin ok\n"), call


def test_java_completes_mutual_tls_with_the_pkcs12_keystore(node):
    trust = "/tmp/vipmol-trust.p12"
    made = node.run("rm -f %s && keytool -importcert -noprompt -alias stand-in-root -file %s -keystore %s "
                    "-storetype PKCS12 -storepass changeit && chmod 0644 %s" % (trust, ROOT, trust, trust))
    assert made.rc == 0, made.stdout + made.stderr
    rc, out = vipmol.java_probe(
        node, vipmol.url(),
        "-Djavax.net.ssl.keyStore=%s/client-keystore.p12" % DIR, "-Djavax.net.ssl.keyStoreType=PKCS12",
        "-Djavax.net.ssl.keyStorePassword=molecule-keystore",
        "-Djavax.net.ssl.trustStore=" + trust, "-Djavax.net.ssl.trustStorePassword=changeit",
        user="vipapp")
    assert (rc, out) == (0, "HTTP 200")


def test_certificate_and_chain_are_those_of_the_pkcs12(node):
    assert vipmol.pem_fingerprints(node.file(DIR + "/client.crt").content) == [vipmol.pki_fingerprint("client.crt")]
    assert vipmol.pem_fingerprints(node.file(DIR + "/chain.crt").content) == [vipmol.pki_fingerprint("client-ca.crt")]


def test_owner_group_and_modes(node):
    directory = node.file(DIR)
    assert (directory.user, directory.group, directory.mode) == ("root", "vipapp", 0o750)
    for name in ("client.crt", "chain.crt"):
        f = node.file(DIR + "/" + name)
        assert (f.user, f.group, f.mode) == ("root", "vipapp", 0o644), name
    for name in SECRETS:
        f = node.file(DIR + "/" + name)
        assert (f.user, f.group, f.mode) == ("root", "vipapp", 0o640), name


def test_another_account_reads_no_key_material(node):
    for name in SECRETS:
        res = node.run(" ".join(vipmol.as_user("nobody", ["head", "-c", "1", DIR + "/" + name], group="nogroup")))
        assert res.rc != 0 and "Permission denied" in res.stderr, (name, res.stderr)


def test_stand_in_refuses_a_call_without_client_certificate(node):
    # negative control: the 200s above are due to the client certificate
    call = Curl(node, vipmol.url(), "--cacert", ROOT, user="vipapp")
    assert call.status == 400 and "No required SSL certificate was sent" in call.body, call
