"""Two vip.mtls.rollout runs against the same host at the same time (issue 8): two ansible-playbook
processes started together both succeed and leave the host correct - every anchor in the extracted
bundle, the key complete with its owner and mode, no temporary files - and a third run changes nothing."""

from __future__ import annotations

import os
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from conftest import (IMAGE, VENV_BIN, host_bundle_fingerprints, pem_file_fingerprint, write_rollout_vars, PlaybookRun,
                      ROOT, ansible_env, ansible_playbook, host_group, podman_exec)

PREFIX = os.environ.get("VIP_MTLS_TEST_PREFIX", "vipmtls-it") + "-rel-con"
G2 = "CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F"
G1 = "43:48:A0:E9:44:4C:78:CB:26:5E:05:8D:5E:89:44:B4:D8:4F:96:62:BD:26:DB:25:7F:89:34:A4:43:C7:01:61"


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    yield from host_group(PREFIX, 1, IMAGE, tmp_path_factory)


@pytest.fixture(scope="module")
def rollout_vars(standin, tmp_path_factory):
    return write_rollout_vars(standin, tmp_path_factory.mktemp("con-vars") / "vars.yml")


def _start(host, rollout_vars):
    return subprocess.Popen([str(VENV_BIN / "ansible-playbook"), "vip.mtls.rollout", "-i", str(host["inventory"]),
                             "-e", "@%s" % rollout_vars], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=ansible_env(), cwd=str(ROOT))


class _Done(object):
    """A finished Popen as PlaybookRun reads it."""

    def __init__(self, proc):
        self.stdout, self.stderr = proc.communicate(timeout=300)
        self.returncode = proc.returncode


def test_two_rollouts_at_once_both_succeed_and_a_third_changes_nothing(host, rollout_vars, standin):
    name = host["hosts"][0]
    first, second = _start(host, rollout_vars), _start(host, rollout_vars)
    runs = [PlaybookRun(_Done(first)), PlaybookRun(_Done(second))]
    for run in runs:
        assert run.rc == 0, run
        assert run.stats(name)["failures"] == 0, run

    # every anchor is in the extracted bundle the clients read
    in_bundle = host_bundle_fingerprints(name)
    assert {G1, G2, pem_file_fingerprint(standin / "pki" / "root-ca.crt")} <= in_bundle
    anchors = podman_exec(name, "ls", "/usr/local/share/ca-certificates").stdout.split()
    assert {"digicert-global-root-g2.crt", "digicert-global-root-ca.crt", "vip-test-root.crt"} <= set(anchors)

    # the key file is complete (the key of the client certificate) with its owner and mode
    key_pem = podman_exec(name, "cat", "/etc/vip-mtls/client.key").stdout.encode()
    key = serialization.load_pem_private_key(key_pem, None)
    cert = x509.load_pem_x509_certificate(podman_exec(name, "cat", "/etc/vip-mtls/client.crt").stdout.encode())
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    assert key.public_key().public_bytes(serialization.Encoding.DER, spki) == \
        cert.public_key().public_bytes(serialization.Encoding.DER, spki)
    assert podman_exec(name, "stat", "-c", "%U %G %a", "/etc/vip-mtls/client.key").stdout.split() == \
        ["root", "vipapp", "640"]
    assert podman_exec(name, "stat", "-c", "%a", "/etc/vip-mtls").stdout.strip() == "750"
    leftovers = podman_exec(name, "sh", "-c", "find /etc /usr/local/share/ca-certificates -name '.vip-mtls-*'")
    assert leftovers.stdout.strip() == ""

    third = ansible_playbook("vip.mtls.rollout", host["inventory"], "-e", "@%s" % rollout_vars)
    assert third.rc == 0, third
    assert third.stats(name)["changed"] == 0, third
