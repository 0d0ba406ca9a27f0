"""vip.mtls.client_cert and the vip_client_cert role on real test hosts (issue 4): every output format,
owned by the application's own user; curl and a real Java client use them; safe rotation through
vip_mtls; no secret at -vvvv; state=absent.

These tests use their own hosts (PREFIX-cc-N) from the Java image, so keytool (JKS) and java are there."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import PurePath

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conftest import (IMAGE, PORT, ROOT, VENV_BIN, ansible_env, ansible_playbook, host_group, podman_exec, run,
                      snapshot)

PREFIX = os.environ.get("VIP_MTLS_TEST_PREFIX", "vipmtls-it") + "-cc"
JAVA_IMAGE = os.environ.get("VIP_MTLS_TEST_JAVA_IMAGE", IMAGE + "-java")
HOST_COUNT = 4
URL = "https://vip-standin.test:%d/" % PORT

# Passphrases nobody would print by accident: the -vvvv scan looks for each of them.
PKCS12_PASS = "p12-output-Xq7vL2"
KEYSTORE_PASS = "keystore-pw-Rt5mK9"
KEY_OUT_PASS = "key-out-pass-Zb3nW8"
RENEWED_P12_PASS = "renewed-p12-in-Hc6pJ4"
SECRET_KINDS = {"key", "combined", "pkcs12", "keystore"}

JAVA_CLIENT = """
import java.net.URL;
import javax.net.ssl.HttpsURLConnection;

public class VipClient {
    public static void main(String[] args) throws Exception {
        HttpsURLConnection conn = (HttpsURLConnection) new URL(args[0]).openConnection();
        conn.setConnectTimeout(10000);
        conn.setReadTimeout(10000);
        int status = conn.getResponseCode();
        System.out.println("HTTP " + status);
        System.exit(status == 200 ? 0 : 1);
    }
}
"""

# A sysvinit script standing in for the application that must reload: the test hosts run no init
# system, but ansible.builtin.service drives /etc/init.d scripts through `service` for real.
FAKE_SERVICE = """#!/bin/sh
case "$1" in
    start|stop|restart|reload|force-reload) echo "$1" >> /var/log/vip-fake-app.log ;;
    status) exit 0 ;;
    *) exit 3 ;;
esac
"""


# ---------------------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def cc_hosts(tmp_path_factory):
    """HOST_COUNT fresh hosts from the Java image, each with the application user vipapp."""
    yield from host_group(PREFIX, HOST_COUNT, JAVA_IMAGE, tmp_path_factory)


@pytest.fixture(scope="module")
def pki(standin, tmp_path_factory):
    """The stand-in's PKI plus a renewed client certificate from the same client CA (new key, later
    expiry) and one from the rogue CA, both as PKCS#12 with their own passphrase."""
    src = standin / "pki"
    out = tmp_path_factory.mktemp("cc-pki")
    p12_pass = (src / "client.p12.pass").read_text()

    def renewed(ca_stem, cn, days, filename):
        ca_cert = x509.load_pem_x509_certificate((src / (ca_stem + ".crt")).read_bytes())
        ca_key = serialization.load_pem_private_key((src / (ca_stem + ".key")).read_bytes(), None)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
                .issuer_name(ca_cert.subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1))
                .not_valid_after(now + datetime.timedelta(days=days))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
                .sign(ca_key, hashes.SHA256()))
        data = pkcs12.serialize_key_and_certificates(
            cn.encode(), key, cert, [ca_cert], serialization.BestAvailableEncryption(RENEWED_P12_PASS.encode()))
        path = out / filename
        path.write_bytes(data)
        return {"p12": path, "key": key, "cert": cert}

    return {
        "dir": src,
        "p12": src / "client.p12",
        "p12_pass": p12_pass,
        "key": serialization.load_pem_private_key((src / "client.key").read_bytes(), None),
        "renewed": renewed("client-ca", "vip-demo-client", 500, "renewed.p12"),
        "rogue": renewed("rogue-ca", "vip-demo-client", 600, "rogue-renewed.p12"),
    }


@pytest.fixture(scope="module")
def java_client(tmp_path_factory):
    """VipClient.class, compiled on the controller for Java 17 (the hosts' JRE)."""
    if not shutil.which("javac"):
        pytest.skip("javac (JDK 17) is not on this machine")
    work = tmp_path_factory.mktemp("java")
    (work / "VipClient.java").write_text(JAVA_CLIENT)
    subprocess.run(["javac", "--release", "17", "-d", str(work), str(work / "VipClient.java")], check=True,
                   capture_output=True)
    return work / "VipClient.class"


# ----------------------------------------------------------------------------------------- helpers

def as_yaml(value):
    """One YAML flow value (JSON is YAML)."""
    return json.dumps(str(value) if isinstance(value, PurePath) else value)


def write_playbook(path, play_vars, deployments):
    """A play that includes vip_client_cert once per deployment (dict of role variables)."""
    lines = ["- name: vip_client_cert test", "  hosts: all", "  gather_facts: false", "  become: true",
             "  vars:"]
    lines += ["    %s: %s" % (k, as_yaml(v)) for k, v in play_vars.items()]
    lines.append("  tasks:")
    for i, deployment in enumerate(deployments):
        lines += ["    - name: Deployment %d" % i, "      ansible.builtin.include_role:",
                  "        name: vip.mtls.vip_client_cert", "      vars:"]
        lines += ["        %s: %s" % (k, as_yaml(v)) for k, v in deployment.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def task_results(playbook_run, host, prefix):
    """Results of every task whose name (role prefix removed) starts with prefix, in run order."""
    found = []
    for play in playbook_run.data["plays"]:
        for task in play["tasks"]:
            name = task["task"]["name"].split(" : ", 1)[-1]
            if name.startswith(prefix) and host in task["hosts"]:
                res = task["hosts"][host]
                found.extend(res.get("results", [res]))
    return found


def deploy_results(playbook_run, host):
    return [r for r in task_results(playbook_run, host, "Deploy the client certificate, key and chain")
            if not r.get("skipped")]


def sha256_of(host, path):
    return podman_exec(host, "sha256sum", path).stdout.split()[0]


def as_user(host, user, command):
    return podman_exec(host, "su", "-s", "/bin/sh", user, "-c", command, check=False)


def copy_in(host, local, remote, mode="0644"):
    run(["podman", "cp", str(local), "%s:%s" % (host, remote)])
    podman_exec(host, "chmod", mode, remote)


def curl(host, user, *args):
    return as_user(host, user, "curl -sS -o /dev/null -w '%%{http_code}' --cacert /tmp/root-ca.crt %s %s"
                   % (" ".join(args), URL))


def install_fake_service(host):
    subprocess.run(["podman", "exec", "-i", host, "sh", "-c", "mkdir -p /etc/init.d && cat > /etc/init.d/vip-fake-app && chmod 755 "
                    "/etc/init.d/vip-fake-app && : > /var/log/vip-fake-app.log"],
                   input=FAKE_SERVICE, text=True, check=True)


def service_log(host):
    return podman_exec(host, "cat", "/var/log/vip-fake-app.log").stdout.split()


def pem_body_lines(key):
    """Every base64 line of the key's PEM, in PKCS#1 and in PKCS#8, and the base64 of the PEM files
    themselves (what the controller sends to the module)."""
    lines = set()
    for fmt in (serialization.PrivateFormat.TraditionalOpenSSL, serialization.PrivateFormat.PKCS8):
        pem = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
        lines.update(line for line in pem.decode().splitlines() if not line.startswith("-----") and len(line) >= 16)
        lines.add(base64.b64encode(pem).decode()[:64])
        der = key.private_bytes(serialization.Encoding.DER, fmt, serialization.NoEncryption())
        lines.add(base64.b64encode(der).decode()[64:128])
    return lines


# ------------------------------------------------------------------------------ a) every output

A_DIR = "/etc/vip-app"
B_DIR = "/etc/vip-app-jks"


@pytest.fixture(scope="module")
def every_output(cc_hosts, pki, tmp_path_factory):
    """Every output format on host 1, owned by vipapp:vipapp, applied twice."""
    host = cc_hosts["hosts"][0]
    common = {
        "vip_client_cert_src": pki["p12"],
        "vip_client_cert_passphrase": pki["p12_pass"],
        "vip_client_cert_owner": "vipapp",
        "vip_client_cert_group": "vipapp",
        "vip_client_cert_key_mode": "0600",
        "vip_client_cert_keystore_password": KEYSTORE_PASS,
    }
    deployments = [
        {"vip_client_cert_dest_dir": A_DIR,
         "vip_client_cert_combined_path": A_DIR + "/combined.pem",
         "vip_client_cert_pkcs12_path": A_DIR + "/client.p12",
         "vip_client_cert_pkcs12_passphrase": PKCS12_PASS,
         "vip_client_cert_keystore_path": A_DIR + "/keystore.p12",
         "vip_client_cert_keystore_type": "PKCS12"},
        {"vip_client_cert_dest_dir": B_DIR,
         "vip_client_cert_combined_path": B_DIR + "/combined.pem",
         "vip_client_cert_keystore_path": B_DIR + "/keystore.jks",
         "vip_client_cert_keystore_type": "JKS",
         "vip_client_cert_key_output_passphrase": KEY_OUT_PASS},
    ]
    playbook = write_playbook(tmp_path_factory.mktemp("cc-a") / "every-output.yml", common, deployments)
    first = ansible_playbook(str(playbook), cc_hosts["inventory"], "--limit", host)
    after_first = snapshot(host, A_DIR, B_DIR)
    second = ansible_playbook(str(playbook), cc_hosts["inventory"], "--limit", host)
    return {"host": host, "first": first, "second": second, "after_first": after_first,
            "after_second": snapshot(host, A_DIR, B_DIR)}


def test_every_output_with_owner_modes_and_idempotence(every_output):
    host, first, second = every_output["host"], every_output["first"], every_output["second"]
    assert first.rc == 0, first
    results = deploy_results(first, host)
    assert [r["changed"] for r in results] == [True, True], first
    files = {}
    for r in results:
        for kind, path in r["files"].items():
            files[path] = kind
    assert set(results[0]["files"]) == {"cert", "key", "chain", "combined", "pkcs12", "keystore"}
    assert set(results[1]["files"]) == {"cert", "key", "chain", "combined", "keystore"}
    for path, kind in files.items():
        owner, group, mode = podman_exec(host, "stat", "-c", "%U %G %a", path).stdout.split()
        assert (owner, group) == ("vipapp", "vipapp"), path
        assert mode == ("600" if kind in SECRET_KINDS else "644"), (path, mode)
    for directory in (A_DIR, B_DIR):
        assert podman_exec(host, "stat", "-c", "%U %G %a", directory).stdout.split() == ["vipapp", "vipapp", "750"]

    # Each format is what it claims to be.
    assert podman_exec(host, "od", "-An", "-tx1", "-N4", B_DIR + "/keystore.jks").stdout.split() == \
        ["fe", "ed", "fe", "ed"]
    assert podman_exec(host, "od", "-An", "-tx1", "-N1", A_DIR + "/keystore.p12").stdout.split() == ["30"]
    assert "BEGIN PRIVATE KEY" in podman_exec(host, "cat", A_DIR + "/client.key").stdout
    for path in (B_DIR + "/client.key", B_DIR + "/combined.pem"):
        text = podman_exec(host, "cat", path).stdout
        assert "BEGIN ENCRYPTED PRIVATE KEY" in text and "BEGIN PRIVATE KEY" not in text
    listing = podman_exec(host, "keytool", "-list", "-keystore", B_DIR + "/keystore.jks",
                          "-storepass", KEYSTORE_PASS).stdout
    assert "Keystore type: JKS" in listing and "vip-client, " in listing and "PrivateKeyEntry" in listing

    # The second run: no task changed, no output touched (content, mode and owner byte for byte).
    assert second.rc == 0, second
    assert second.stats(host)["changed"] == 0, second
    assert [r["changed"] for r in deploy_results(second, host)] == [False, False]
    assert every_output["after_second"] == every_output["after_first"]


# -------------------------------------------------------------------- b) real clients use them

def test_curl_and_java_use_the_outputs_as_the_application_user(every_output, pki, java_client):
    host = every_output["host"]
    assert every_output["first"].rc == 0, every_output["first"]
    copy_in(host, pki["dir"] / "root-ca.crt", "/tmp/root-ca.crt")
    copy_in(host, java_client, "/tmp/VipClient.class")
    podman_exec(host, "sh", "-c", "rm -f /tmp/trust.p12 && keytool -importcert -noprompt -alias vip-test-root "
                "-file /tmp/root-ca.crt -keystore /tmp/trust.p12 -storetype PKCS12 -storepass changeit "
                ">/dev/null && chmod 0644 /tmp/trust.p12")

    cases = {
        "cert + key": "--cert %s/client.crt --key %s/client.key" % (A_DIR, A_DIR),
        "combined": "--cert %s/combined.pem" % A_DIR,
        "encrypted key": "--cert %s/client.crt --key %s/client.key --pass %s" % (B_DIR, B_DIR, KEY_OUT_PASS),
        "pkcs12": "--cert-type P12 --cert %s/client.p12:%s" % (A_DIR, PKCS12_PASS),
    }
    for name, args in cases.items():
        answer = curl(host, "vipapp", args)
        assert answer.stdout == "200", (name, answer.stdout, answer.stderr)

    for store, store_type in ((A_DIR + "/keystore.p12", "PKCS12"), (B_DIR + "/keystore.jks", "JKS"),
                              (A_DIR + "/client.p12", "PKCS12")):
        password = PKCS12_PASS if store.endswith("client.p12") else KEYSTORE_PASS
        java = as_user(host, "vipapp",
                       "java -Djavax.net.ssl.keyStore=%s -Djavax.net.ssl.keyStorePassword=%s "
                       "-Djavax.net.ssl.keyStoreType=%s -Djavax.net.ssl.trustStore=/tmp/trust.p12 "
                       "-Djavax.net.ssl.trustStorePassword=changeit -Djavax.net.ssl.trustStoreType=PKCS12 "
                       "-cp /tmp VipClient %s" % (store, password, store_type, URL))
        assert java.returncode == 0 and "HTTP 200" in java.stdout, (store, java.stdout, java.stderr)

    # Without a client certificate the stand-in refuses: the 200s above are mutual TLS.
    assert curl(host, "vipapp").stdout == "400"

    # Another user reads none of the key material, not even the certificate (dir 0750).
    for path in ("%s/client.key" % A_DIR, "%s/combined.pem" % A_DIR, "%s/client.p12" % A_DIR,
                 "%s/keystore.p12" % A_DIR, "%s/keystore.jks" % B_DIR, "%s/client.key" % B_DIR):
        denied = as_user(host, "nobody", "cat %s" % path)
        assert denied.returncode != 0 and "Permission denied" in denied.stderr, path
    assert curl(host, "nobody", "--cert %s/client.crt --key %s/client.key" % (A_DIR, A_DIR)).stdout != "200"


# --------------------------------------------------------------------------------- c) rotation

ROT_DIR = "/etc/vip-mtls"


def rollout_vars(pki, path, **extra):
    """What test_rollout uses (the test root trusted), plus every output format, for the rollout playbook."""
    values = {
        "vip_trust_extra_anchors": [{"name": "vip-test-root", "src": str(pki["dir"] / "root-ca.crt"),
                                     "fingerprint_sha256": fingerprint(pki["dir"] / "root-ca.crt")}],
        "vip_client_cert_src": pki["p12"],
        "vip_client_cert_passphrase": pki["p12_pass"],
        "vip_client_cert_owner": "vipapp",
        "vip_client_cert_group": "vipapp",
        "vip_client_cert_combined_path": ROT_DIR + "/combined.pem",
        "vip_client_cert_pkcs12_path": ROT_DIR + "/client.p12",
        "vip_client_cert_pkcs12_passphrase": PKCS12_PASS,
        "vip_client_cert_keystore_path": ROT_DIR + "/keystore.jks",
        "vip_client_cert_keystore_type": "JKS",
        "vip_client_cert_keystore_password": KEYSTORE_PASS,
        "vip_verify_urls": [URL],
    }
    values.update(extra)
    # JSON is YAML: no quoting to get wrong.
    path.write_text(json.dumps({k: str(v) if isinstance(v, PurePath) else v for k, v in values.items()}, indent=1))
    return path


def fingerprint(path):
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return ":".join("%02X" % b for b in hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest())


def rollout(cc_hosts, host, vars_file, *args):
    return ansible_playbook("vip.mtls.rollout", cc_hosts["inventory"], "--limit", host, "-e", "@%s" % vars_file,
                            *args)


def test_rotation_updates_every_output_and_refuses_a_certificate_that_fails(cc_hosts, pki, tmp_path):
    host = cc_hosts["hosts"][1]
    install_fake_service(host)
    copy_in(host, pki["dir"] / "root-ca.crt", "/tmp/root-ca.crt")
    vars_file = rollout_vars(pki, tmp_path / "vars.yml", vip_client_cert_backup=True,
                             vip_client_cert_reload_services=["vip-fake-app"])
    staged_task = "Deploy the renewed certificate and key to the staging directory"

    first = rollout(cc_hosts, host, vars_file)
    assert first.rc == 0, first
    assert all(r.get("skipped") for r in task_results(first, host, staged_task)), "a fresh host stages nothing"
    assert service_log(host) == ["stop", "start"]  # the handler restarted the service once
    old = deploy_results(first, host)[0]
    assert old["previous_not_after"] is None
    outputs = old["files"]
    assert set(outputs) == {"cert", "key", "chain", "combined", "pkcs12", "keystore"}
    before = {kind: sha256_of(host, path) for kind, path in outputs.items()}

    again = rollout(cc_hosts, host, vars_file)
    assert again.rc == 0 and again.stats(host)["changed"] == 0, again
    assert all(r.get("skipped") for r in task_results(again, host, staged_task)), "a repeat run stages nothing"
    assert service_log(host) == ["stop", "start"]  # nothing changed: no restart

    # The renewed certificate (same client CA, new key): staged, tested, then every output replaced.
    renewed = rollout(cc_hosts, host, vars_file, "-e", "vip_client_cert_src=%s" % pki["renewed"]["p12"],
                      "-e", "vip_client_cert_passphrase=%s" % RENEWED_P12_PASS)
    assert renewed.rc == 0, renewed
    assert [r.get("skipped", False) for r in task_results(renewed, host, staged_task)] == [False]
    staged_checks = task_results(renewed, host, "Prove mutual TLS with the renewed certificate")
    assert [c["reason"] for c in staged_checks] == ["ok"]
    result = deploy_results(renewed, host)[0]
    assert result["changed"] is True
    assert result["previous_not_after"] == old["not_after"]
    assert result["not_after"] != result["previous_not_after"]
    assert result["fingerprint_sha256"] != old["fingerprint_sha256"]
    after = {kind: sha256_of(host, path) for kind, path in outputs.items()}
    # The chain is the same client CA: unchanged by meaning. Everything else holds the new certificate.
    assert after["chain"] == before["chain"]
    assert {k for k in outputs if after[k] != before[k]} == {"cert", "key", "combined", "pkcs12", "keystore"}
    assert len(result["backups"]) == 5
    for backup in result["backups"]:
        assert podman_exec(host, "test", "-f", backup, check=False).returncode == 0, backup
        assert podman_exec(host, "stat", "-c", "%U %G", backup).stdout.split() == ["vipapp", "vipapp"]
    assert podman_exec(host, "test", "-e", ROT_DIR + "/.staged", check=False).returncode != 0
    assert service_log(host) == ["stop", "start", "stop", "start"]
    assert curl(host, "vipapp", "--cert %s/client.crt --key %s/client.key" % (ROT_DIR, ROT_DIR)).stdout == "200"
    served = podman_exec(host, "cat", outputs["cert"]).stdout.encode()
    assert x509.load_pem_x509_certificate(served) == pki["renewed"]["cert"]

    # A "renewed" certificate the endpoint refuses (rogue CA): refused, the working one kept byte for byte.
    working = snapshot(host, ROT_DIR)
    rogue = rollout(cc_hosts, host, vars_file, "-e", "vip_client_cert_src=%s" % pki["rogue"]["p12"],
                    "-e", "vip_client_cert_passphrase=%s" % RENEWED_P12_PASS)
    assert rogue.rc != 0, rogue
    refusal = task_results(rogue, host, "Refuse a renewed certificate that does not work")
    assert len(refusal) == 1 and refusal[0].get("failed"), rogue
    message = refusal[0]["msg"]
    assert "was refused and the old one kept" in message, message
    assert URL in message and "client_cert_rejected" in message, message
    assert deploy_results(rogue, host) == [], "the working outputs must not be touched"
    assert snapshot(host, ROT_DIR) == working
    assert curl(host, "vipapp", "--cert %s/client.crt --key %s/client.key" % (ROT_DIR, ROT_DIR)).stdout == "200"
    assert service_log(host) == ["stop", "start", "stop", "start"]


# ------------------------------------------------------------------------ d) no secret at -vvvv

def test_no_secret_in_vvvv_output(cc_hosts, pki, tmp_path):
    host = cc_hosts["hosts"][2]
    vars_file = rollout_vars(pki, tmp_path / "vars.yml", vip_client_cert_key_output_passphrase=KEY_OUT_PASS,
                             vip_client_cert_backup=True)
    secrets = {pki["p12_pass"], RENEWED_P12_PASS, PKCS12_PASS, KEYSTORE_PASS, KEY_OUT_PASS}
    secrets |= pem_body_lines(pki["key"]) | pem_body_lines(pki["renewed"]["key"])
    # Secrets come from files, as from a vault: ansible-playbook itself prints command-line -e at -vvvv.
    renewed = tmp_path / "renewed.yml"
    renewed.write_text(json.dumps({"vip_client_cert_src": str(pki["renewed"]["p12"]),
                                   "vip_client_cert_passphrase": RENEWED_P12_PASS}))
    env = dict(ansible_env(), ANSIBLE_STDOUT_CALLBACK="default")
    runs = {
        "check": ["--check"],
        "apply": [],
        "rotate-check": ["--check", "-e", "@%s" % renewed],
        "rotate": ["-e", "@%s" % renewed],
    }
    for name, args in runs.items():
        proc = subprocess.run(
            [str(VENV_BIN / "ansible-playbook"), "vip.mtls.rollout", "-i", str(cc_hosts["inventory"]),
             "--limit", host, "-e", "@%s" % vars_file, "--diff", "-vvvv", *args],
            capture_output=True, text=True, env=env, cwd=str(ROOT), check=False)
        output = proc.stdout + proc.stderr
        assert proc.returncode == 0, (name, output[-5000:])
        assert "changed=0" not in output.split("PLAY RECAP", 1)[1], (name, "the run must do the work it scans")
        leaked = sorted(s[:12] + "..." for s in secrets if s in output)
        assert not leaked, (name, leaked)
    # The scanned runs really wrote the encrypted outputs and really staged the renewal.
    assert "BEGIN ENCRYPTED PRIVATE KEY" in podman_exec(host, "cat", ROT_DIR + "/client.key").stdout
    assert "Deploy the renewed certificate and key to the staging directory" in output
    assert "vip.mtls.mtls_check" in output or "Prove mutual TLS with the renewed certificate" in output


# ---------------------------------------------------------------------------- e) state=absent

def test_state_absent_removes_every_output(cc_hosts, pki, tmp_path):
    host = cc_hosts["hosts"][3]
    common = {"vip_client_cert_src": pki["p12"], "vip_client_cert_passphrase": pki["p12_pass"],
              "vip_client_cert_owner": "vipapp", "vip_client_cert_group": "vipapp"}
    outputs = {"vip_client_cert_dest_dir": A_DIR,
               "vip_client_cert_combined_path": A_DIR + "/combined.pem",
               "vip_client_cert_pkcs12_path": A_DIR + "/client.p12",
               "vip_client_cert_pkcs12_passphrase": PKCS12_PASS,
               "vip_client_cert_keystore_path": A_DIR + "/keystore.jks",
               "vip_client_cert_keystore_type": "JKS",
               "vip_client_cert_keystore_password": KEYSTORE_PASS,
               "vip_client_cert_key_output_passphrase": KEY_OUT_PASS}
    present = write_playbook(tmp_path / "present.yml", common, [outputs])
    absent = write_playbook(tmp_path / "absent.yml", common, [dict(outputs, vip_client_cert_state="absent")])

    deployed = ansible_playbook(str(present), cc_hosts["inventory"], "--limit", host)
    assert deployed.rc == 0, deployed
    files = deploy_results(deployed, host)[0]["files"]
    assert len(files) == 6
    listing = podman_exec(host, "ls", "-A", A_DIR).stdout.split()
    assert ".vip-mtls-outputs.json" in listing  # the record of the encrypted outputs

    before = snapshot(host, A_DIR)
    checked = ansible_playbook(str(absent), cc_hosts["inventory"], "--limit", host, "--check")
    assert checked.rc == 0 and checked.stats(host)["changed"] > 0, checked
    assert snapshot(host, A_DIR) == before

    removed = ansible_playbook(str(absent), cc_hosts["inventory"], "--limit", host)
    assert removed.rc == 0 and removed.stats(host)["changed"] > 0, removed
    for path in files.values():
        assert podman_exec(host, "test", "-e", path, check=False).returncode != 0, path
    assert podman_exec(host, "ls", "-A", A_DIR).stdout.split() == []  # the directory stays, empty

    again = ansible_playbook(str(absent), cc_hosts["inventory"], "--limit", host)
    assert again.rc == 0 and again.stats(host)["changed"] == 0, again
