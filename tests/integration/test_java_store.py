"""The java trust store on real test hosts with a JRE (issue 3): vip.mtls.trust_anchor with the host's own
keytool and Debian's cacerts, then a real Java client making a mutual-TLS call to the stand-in with the
JRE's DEFAULT truststore — refused (PKIX) before the module trusts the root, HTTP 200 after."""

from __future__ import annotations

import os
import shutil
import textwrap

import pytest

from conftest import IMAGE, PORT, host_bundle_fingerprints, host_group, pem_file_fingerprint, ansible_playbook, podman_exec, run

JAVA_PREFIX = os.environ.get("VIP_MTLS_TEST_PREFIX", "vipmtls-it") + "-java"
JAVA_IMAGE = os.environ.get("VIP_MTLS_TEST_JAVA_IMAGE", IMAGE + "-java")
CACERTS = "/etc/ssl/certs/java/cacerts"
JRE_CACERTS = "/usr/lib/jvm/default-java/lib/security/cacerts"  # the symlink Java reads, -> CACERTS
URL = "https://vip-standin.test:%d/" % PORT
CLIENT_P12_PASS = "client-p12-pass"

MTLS_CLIENT = textwrap.dedent("""\
    import java.net.URL;
    import javax.net.ssl.HttpsURLConnection;

    /** GET the URL with the JVM's default SSLContext: javax.net.ssl.* properties, default truststore. */
    public class MtlsClient {
        public static void main(String[] args) {
            try {
                HttpsURLConnection conn = (HttpsURLConnection) new URL(args[0]).openConnection();
                conn.setConnectTimeout(10000);
                conn.setReadTimeout(10000);
                System.out.println("HTTP " + conn.getResponseCode());
            } catch (Exception e) {
                System.out.println("FAILED " + e);
                System.exit(1);
            }
        }
    }
    """)


@pytest.fixture(scope="module")
def java_hosts(tmp_path_factory):
    """Two fresh hosts from the image with Debian's default JRE (build-image.sh SUITE java)."""
    yield from host_group(JAVA_PREFIX, 3, JAVA_IMAGE, tmp_path_factory, app_user=None)


def cacerts_entries(host):
    """{alias: SHA-256} of the JRE's cacerts, as the host's keytool lists it."""
    out = podman_exec(host, "keytool", "-list", "-keystore", JRE_CACERTS, "-storepass", "changeit").stdout
    lines = out.splitlines()
    return {lines[i - 1].split(",", 1)[0]: line.split(": ", 1)[1].strip()
            for i, line in enumerate(lines) if line.startswith("Certificate fingerprint (SHA-256): ")}


def trust(java_hosts, host, tmp_path, standin, stores, state="present", *args):
    """One vip.mtls.trust_anchor task from a small playbook; returns (run, the task's result)."""
    playbook = tmp_path / ("trust-%s-%s.yml" % ("-".join(stores), state))
    playbook.write_text(textwrap.dedent("""\
        - name: Java store
          hosts: all
          gather_facts: false
          tasks:
            - name: Trust the stand-in root
              vip.mtls.trust_anchor:
                src: %s
                name: vip-test-root
                stores: %s
                state: %s
        """ % (standin / "pki" / "root-ca.crt", list(stores), state)))
    result = ansible_playbook(str(playbook), java_hosts["inventory"], "--limit", host, *args)
    tasks = result.results(host, "Trust the stand-in root")
    assert result.rc == 0 and tasks, result
    return result, tasks[0]


def test_java_store_add_idempotent_and_absent(java_hosts, standin, tmp_path):
    host = java_hosts["hosts"][0]
    root_fp = pem_file_fingerprint(standin / "pki" / "root-ca.crt")
    shipped = cacerts_entries(host)
    assert len(shipped) > 100 and root_fp not in shipped.values()
    assert podman_exec(host, "readlink", "-f", JRE_CACERTS).stdout.strip() == CACERTS
    # The module's default: the cacerts of the JAVA_HOME of the java on PATH (a symlink on Debian).
    java = podman_exec(host, "readlink", "-f", "/usr/bin/java").stdout.strip()
    cacerts = os.path.join(os.path.dirname(os.path.dirname(java)), "lib", "security", "cacerts")

    def checksum():
        return podman_exec(host, "sha256sum", CACERTS).stdout

    # Check mode: reports the change, touches nothing.
    before = checksum()
    _run, checked = trust(java_hosts, host, tmp_path, standin, ["java"], "present", "--check")
    assert checked["changed"] is True and checked["stores"]["java"]["changed"] is True
    assert checksum() == before

    # The java store alone: keytool imports the root under our alias.
    _run, first = trust(java_hosts, host, tmp_path, standin, ["java"])
    assert first["changed"] is True
    assert first["stores"]["java"]["paths"] == ["%s#vip-test-root" % cacerts]
    assert first["stores"]["java"]["refreshed"] is False
    entries = cacerts_entries(host)
    assert entries["vip-test-root"] == root_fp
    assert {a: f for a, f in entries.items() if a != "vip-test-root"} == shipped  # nothing else touched
    assert podman_exec(host, "stat", "-c", "%U %G %a", CACERTS).stdout.split() == ["root", "root", "644"]
    assert podman_exec(host, "test", "-L", cacerts, check=False).returncode == 0  # the symlink is kept
    assert not podman_exec(host, "sh", "-c", "ls -a /etc/ssl/certs/java | grep vip-mtls || true").stdout

    _run, second = trust(java_hosts, host, tmp_path, standin, ["java"])
    assert second["changed"] is False

    # system + java: Debian's ca-certificates-java hook may add the root as debian:vip-test-root.pem too;
    # the java store does not add it a second time under another alias.
    _run, both = trust(java_hosts, host, tmp_path, standin, ["system", "java"])
    assert both["stores"]["system"]["changed"] is True and both["stores"]["java"]["changed"] is False
    _run, both_again = trust(java_hosts, host, tmp_path, standin, ["system", "java"])
    assert both_again["changed"] is False

    # absent from both: the root is gone from cacerts under every alias; the shipped roots stay.
    _run, removed = trust(java_hosts, host, tmp_path, standin, ["system", "java"], "absent")
    assert removed["changed"] is True
    # Debian's update-ca-certificates never tells ca-certificates-java that a local anchor went, so the
    # java store also drops the stale debian:vip-test-root.pem the hook made from our system anchor.
    assert sorted(removed["stores"]["java"]["removed"]) == ["%s#debian:vip-test-root.pem" % cacerts,
                                                            "%s#vip-test-root" % cacerts]
    assert cacerts_entries(host) == shipped
    _run, removed_again = trust(java_hosts, host, tmp_path, standin, ["system", "java"], "absent")
    assert removed_again["changed"] is False


@pytest.fixture(scope="module")
def java_client(java_hosts, standin, tmp_path_factory):
    """MtlsClient compiled on the controller, and the stand-in's client certificate as a PKCS12 keystore,
    copied into the second host under /opt/mtls."""
    if not shutil.which("javac") or not shutil.which("openssl"):
        pytest.fail("javac (JDK 17) and openssl are needed on the controller to build the Java client")
    work = tmp_path_factory.mktemp("java-client")
    (work / "MtlsClient.java").write_text(MTLS_CLIENT)
    run(["javac", "--release", "17", "-d", str(work / "classes"), str(work / "MtlsClient.java")])
    pki = standin / "pki"
    run(["openssl", "pkcs12", "-export", "-in", str(pki / "client.crt"), "-inkey", str(pki / "client.key"),
         "-name", "vip-client", "-out", str(work / "client.p12"), "-passout", "pass:" + CLIENT_P12_PASS])
    host = java_hosts["hosts"][1]
    podman_exec(host, "mkdir", "-p", "/opt/mtls")
    run(["podman", "cp", str(work / "classes" / "MtlsClient.class"), "%s:/opt/mtls/MtlsClient.class" % host])
    run(["podman", "cp", str(work / "client.p12"), "%s:/opt/mtls/client.p12" % host])
    return host


def call_with_java(host):
    return podman_exec(host, "java", "-Djavax.net.ssl.keyStore=/opt/mtls/client.p12",
                       "-Djavax.net.ssl.keyStorePassword=" + CLIENT_P12_PASS,
                       "-Djavax.net.ssl.keyStoreType=PKCS12", "-cp", "/opt/mtls", "MtlsClient", URL, check=False)


def test_real_java_client_mtls_with_the_default_truststore(java_hosts, java_client, standin, tmp_path):
    host = java_client
    refused = call_with_java(host)
    assert refused.returncode == 1, refused
    assert "PKIX path building failed" in refused.stdout, refused.stdout + refused.stderr

    _run, added = trust(java_hosts, host, tmp_path, standin, ["system", "java"])
    assert added["changed"] is True

    accepted = call_with_java(host)
    assert accepted.returncode == 0 and accepted.stdout.strip() == "HTTP 200", accepted.stdout + accepted.stderr

    _run, removed = trust(java_hosts, host, tmp_path, standin, ["system", "java"], "absent")
    assert removed["changed"] is True
    again = call_with_java(host)
    assert again.returncode == 1 and "PKIX path building failed" in again.stdout, again.stdout


G1 = "43:48:A0:E9:44:4C:78:CB:26:5E:05:8D:5E:89:44:B4:D8:4F:96:62:BD:26:DB:25:7F:89:34:A4:43:C7:01:61"


def test_g1_back_in_bundle_and_cacerts_with_the_role_and_gone_with_absent(java_hosts, tmp_path):
    """A host whose distribution no longer trusts DigiCert Global Root CA (G1), as newer Debian releases
    ship it: the vip_trust role brings G1 back into the extracted bundle AND the Java cacerts; state=absent
    takes it out of both again, the distribution's own certificates untouched."""
    host = java_hosts["hosts"][2]
    podman_exec(host, "sed", "-i", "s|^mozilla/DigiCert_Global_Root_CA.crt$|!&|", "/etc/ca-certificates.conf")
    podman_exec(host, "update-ca-certificates")
    if G1 in cacerts_entries(host).values():
        # The Java hook keeps entries it is not told about; drop it like a distribution without G1 would.
        alias = [a for a, fp in cacerts_entries(host).items() if fp == G1][0]
        podman_exec(host, "keytool", "-delete", "-alias", alias, "-keystore", JRE_CACERTS, "-storepass", "changeit")
    distro_bundle = host_bundle_fingerprints(host)
    distro_java = set(cacerts_entries(host).values())
    assert G1 not in distro_bundle and G1 not in distro_java

    playbook = tmp_path / "g1.yml"
    playbook.write_text(textwrap.dedent("""\
        - hosts: all
          gather_facts: false
          roles:
            - role: vip.mtls.vip_trust
              vars:
                vip_trust_stores: [system, java]
          tasks:
            - name: Remove G1 again
              vip.mtls.trust_anchor:
                name: digicert-global-root-ca
                fingerprint_sha256: "%s"
                state: absent
                stores: [system, java]
              tags: [absent]
            - name: Audit the host, Java keystore included
              vip.mtls.mtls_info:
                java: true
              tags: [audit]
        """ % G1))
    installed = ansible_playbook(str(playbook), java_hosts["inventory"], "--limit", host, "--skip-tags", "absent")
    assert installed.rc == 0, installed
    assert G1 in host_bundle_fingerprints(host) and G1 in cacerts_entries(host).values()
    # The audit sees what the role did, in the system bundle and in the JRE's cacerts (listed with keytool).
    audit = installed.results(host, "Audit the host, Java keystore included")[0]
    g1_found = [r for r in audit["roots"] if r["fingerprint_sha256"] == G1][0]
    assert g1_found["in_system_bundle"] is True and g1_found["in_java"] is True, audit["roots"]
    assert audit["java"]["error"] is None and audit["java"]["entries"] == len(cacerts_entries(host)), audit["java"]

    removed = ansible_playbook(str(playbook), java_hosts["inventory"], "--limit", host, "--tags", "absent")
    assert removed.rc == 0, removed
    assert G1 not in host_bundle_fingerprints(host) and G1 not in cacerts_entries(host).values()
    # Only what the role added is gone again (G2 is shipped by the distribution, so it was there before).
    assert host_bundle_fingerprints(host) == distro_bundle
    assert set(cacerts_entries(host).values()) == distro_java
