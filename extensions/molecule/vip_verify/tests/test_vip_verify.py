"""vip.mtls.vip_verify and its module against every kind of stand-in endpoint, each result cross-checked with
what curl experiences on the same host with the same inputs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import vipmol
from vipmol import Curl

D = vipmol.HOST_DIR
GOOD = ["--cacert", D + "/root-ca.crt", "--cert", D + "/client.crt", "--key", D + "/client.key"]


def mtls_check(host, url, cert="client", ca=True):
    """vip.mtls.mtls_check on the host through Ansible (testinfra's ansible backend); its result, failed or not."""
    args = "url=%s client_cert=%s/%s.crt client_key=%s/%s.key timeout=10" % (url, D, cert, D, cert)
    if ca:
        args += " ca_path=%s/root-ca.crt" % D
    try:
        return host.ansible("vip.mtls.mtls_check", args, check=False, become=True)
    except host.ansible.AnsibleException as exc:
        return exc.result


def test_the_role_reported_success_of_the_vip_probe(node):
    assert json.loads(node.file(D + "/vip_verify_reasons.json").content_string) == ["ok"]


@pytest.mark.parametrize("offset, cert, ca, reason, curl_args, curl_rc, curl_status", [
    (vipmol.MTLS, "client", True, "ok", GOOD, 0, 200),
    (vipmol.WRONG_NAME, "client", True, "server_hostname_mismatch", GOOD, 60, 0),
    (vipmol.EXPIRED, "client", True, "server_cert_expired", GOOD, 60, 0),
    (vipmol.MTLS, "client", False, "server_untrusted", GOOD[2:], 60, 0),
    (vipmol.MTLS, "rogue-client", True, "client_cert_rejected",
     ["--cacert", D + "/root-ca.crt", "--cert", D + "/rogue-client.crt", "--key", D + "/rogue-client.key"], 0, 400),
], ids=["ok", "wrong-name", "expired-server", "untrusted", "rogue-client"])
def test_reason_agrees_with_curl(host, node, offset, cert, ca, reason, curl_args, curl_rc, curl_status):
    url = vipmol.url(offset)
    result = mtls_check(host, url, cert, ca)
    assert result.get("reason") == reason, result
    assert result.get("changed") is False and result.get("ok") is (reason == "ok"), result
    call = Curl(node, url, *curl_args)
    assert (call.rc, call.status) == (curl_rc, curl_status), call


def test_a_server_that_asks_no_client_certificate_is_flagged(host, node):
    result = mtls_check(host, vipmol.url(vipmol.NO_CLIENT_CERT))
    assert result["ok"] is True and result["client_cert_requested"] is False, result
    # curl agrees: without any client certificate the server answers normally
    call = Curl(node, vipmol.url(vipmol.NO_CLIENT_CERT), "--cacert", D + "/root-ca.crt")
    assert (call.rc, call.status) == (0, 200), call


def test_the_role_fails_the_host_on_an_endpoint_that_does_not_verify():
    """vip_verify run again with a URL whose host name the server certificate does not carry (wrong-name.test
    resolves to the stand-in too): the play fails the host and says why."""
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("ansible-playbook")), "-i", os.environ["MOLECULE_INVENTORY_FILE"],
         str(Path(__file__).resolve().parents[1] / "converge.yml"),
         "-e", json.dumps({"vip_verify_urls": [vipmol.url(path="/").replace("vip-standin.test", "wrong-name.test")],
                           "vip_verify_probe": "http"})],
        capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-2000:]
    # the failed task's result (on stderr with ansible-core 2.19) names the reason
    assert "server_hostname_mismatch" in proc.stdout + proc.stderr, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "failed=1" in proc.stdout
