# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/info.py (the mtls_info module's logic) against a fake root
directory: a Debian or RHEL layout with anchor files, an extracted bundle and a client certificate."""

from __future__ import annotations

import datetime
import os
import socket

import pytest

import pki
from ansible_collections.vip.mtls.plugins.module_utils import info
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.module_utils.pem import der_fingerprint

DEBIAN = 'ID=debian\nVERSION_ID="12"\n'
RHEL = 'ID="rhel"\nID_LIKE="fedora"\n'
NOW = pki.NOW


class FakeModule(object):
    """The parts of AnsibleModule info uses (none for the system store when only reading)."""

    check_mode = True

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return None

    def run_command(self, *args, **kwargs):  # pragma: no cover - reading must never run a command
        raise AssertionError("info ran a command: %r" % (args,))


def write(root, path, data, mode=0o644):
    full = os.path.join(str(root), path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as handle:
        handle.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(full, mode)
    return full


@pytest.fixture
def host(tmp_path):
    """A Debian host with G2 and a test root as local anchors, G2 + test root in the bundle (no G1),
    and a client certificate valid for 10 more days."""
    chain = pki.Chain(leaf_not_after=NOW + datetime.timedelta(days=10, hours=1))
    g2 = pki.read(pki.DIGICERT_G2)
    write(tmp_path, "/etc/os-release", DEBIAN)
    write(tmp_path, "/usr/local/share/ca-certificates/digicert-global-root-g2.crt", g2)
    write(tmp_path, "/usr/local/share/ca-certificates/vip-test-root.crt", pki.pem(chain.root))
    write(tmp_path, "/usr/local/share/ca-certificates/README", "not an anchor")
    write(tmp_path, "/etc/ssl/certs/ca-certificates.crt", g2 + pki.pem(chain.root))
    write(tmp_path, "/etc/vip-mtls/client.crt", pki.pem(chain.leaf) + pki.pem(chain.inter))
    write(tmp_path, "/etc/vip-mtls/client.key", pki.key_pem(chain.leaf_key), 0o640)
    return tmp_path, chain


def params(**overrides):
    base = {"client_cert": "/etc/vip-mtls/client.crt", "client_key": "/etc/vip-mtls/client.key", "warn_days": 30,
            "roots": None, "bundles": [], "java": False, "urls": [], "preflight_writable": [],
            "preflight_resolve": []}
    base.update(overrides)
    return base


def test_system_store_anchors_and_roots(host):
    root, chain = host
    result = info.gather(FakeModule(), params(), root=str(root), now=NOW)
    store = result["system_store"]
    assert store["family"] == "debian"
    assert store["anchor_dir"] == "/usr/local/share/ca-certificates"
    assert store["bundle"] == "/etc/ssl/certs/ca-certificates.crt"
    assert store["bundle_certificates"] == 2 and store["error"] is None
    names = {a["name"]: a for a in store["anchors"]}
    assert set(names) == {"digicert-global-root-g2", "vip-test-root"}  # README is not an anchor
    assert names["digicert-global-root-g2"]["fingerprint_sha256"] == info.G2_FINGERPRINT
    assert names["vip-test-root"]["fingerprint_sha256"] == der_fingerprint(pki.der(chain.root))
    assert names["vip-test-root"]["subject"] == "CN=Test Root CA,O=vip.mtls tests"
    assert result["g2_present"] is True and result["g1_present"] is False
    g2, g1 = result["roots"]
    assert g2["name"] == "digicert-global-root-g2" and g2["in_system_bundle"] is True
    assert g2["anchor_files"] == ["/usr/local/share/ca-certificates/digicert-global-root-g2.crt"]
    assert g1["in_system_bundle"] is False and g1["anchor_files"] == []


def test_client_certificate_and_key(host):
    root, chain = host
    result = info.gather(FakeModule(), params(), root=str(root), now=NOW)
    cert, key = result["client_cert"], result["client_key"]
    assert cert["exists"] and cert["error"] is None
    assert cert["subject"] == "CN=Test client,O=vip.mtls tests"
    assert cert["issuer"] == "CN=Test Intermediate CA,O=vip.mtls tests"
    assert cert["fingerprint_sha256"] == der_fingerprint(pki.der(chain.leaf))
    assert cert["days_remaining"] == 10
    assert cert["expiring"] is True and cert["expired"] is False
    assert cert["mode"] == "0644"
    assert key["exists"] and key["mode"] == "0640" and key["others_can_read"] is False
    assert "PRIVATE" not in repr(result)  # the key is described, never read into the result


def test_expired_and_missing_certificates(tmp_path):
    write(tmp_path, "/etc/os-release", DEBIAN)
    old, _key = pki.make_cert("Old client", not_before=NOW - 40 * pki.DAY, not_after=NOW - 2 * pki.DAY)
    write(tmp_path, "/etc/vip-mtls/client.crt", pki.pem(old))
    result = info.gather(FakeModule(), params(), root=str(tmp_path), now=NOW)
    assert result["client_cert"]["expired"] is True and result["client_cert"]["days_remaining"] < 0
    assert result["client_key"]["exists"] is False
    # no bundle: the roots are unknown, not absent
    assert result["g2_present"] is None and result["roots"][0]["in_system_bundle"] is None
    assert "missing" in result["system_store"]["error"]

    os.unlink(os.path.join(str(tmp_path), "etc/vip-mtls/client.crt"))
    result = info.gather(FakeModule(), params(), root=str(tmp_path), now=NOW)
    assert result["client_cert"]["exists"] is False and result["client_cert"]["days_remaining"] is None

    write(tmp_path, "/etc/vip-mtls/client.crt", "garbage")
    result = info.gather(FakeModule(), params(), root=str(tmp_path), now=NOW)
    assert "no PEM certificate" in result["client_cert"]["error"]

    result = info.gather(FakeModule(), params(client_cert=""), root=str(tmp_path), now=NOW)
    assert result["client_cert"] is None


def test_redhat_layout_and_extra_roots_and_bundles(tmp_path):
    chain = pki.Chain()
    write(tmp_path, "/etc/os-release", RHEL)
    write(tmp_path, "/etc/pki/ca-trust/source/anchors/corp.crt", pki.pem(chain.root))
    write(tmp_path, "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
          pki.read(pki.DIGICERT_G1) + pki.pem(chain.root))
    write(tmp_path, "/opt/app/ca.pem", pki.read(pki.DIGICERT_G2))
    corp = der_fingerprint(pki.der(chain.root)).replace(":", "").lower()  # any spelling of the pin
    roots = info.DEFAULT_ROOTS + [{"name": "corp", "fingerprint_sha256": corp}]
    result = info.gather(FakeModule(), params(roots=roots, bundles=["/opt/app/ca.pem", "/opt/none.pem"]),
                         root=str(tmp_path), now=NOW)
    assert result["system_store"]["family"] == "redhat"
    assert result["g2_present"] is False and result["g1_present"] is True
    by_name = {r["name"]: r for r in result["roots"]}
    assert by_name["corp"]["anchor_files"] == ["/etc/pki/ca-trust/source/anchors/corp.crt"]
    assert by_name["corp"]["in_system_bundle"] is True
    assert by_name["digicert-global-root-g2"]["in_bundles"] == {"/opt/app/ca.pem": True, "/opt/none.pem": False}
    assert result["bundles"] == [
        {"path": "/opt/app/ca.pem", "exists": True, "certificates": 1, "error": None},
        {"path": "/opt/none.pem", "exists": False, "certificates": None, "error": None},
    ]
    assert result["java"] is None


def test_a_bad_root_pin_is_an_error(host):
    root, _chain = host
    with pytest.raises(VipMtlsError, match="not a SHA-256 fingerprint"):
        info.gather(FakeModule(), params(roots=[{"name": "x", "fingerprint_sha256": "abc"}]), root=str(root), now=NOW)


def test_unknown_os_is_reported_not_raised(tmp_path):
    write(tmp_path, "/etc/os-release", "ID=plan9\n")
    result = info.gather(FakeModule(), params(client_cert=""), root=str(tmp_path), now=NOW)
    assert result["system_store"]["family"] is None
    assert "not known" in result["system_store"]["error"]
    assert result["g2_present"] is None


def test_live_checks_use_the_certificate_only_when_it_exists(host):
    root, _chain = host
    calls = []

    def fake_check(url, **options):
        calls.append((url, options))
        ok = url.endswith("good/")
        return {"ok": ok, "reason": "ok" if ok else "server_untrusted", "anchor": None, "warnings": ["w"]}

    urls = ["https://svc.example/good/", "https://svc.example/bad/"]
    result = info.gather(FakeModule(), params(urls=urls, timeout=5.0, proxy=None, ca_path=None),
                         root=str(root), now=NOW, check=fake_check)
    assert [c["reason"] for c in result["checks"]] == ["ok", "server_untrusted"]
    assert [c["url"] for c in result["checks"]] == urls
    assert result["checks_ok"] is False
    assert "warnings" not in result["checks"][0]
    # the paths are the host's, not the fake root's: the check runs on the host itself
    assert calls[0][1] == {"client_cert": "/etc/vip-mtls/client.crt", "client_key": "/etc/vip-mtls/client.key",
                           "timeout": 5.0}

    os.unlink(os.path.join(str(root), "etc/vip-mtls/client.crt"))
    calls.clear()
    result = info.gather(FakeModule(), params(urls=urls[:1]), root=str(root), now=NOW, check=fake_check)
    assert "client_cert" not in calls[0][1] and result["checks"][0]["client_cert_sent"] is False
    assert result["checks_ok"] is True

    result = info.gather(FakeModule(), params(), root=str(root), now=NOW, check=fake_check)
    assert result["checks"] == [] and result["checks_ok"] is None


def test_a_check_that_cannot_be_a_probe_is_a_failed_result(host):
    root, _chain = host

    def refusing(url, **options):
        raise VipMtlsError("url must be https://")

    result = info.gather(FakeModule(), params(urls=["http://x/"]), root=str(root), now=NOW, check=refusing)
    assert result["checks"][0]["ok"] is False and result["checks"][0]["reason"] == "usage_error"
    assert result["checks"][0]["hint"] == "url must be https://"


def test_preflight_writable_and_resolvable(host):
    root, _chain = host
    os.makedirs(os.path.join(str(root), "ro"), exist_ok=True)
    write(root, "/etc/afile", "x")

    def resolve(name, *args):
        if name == "known.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.1", 0))]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    result = info.gather(FakeModule(), params(preflight_writable=["/etc/vip-mtls/new/deeper"],
                                              preflight_resolve=["known.example"]),
                         root=str(root), now=NOW, resolve=resolve)
    assert result["preflight"]["ok"] is True and result["preflight"]["problems"] == []
    assert result["preflight"]["writable"][0]["checked"] == "/etc/vip-mtls"
    assert result["preflight"]["resolved"][0]["addresses"] == ["192.0.2.1"]
    assert result["system_store"]["anchor_dir_writable"] is True

    result = info.gather(FakeModule(), params(preflight_writable=["/etc/afile/sub"],
                                              preflight_resolve=["unknown.example"]),
                         root=str(root), now=NOW, resolve=resolve)
    problems = result["preflight"]["problems"]
    assert result["preflight"]["ok"] is False and len(problems) == 2
    assert "/etc/afile exists and is not a directory" in problems[0]
    assert "unknown.example does not resolve" in problems[1]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_preflight_names_a_directory_that_cannot_be_written(host):
    root, _chain = host
    locked = os.path.join(str(root), "locked")
    os.makedirs(locked)
    os.chmod(locked, 0o555)
    try:
        result = info.gather(FakeModule(), params(preflight_writable=["/locked/vip"]), root=str(root), now=NOW)
    finally:
        os.chmod(locked, 0o755)
    assert "/locked is not writable" in result["preflight"]["problems"][0]


def test_days_until():
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    assert info.days_until("2026-01-31T00:00:00+00:00", now) == 30
    assert info.days_until("2025-12-31T12:00:00+00:00", now) == -1
    assert info.days_until(None, now) is None and info.days_until("junk", now) is None
