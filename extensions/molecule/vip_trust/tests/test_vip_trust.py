"""After vip.mtls.vip_trust with stores system, java and bundle: real clients on the host trust the stand-in
(whose root was added beside the two DigiCert roots) through each store, with no CA option of their own.
The stand-in's port without client-certificate request is used: this role is about server trust only."""

import vipmol
from vipmol import Curl

BUNDLE = "/etc/ssl/vip-app-bundle.pem"
# Debian ships G2 in ca-certificates; the stand-in's root is not anchored by it.
G2_ONLY = "/usr/share/ca-certificates/mozilla/DigiCert_Global_Root_G2.crt"


def test_curl_trusts_the_stand_in_through_the_system_store(node):
    call = Curl(node, vipmol.url(vipmol.NO_CLIENT_CERT), user="vipapp")
    assert (call.rc, call.status) == (0, 200), call


def test_java_trusts_the_stand_in_through_the_jre_default_cacerts(node):
    rc, out = vipmol.java_probe(node, vipmol.url(vipmol.NO_CLIENT_CERT), user="vipapp")
    assert (rc, out) == (0, "HTTP 200")


def test_java_cacerts_holds_the_added_root(node):
    listing = node.run("keytool -list -v -keystore %s -storepass changeit" % vipmol.JAVA_CACERTS)
    assert listing.rc == 0, listing.stderr
    assert "SHA256: " + vipmol.pki_fingerprint("root-ca.crt") in listing.stdout
    assert "SHA256: " + vipmol.DIGICERT_G2 in listing.stdout


def test_application_bundle_trusts_the_stand_in(node):
    call = Curl(node, vipmol.url(vipmol.NO_CLIENT_CERT), "--cacert", BUNDLE, user="vipapp")
    assert (call.rc, call.status) == (0, 200), call
    assert node.file(BUNDLE).mode == 0o644


def test_every_store_holds_g2_g1_and_the_added_root(node):
    expected = {vipmol.DIGICERT_G2, vipmol.DIGICERT_G1, vipmol.pki_fingerprint("root-ca.crt")}
    for path in (vipmol.SYSTEM_BUNDLE, BUNDLE):
        found = set(vipmol.pem_fingerprints(node.file(path).content))
        assert expected <= found, (path, expected - found)
    # the managed anchor files themselves, G2 first
    anchors = node.run("ls /usr/local/share/ca-certificates").stdout.split()
    assert {"digicert-global-root-g2.crt", "digicert-global-root-ca.crt", "vip-molecule-root.crt"} <= set(anchors)


def openssl_verify(node, ca_file):
    """openssl s_client against the stand-in with ONLY ca_file as trust (no default directory or store)."""
    return node.run(
        "openssl s_client -connect 127.0.0.1:%d -servername vip-standin.test -verify_hostname vip-standin.test "
        "-verify_return_error -CAfile %s -no-CApath -no-CAstore </dev/null"
        % (vipmol.PORT + vipmol.NO_CLIENT_CERT, ca_file))


def test_only_the_added_root_makes_the_stand_in_trusted(node):
    with_root = openssl_verify(node, vipmol.SYSTEM_BUNDLE)
    assert with_root.rc == 0 and "Verify return code: 0 (ok)" in with_root.stdout, with_root.stderr
    # negative control: a store with the DigiCert root alone does not anchor the stand-in (and curl's
    # --cacert would not show it: Debian's curl still reads /etc/ssl/certs beside it)
    g2_only = openssl_verify(node, G2_ONLY)
    assert g2_only.rc != 0 and "unable to get local issuer certificate" in (g2_only.stdout + g2_only.stderr)
