"""The bundle store on a real test host: an application's own ca.pem, used by curl and by Python (issue 3)."""

from __future__ import annotations

import hashlib
import json
import os
import ssl
import subprocess

import pytest

from conftest import IMAGE, PORT, host_group, VENV_BIN, ansible_env, podman_exec, run

# hosts.sh acts only on PREFIX-<number>, so the shared fleet's hosts and this one never mix.
PREFIX = os.environ.get("VIP_MTLS_TEST_PREFIX", "vipmtls-it") + "-bundle"
HOST = PREFIX + "-1"
APP_BUNDLE = "/opt/app/ca.pem"
NAME = "vip-test-root"
URL = "https://vip-standin.test:%d/" % PORT

PYTHON_CLIENT = (
    "import ssl, sys, urllib.request\n"
    "ctx = ssl.create_default_context(cafile=%r)\n"
    "ctx.load_cert_chain('/opt/app/pki/client.crt', '/opt/app/pki/client.key')\n"
    "try:\n"
    "    print(urllib.request.urlopen(%r, context=ctx, timeout=10).status)\n"
    "except Exception as exc:\n"
    "    print('error', exc)\n"
    "    sys.exit(1)\n"
)


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    """One fresh host of our own (not the shared fleet), removed at the end of this module."""
    for group in host_group(PREFIX, 1, IMAGE, tmp_path_factory, app_user=None):
        yield {"name": group["hosts"][0], "inventory": group["inventory"]}


@pytest.fixture(scope="module")
def app(host, standin):
    """An application bundle (a copy of the distribution's) and the client certificate on the host."""
    podman_exec(HOST, "sh", "-c", "mkdir -p /opt/app/pki && cp /etc/ssl/certs/ca-certificates.crt %s" % APP_BUNDLE)
    for name in ("client.crt", "client.key"):
        run(["podman", "cp", str(standin / "pki" / name), "%s:/opt/app/pki/%s" % (HOST, name)])
    return host


def file_bytes(path):
    return subprocess.run(["podman", "exec", HOST, "cat", path], check=True, capture_output=True).stdout


def stat_of(path):
    return podman_exec(HOST, "stat", "-c", "%a %U %G %F", path).stdout.strip()


def fingerprint(path):
    with open(path) as handle:
        der = ssl.PEM_cert_to_DER_cert(handle.read())
    return ":".join("%02X" % b for b in hashlib.sha256(der).digest())


def trust_anchor(inventory, args, *extra):
    """One ad-hoc vip.mtls.trust_anchor run: (rc, result dict)."""
    proc = run([str(VENV_BIN / "ansible"), HOST, "-i", str(inventory), "-m", "vip.mtls.trust_anchor",
                "-a", json.dumps(args), *extra],
               check=False, env=dict(ansible_env(), ANSIBLE_STDOUT_CALLBACK="minimal"))
    try:
        result = json.loads(proc.stdout[proc.stdout.index(" => {") + 4:])  # the minimal callback's "HOST | ... => {"
    except ValueError:
        raise AssertionError("no JSON result:\n%s\n%s" % (proc.stdout, proc.stderr))
    return proc.returncode, result


def curl(cafile):
    return podman_exec(HOST, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                       "--cacert", cafile, "--cert", "/opt/app/pki/client.crt", "--key", "/opt/app/pki/client.key",
                       URL, check=False)


def python_client(cafile):
    return podman_exec(HOST, "python3", "-c", PYTHON_CLIENT % (cafile, URL), check=False)


def test_application_bundle_gains_the_root_and_gives_it_back(app, standin):
    root = standin / "pki" / "root-ca.crt"
    pin = fingerprint(root)
    present = {"src": str(root), "name": NAME, "stores": ["bundle"], "bundles": [APP_BUNDLE],
               "fingerprint_sha256": [pin]}
    original = file_bytes(APP_BUNDLE)
    original_stat = stat_of(APP_BUNDLE)
    assert original.count(b"-----BEGIN CERTIFICATE-----") > 100

    # Before: the application's bundle does not know the stand-in's root.
    before = curl(APP_BUNDLE)
    assert before.returncode != 0 and before.stdout != "200", before
    assert python_client(APP_BUNDLE).returncode != 0

    # check, apply, check again, apply again
    rc, result = trust_anchor(app["inventory"], present, "--check")
    assert rc == 0 and result["changed"] is True, result
    assert file_bytes(APP_BUNDLE) == original

    rc, result = trust_anchor(app["inventory"], present)
    assert rc == 0 and result["changed"] is True, result
    assert result["stores"]["bundle"]["paths"] == [APP_BUNDLE] and result["refreshed"] is False
    new = file_bytes(APP_BUNDLE)
    assert new.startswith(original) and len(new) > len(original)
    added = new[len(original):].decode("ascii")
    assert added.startswith("# vip.mtls anchor %s: " % NAME) and added.count("BEGIN CERTIFICATE") == 1
    assert stat_of(APP_BUNDLE) == original_stat

    for args in (("--check",), ()):
        rc, result = trust_anchor(app["inventory"], present, *args)
        assert rc == 0 and result["changed"] is False, (args, result)
    assert file_bytes(APP_BUNDLE) == new

    # Real clients that read the application's bundle: curl (OpenSSL, as PHP's curl.cainfo) and Python.
    after = curl(APP_BUNDLE)
    assert after.returncode == 0 and after.stdout == "200", after
    py = python_client(APP_BUNDLE)
    assert py.returncode == 0 and py.stdout.strip() == "200", py

    # state=absent by the pin alone gives back the original bytes exactly.
    absent = {"name": NAME, "state": "absent", "stores": ["bundle"], "bundles": [APP_BUNDLE],
              "fingerprint_sha256": [pin.replace(":", "").lower()]}
    rc, result = trust_anchor(app["inventory"], absent)
    assert rc == 0 and result["changed"] is True, result
    restored = file_bytes(APP_BUNDLE)
    assert hashlib.sha256(restored).hexdigest() == hashlib.sha256(original).hexdigest()
    assert stat_of(APP_BUNDLE) == original_stat
    rc, result = trust_anchor(app["inventory"], absent)
    assert rc == 0 and result["changed"] is False, result
    assert curl(APP_BUNDLE).returncode != 0


def test_refuses_what_is_not_a_bundle_and_creates_only_when_asked(app, standin):
    root = standin / "pki" / "root-ca.crt"
    args = {"src": str(root), "name": NAME, "stores": ["bundle"], "fingerprint_sha256": [fingerprint(root)]}
    podman_exec(HOST, "sh", "-c", "printf 'listen=8080\\n' > /opt/app/app.conf; rm -f /opt/app/new.pem")
    conf = file_bytes("/opt/app/app.conf")

    rc, result = trust_anchor(app["inventory"], dict(args, bundles=["/opt/app/app.conf"]))
    assert rc != 0 and "does not look like a PEM bundle" in result["msg"], result
    assert file_bytes("/opt/app/app.conf") == conf

    rc, result = trust_anchor(app["inventory"], dict(args, bundles=["/opt/app/new.pem"]))
    assert rc != 0 and "create_bundle" in result["msg"], result
    assert podman_exec(HOST, "test", "-e", "/opt/app/new.pem", check=False).returncode != 0

    rc, result = trust_anchor(app["inventory"], dict(args, bundles=["/opt/app"]))
    assert rc != 0 and "is a directory" in result["msg"], result

    rc, result = trust_anchor(app["inventory"], dict(args, bundles=["/opt/app/new.pem"], create_bundle=True))
    assert rc == 0 and result["changed"] is True, result
    assert stat_of("/opt/app/new.pem") == "644 root root regular file"
    after = curl("/opt/app/new.pem")
    assert after.returncode == 0 and after.stdout == "200", after
