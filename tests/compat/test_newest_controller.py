"""The upper end of the supported range: the newest ansible-core on PyPI, which needs a newer Python than this
machine's 3.11 (2.20 and later want 3.12+). A Debian trixie host (Python 3.13) becomes the controller: make
test-compat downloads the newest ansible-core and cryptography wheels for Python 3.13 into VIP_MTLS_NEWEST_WHEELS,
the host installs them with pip from those files alone and the collection from its built tarball, then rolls out
to itself (connection local) against the stand-in, twice."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from compat_support import PREFIX, it, standin  # noqa: F401 - standin is a fixture; pylint: disable=unused-import

ROOT = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("VIP_MTLS_NEWEST_IMAGE", "localhost/vip-mtls-host:trixie")
CTL = "/opt/vip-ctl"  # the newest ansible-core and cryptography, pip-installed there on the host
COLLECTIONS = "/opt/vip-collections"


def in_host(host, script, check=True):
    return it.run(["podman", "exec", "-e", "PYTHONPATH=" + CTL, "-e", "ANSIBLE_COLLECTIONS_PATH=" + COLLECTIONS,
                   "-e", "ANSIBLE_STDOUT_CALLBACK=ansible.posix.json", "-e", "ANSIBLE_NOCOLOR=1",
                   "-e", "ANSIBLE_RETRY_FILES_ENABLED=False", host, "sh", "-c", script], check=check)


@pytest.fixture(scope="module")
def controller(tmp_path_factory, standin):
    wheels = os.environ.get("VIP_MTLS_NEWEST_WHEELS")
    assert wheels and list(Path(wheels).glob("ansible_core-*.whl")), "make test-compat downloads them there"
    for host_info in it.host_group(PREFIX + "-new", 1, IMAGE, tmp_path_factory):
        host = host_info["hosts"][0]
        it.run(["podman", "cp", wheels, "%s:/tmp/wheels" % host])
        pip = sorted(Path(wheels).glob("pip-*.whl"))[-1].name
        it.podman_exec(host, "sh", "-c", "python3 /tmp/wheels/%s/pip install -q --no-index --find-links /tmp/wheels "
                       "--root-user-action=ignore --target %s ansible-core cryptography" % (pip, CTL))
        # The collection as users get it: its built tarball, installed by this ansible-core's ansible-galaxy.
        build = tmp_path_factory.mktemp("newest-build")
        it.run([str(it.VENV_BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(build), str(ROOT)],
               env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
        tarball = sorted(build.glob("vip-mtls-*.tar.gz"))[0]
        it.run(["podman", "cp", str(tarball), "%s:/tmp/%s" % (host, tarball.name)])
        in_host(host, "%s/bin/ansible-galaxy collection install --offline -p %s /tmp/%s"
                % (CTL, COLLECTIONS, tarball.name))
        # The json callback is a test tool, from the project venv's ansible.posix.
        posix = Path(it.VENV_BIN).parent / "lib"
        posix = sorted(posix.glob("python3*/site-packages/ansible_collections/ansible/posix"))[0]
        it.podman_exec(host, "mkdir", "-p", COLLECTIONS + "/ansible_collections/ansible")
        it.run(["podman", "cp", str(posix) + "/.", "%s:%s/ansible_collections/ansible/posix" % (host, COLLECTIONS)])
        # The stand-in's PKI at the same path as on this machine, so the rollout variables read the same.
        it.podman_exec(host, "mkdir", "-p", str(standin))
        it.run(["podman", "cp", str(standin / "pki"), "%s:%s" % (host, standin / "pki")])
        rollout_vars = it.write_rollout_vars(standin, tmp_path_factory.mktemp("newest-vars") / "vars.yml")
        it.run(["podman", "cp", str(rollout_vars), "%s:/tmp/vars.yml" % host])
        in_host(host, "printf 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\\n'"
                      " > /tmp/inventory")
        yield host


def rollout(host):
    proc = in_host(host, "cd /tmp && %s/bin/ansible-playbook vip.mtls.rollout -i /tmp/inventory -e @/tmp/vars.yml"
                   % CTL, check=False)
    return it.PlaybookRun(proc)


def test_the_controller_runs_a_newer_ansible_core_than_this_machine_can(controller):
    version = in_host(controller, "%s/bin/ansible-playbook --version" % CTL).stdout
    core = re.search(r"\[core (\d+)\.(\d+)\.(\d+)", version)
    python = re.search(r"python version = (\d+)\.(\d+)", version)
    assert core and python, version
    assert tuple(int(n) for n in core.groups()[:2]) >= (2, 20), version
    assert tuple(int(n) for n in python.groups()) >= (3, 12), version
    listed = in_host(controller, "%s/bin/ansible-galaxy collection list vip.mtls" % CTL).stdout
    assert re.search(r"^vip\.mtls\s+\d", listed, re.M) and COLLECTIONS in listed, listed


def test_rollout_with_the_newest_ansible_core(controller, standin):
    first = rollout(controller)
    assert first.rc == 0, first
    assert first.stats("localhost")["changed"] > 0
    checks = first.results("localhost", "Prove a mutual-TLS handshake with each endpoint")
    assert [(c["reason"], c["http_status"]) for c in checks] == [("ok", 200)], checks
    assert it.pem_file_fingerprint(standin / "pki" / "root-ca.crt") in it.host_bundle_fingerprints(controller)
    assert it.podman_exec(controller, "stat", "-c", "%U %G %a", "/etc/vip-mtls/client.key").stdout.split() == \
        ["root", "vipapp", "640"]

    second = rollout(controller)
    assert second.rc == 0, second
    assert second.stats("localhost")["changed"] == 0, second
