"""The whole job on real test hosts: rollout, re-run, check mode, bad input (issue 2)."""

from __future__ import annotations


import pytest
from cryptography.hazmat.primitives import serialization

from conftest import (PORT, ROOT, VENV_BIN, ansible_env, ansible_playbook, host_bundle_fingerprints, pem_file_fingerprint, podman_exec, run,
                      snapshot, write_rollout_vars)

G2 = "CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F"
G1 = "43:48:A0:E9:44:4C:78:CB:26:5E:05:8D:5E:89:44:B4:D8:4F:96:62:BD:26:DB:25:7F:89:34:A4:43:C7:01:61"
ANCHOR_DIR = "/usr/local/share/ca-certificates"
BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
WATCHED = ("/etc", "/usr/local/share/ca-certificates")


@pytest.fixture(scope="module")
def rollout_vars(standin, tmp_path_factory):
    """The same shape of variables the demo uses: the test root added, the PKCS#12 with its passphrase."""
    return write_rollout_vars(standin, tmp_path_factory.mktemp("vars") / "vars.yml")


def rollout(fleet, host, rollout_vars, *args):
    return ansible_playbook("vip.mtls.rollout", fleet["inventory"], "--limit", host,
                            "-e", "@%s" % rollout_vars, *args)


def test_rollout_installs_everything_and_second_run_changes_nothing(fleet, standin, rollout_vars):
    host = fleet["hosts"][0]
    first = rollout(fleet, host, rollout_vars)
    assert first.rc == 0, first
    assert first.stats(host)["changed"] > 0

    anchors = podman_exec(host, "ls", ANCHOR_DIR).stdout.split()
    assert {"digicert-global-root-g2.crt", "digicert-global-root-ca.crt", "vip-test-root.crt"} <= set(anchors)
    in_bundle = host_bundle_fingerprints(host)
    assert pem_file_fingerprint(standin / "pki" / "root-ca.crt") in in_bundle
    assert G2 in in_bundle and G1 in in_bundle

    key = podman_exec(host, "stat", "-c", "%U %G %a", "/etc/vip-mtls/client.key").stdout.split()
    assert key == ["root", "vipapp", "640"]
    assert podman_exec(host, "stat", "-c", "%a", "/etc/vip-mtls").stdout.strip() == "750"

    # An independent client on the host, with the deployed files and the system store.
    curl = podman_exec(host, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                       "--cert", "/etc/vip-mtls/client.crt", "--key", "/etc/vip-mtls/client.key",
                       "https://vip-standin.test:%d/" % PORT, check=False)
    assert curl.stdout == "200", curl.stderr

    checks = first.results(host, "Prove a mutual-TLS handshake with each endpoint")
    assert [c["reason"] for c in checks] == ["ok"]
    assert checks[0]["http_status"] == 200 and checks[0]["tls_version"] in ("TLSv1.2", "TLSv1.3")

    # One module call per concern (issue 6): pre-flight, trust, certificate, live check ...
    assert first.module_calls(host) == ["vip.mtls.mtls_info", "vip.mtls.trust_anchor", "vip.mtls.client_cert",
                                        "vip.mtls.mtls_check"], first.module_calls(host)

    second = rollout(fleet, host, rollout_vars)
    assert second.rc == 0, second
    assert second.stats(host)["changed"] == 0, second
    # ... and on a repeat run only the pre-flight (which found nothing to change) and the live check.
    assert second.module_calls(host) == ["vip.mtls.mtls_info", "vip.mtls.mtls_check"], second.module_calls(host)
    plan = second.results(host, "Pre-flight - inputs, python3, directories, names, and what would change")[0]["plan"]
    assert plan["trust"]["changed"] is False and plan["client_cert"]["changed"] is False

    # Drift is not hidden by the skipping: a widened key and a deleted anchor are found and mended.
    podman_exec(host, "chmod", "0644", "/etc/vip-mtls/client.key")
    podman_exec(host, "rm", "%s/vip-test-root.crt" % ANCHOR_DIR)
    third = rollout(fleet, host, rollout_vars)
    assert third.rc == 0, third
    assert third.module_calls(host) == first.module_calls(host), third.module_calls(host)
    assert podman_exec(host, "stat", "-c", "%a", "/etc/vip-mtls/client.key").stdout.strip() == "640"
    assert "vip-test-root.crt" in podman_exec(host, "ls", ANCHOR_DIR).stdout.split()


def test_check_mode_on_fresh_host_changes_nothing_and_reports_pending(fleet, standin, rollout_vars):
    host = fleet["hosts"][1]
    before = snapshot(host, *WATCHED)
    result = rollout(fleet, host, rollout_vars, "--check", "--diff")
    assert result.rc == 0, result
    assert result.stats(host)["changed"] > 0  # it reports what it would do ...
    assert snapshot(host, *WATCHED) == before  # ... and does none of it
    summary = result.results(host, "Report one line per host")
    assert "pending" in summary[0]["msg"]


def test_wrong_passphrase_fails_clearly_and_leaves_the_host_as_it_was(fleet, standin, rollout_vars):
    host = fleet["hosts"][2]
    before = snapshot(host, *WATCHED)
    result = rollout(fleet, host, rollout_vars, "-e", "vip_client_cert_passphrase=not-the-passphrase")
    assert result.rc != 0
    failed = [r for r in result.results(host) if r.get("failed")]
    assert failed and "passphrase is wrong" in failed[0]["msg"], result
    assert "not-the-passphrase" not in result.stdout
    assert snapshot(host, *WATCHED) == before


def test_mtls_check_names_each_failure(fleet, standin):
    """Against the stand-in: each way of failing has its own reason code."""
    host = fleet["hosts"][3]
    pki = standin / "pki"
    podman_exec(host, "mkdir", "-p", "/tmp/pki")
    for name in ("root-ca.crt", "untrusted-root.crt", "client.crt", "client.key",
                 "rogue-client.crt", "rogue-client.key"):
        run(["podman", "cp", str(pki / name), "%s:/tmp/pki/%s" % (host, name)])
    url = "https://vip-standin.test:%d/" % PORT
    cases = {
        "ok": dict(url=url, client_cert="/tmp/pki/client.crt", client_key="/tmp/pki/client.key",
                   ca_path="/tmp/pki/root-ca.crt"),
        "client_cert_required": dict(url=url, ca_path="/tmp/pki/root-ca.crt"),
        "client_cert_rejected": dict(url=url, client_cert="/tmp/pki/rogue-client.crt",
                                     client_key="/tmp/pki/rogue-client.key", ca_path="/tmp/pki/root-ca.crt"),
        "server_hostname_mismatch": dict(url="https://vip-standin.test:%d/" % (PORT + 1),
                                         client_cert="/tmp/pki/client.crt", client_key="/tmp/pki/client.key",
                                         ca_path="/tmp/pki/root-ca.crt"),
        "server_untrusted": dict(url=url, client_cert="/tmp/pki/client.crt", client_key="/tmp/pki/client.key",
                                 ca_path="/tmp/pki/untrusted-root.crt"),
    }
    for expected, args in cases.items():
        argstr = " ".join("%s=%s" % kv for kv in args.items())
        proc = run([str(VENV_BIN / "ansible"), host, "-i", str(fleet["inventory"]),
                    "-m", "vip.mtls.mtls_check", "-a", argstr],
                   check=False, env=dict(ansible_env(), ANSIBLE_STDOUT_CALLBACK="minimal"))
        assert '"reason": "%s"' % expected in proc.stdout, (expected, proc.stdout, proc.stderr)
        assert (proc.returncode == 0) == (expected == "ok"), (expected, proc.stdout)


def test_no_key_material_or_passphrase_in_output_at_vvvv(fleet, standin, rollout_vars):
    """A whole rollout, check mode and real, at -vvvv with the diff shown: no secret in any output."""
    host = fleet["hosts"][4]
    pki = standin / "pki"
    passphrase = (pki / "client.p12.pass").read_text()
    key = serialization.load_pem_private_key((pki / "client.key").read_bytes(), None)
    key_lines = set()
    for fmt in (serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL):
        pem = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()
        key_lines.update(line for line in pem.splitlines() if "-----" not in line)
    outputs = []
    for extra in (["--check"], []):
        proc = run([str(VENV_BIN / "ansible-playbook"), "vip.mtls.rollout", "-i", str(fleet["inventory"]),
                    "--limit", host, "-e", "@%s" % rollout_vars, "--diff", "-vvvv", *extra],
                   check=False, env=dict(ansible_env(), ANSIBLE_STDOUT_CALLBACK="default"), cwd=str(ROOT))
        assert proc.returncode == 0, proc.stdout[-3000:]
        outputs.append(proc.stdout + proc.stderr)
    everything = "\n".join(outputs)
    assert "client.key" in everything  # the output is really there to be searched
    assert passphrase not in everything
    leaked = [line for line in key_lines if line in everything]
    assert not leaked, "private key lines in the output: %d" % len(leaked)


def test_missing_group_on_host_fails_before_the_trust_store_changes(fleet, standin, rollout_vars):
    host = fleet["hosts"][5]
    before = snapshot(host, *WATCHED)
    result = rollout(fleet, host, rollout_vars, "-e", "vip_client_cert_group=no-such-group")
    assert result.rc != 0
    failed = [r for r in result.results(host) if r.get("failed")]
    assert failed and "group 'no-such-group' does not exist" in failed[0]["msg"], result
    assert snapshot(host, *WATCHED) == before


@pytest.mark.parametrize("bad", ['{"vip_verify_urls": ["http://vip-standin.test/"]}',
                                 '{"vip_verify_timeout": 1e12}'])
def test_a_bad_verify_setting_fails_before_anything_changes(fleet, standin, rollout_vars, bad):
    host = fleet["hosts"][5]
    before = snapshot(host, *WATCHED)
    result = rollout(fleet, host, rollout_vars, "-e", bad)
    assert result.rc != 0
    failed = [r for r in result.results(host) if r.get("failed")]
    assert failed and "vip_verify_urls must be a non-empty list of https:// URLs" in failed[0]["msg"], result
    assert snapshot(host, *WATCHED) == before
