"""vip.mtls.trust_anchor on real Debian hosts: every input form, every input and policy failure,
remote_src, the G1 root a distribution no longer trusts, and two runs at the same time (issue 3)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import IMAGE, ROOT, VENV_BIN, ansible_env, ansible_playbook, podman_exec, run, snapshot
from conftest import PlaybookRun, host_group, pem_fingerprints, sha256_colon

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
import pki  # noqa: E402  (the unit tests' certificate factory: cryptography on the controller)

PREFIX = os.environ.get("VIP_MTLS_TEST_PREFIX", "vipmtls-it") + "-trust"
HOST_COUNT = 6
G1 = "43:48:A0:E9:44:4C:78:CB:26:5E:05:8D:5E:89:44:B4:D8:4F:96:62:BD:26:DB:25:7F:89:34:A4:43:C7:01:61"
G2 = "CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F"
ANCHOR_DIR = "/usr/local/share/ca-certificates"
BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
STORE = (ANCHOR_DIR, "/etc/ssl/certs")


@pytest.fixture(scope="module")
def hosts(tmp_path_factory):
    """This file's own hosts (PREFIX-1..HOST_COUNT), one per test that changes a host."""
    yield from host_group(PREFIX, HOST_COUNT, IMAGE, tmp_path_factory, app_user=None)


def short(der):
    return hashlib.sha256(der).hexdigest()[:12]


def bundle_fingerprints(host, path=BUNDLE):
    """Fingerprints of the raw DER blocks of the host's bundle (a list: duplicates count)."""
    text = podman_exec(host, "cat", path).stdout
    assert text.count("-----BEGIN CERTIFICATE-----") == text.count("-----END CERTIFICATE-----")
    return pem_fingerprints(text)


def anchor_files(host):
    return sorted(podman_exec(host, "ls", "-A", ANCHOR_DIR).stdout.split())


def play(tmp_path, hosts, host, tasks, *args, name="play.json"):
    """Run tasks (dicts) on host in one play with become; JSON is YAML."""
    playbook = tmp_path / name
    playbook.write_text(json.dumps([{"name": "trust_anchor test", "hosts": "all", "gather_facts": False,
                                     "become": True, "tasks": tasks}], indent=1))
    return ansible_playbook(str(playbook), hosts["inventory"], "--limit", host, *args)


def anchor_task(title, ignore_errors=False, **args):
    task = {"name": title, "vip.mtls.trust_anchor": args}
    if ignore_errors:
        task["ignore_errors"] = True
    return task


def only(result, host, task):
    found = result.results(host, task)
    assert len(found) == 1, (task, result)
    return found[0]


@pytest.fixture(scope="module")
def root_ca():
    cert, key = pki.make_cert("Trust Forms Root CA", ca=True)
    return cert, key


@pytest.fixture(scope="module")
def forms(tmp_path_factory, root_ca):
    """The same root in every encoding people download it in: form -> path on the controller."""
    cert = root_ca[0]
    directory = tmp_path_factory.mktemp("forms")
    pem = pki.pem(cert)
    files = {
        "pem": pem,
        "der": pki.der(cert),
        "crlf": pem.replace(b"\n", b"\r\n"),
        "utf8-bom": b"\xef\xbb\xbf" + pem,
        "no-final-newline": pem.rstrip(b"\n"),
    }
    for form, data in files.items():
        (directory / form).write_bytes(data)
    (directory / "source.pem").write_bytes(pem)
    text = run(["openssl", "x509", "-in", str(directory / "source.pem"), "-text"]).stdout
    assert text.startswith("Certificate:") and "-----BEGIN CERTIFICATE-----" in text
    (directory / "openssl-text").write_text(text)
    run(["openssl", "x509", "-in", str(directory / "source.pem"), "-addtrust", "serverAuth",
         "-out", str(directory / "trusted")])
    assert (directory / "trusted").read_bytes().startswith(b"-----BEGIN TRUSTED CERTIFICATE-----")
    return {form: str(directory / form) for form in list(files) + ["openssl-text", "trusted"]}


# --- a) every input form ------------------------------------------------------------------------

FORM_ORDER = ["pem", "der", "crlf", "utf8-bom", "openssl-text", "no-final-newline", "trusted"]


def test_every_input_form_gives_the_same_anchor(hosts, tmp_path, forms, root_ca):
    host = hosts["hosts"][0]
    cert = root_ca[0]
    fp = sha256_colon(pki.der(cert))
    tasks = [anchor_task("form %s" % form, src=forms[form], name="forms-root", fingerprint_sha256=[fp])
             for form in FORM_ORDER]
    tasks.append(anchor_task("form content", content=pki.pem(cert).decode("ascii"), name="forms-root",
                             fingerprint_sha256=[fp.replace(":", "").lower()]))
    result = play(tmp_path, hosts, host, tasks)
    assert result.rc == 0, result

    first = only(result, host, "form pem")
    assert first["changed"] is True and first["refreshed"] is True
    path = "%s/forms-root.crt" % ANCHOR_DIR
    assert first["anchors"] == [{"name": "forms-root", "state": "present", "fingerprint_sha256": fp, "path": path,
                                 "subject": "CN=Trust Forms Root CA,O=vip.mtls tests",
                                 "not_after": pki.not_after_utc(cert).isoformat()}]
    for form in FORM_ORDER[1:] + ["content"]:
        res = only(result, host, "form %s" % form)
        assert res["changed"] is False and res["refreshed"] is False, (form, res)
        assert [a["fingerprint_sha256"] for a in res["anchors"]] == [fp], form
    assert anchor_files(host) == ["forms-root.crt"]
    installed = podman_exec(host, "cat", path).stdout.encode("ascii")
    assert installed == pki.pem(cert)  # always normalised PEM with the .crt extension
    assert fp in bundle_fingerprints(host)
    assert podman_exec(host, "stat", "-c", "%a %U", path).stdout.split() == ["644", "root"]


def test_several_certificates_in_one_file_each_become_an_anchor(hosts, tmp_path):
    host = hosts["hosts"][0]
    certs = [pki.make_cert("Multi Root %d" % i, ca=True)[0] for i in range(3)]
    ders = [pki.der(c) for c in certs]
    both = tmp_path / "both.pem"
    both.write_bytes(b"".join(pki.pem(c) for c in certs))
    reordered = tmp_path / "reordered.pem"
    reordered.write_bytes(b"Bundle of roots\r\n" + b"".join(pki.pem(c) for c in reversed(certs)).replace(b"\n", b"\r\n"))
    result = play(tmp_path, hosts, host, [
        anchor_task("several", src=str(both), name="multi", fingerprint_sha256=[sha256_colon(d) for d in ders]),
        anchor_task("several again", src=str(reordered), name="multi"),
    ])
    assert result.rc == 0, result
    first = only(result, host, "several")
    assert first["changed"] is True
    expected = {sha256_colon(d): "%s/multi-%s.crt" % (ANCHOR_DIR, short(d)) for d in ders}
    assert {a["fingerprint_sha256"]: a["path"] for a in first["anchors"]} == expected
    assert [a["fingerprint_sha256"] for a in first["anchors"]] == [sha256_colon(d) for d in ders]
    assert only(result, host, "several again")["changed"] is False
    files = anchor_files(host)
    assert sorted(f for f in files if f.startswith("multi")) == sorted("multi-%s.crt" % short(d) for d in ders)
    in_bundle = bundle_fingerprints(host)
    assert all(sha256_colon(d) in in_bundle for d in ders)


# --- b) input and policy failures -------------------------------------------------------------------

@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory):
    """name -> (file on the controller, pins, what the message must say)."""
    directory = tmp_path_factory.mktemp("bad")
    chain = pki.Chain(prefix="Policy")
    root_pem = pki.pem(chain.root).decode("ascii")
    lines = root_pem.splitlines()
    body = "".join(lines[1:-1])
    truncated_b64 = "%s\n%s\n%s\n" % (lines[0], body[:len(body) // 2 - 3], lines[-1])
    expired, _key = pki.make_cert("Expired Root CA", ca=True, not_before=pki.NOW - 400 * pki.DAY,
                                  not_after=pki.NOW - pki.DAY)
    future, _key = pki.make_cert("Future Root CA", ca=True, not_before=pki.NOW + 30 * pki.DAY,
                                 not_after=pki.NOW + 400 * pki.DAY)
    other_root, _key = pki.make_cert("Other Root CA", ca=True)
    cases = {
        "utf16": (root_pem.encode("utf-16"), [], "UTF-16"),
        "utf16-no-bom": (root_pem.encode("utf-16-le"), [], "UTF-16"),
        "no-certificate": (b"# our corporate root, see the wiki\nnothing here\n", [], "holds no certificate"),
        "truncated-base64": (truncated_b64.encode("ascii"), [], "damaged or truncated"),
        "truncated-file": (root_pem[:len(root_pem) // 2].encode("ascii"), [], "truncated"),
        "leaf": (pki.pem(chain.leaf), [], "not a CA certificate (a leaf"),
        "intermediate": (pki.pem(chain.inter), [], "(an intermediate)"),
        "broken-signature": (pki.pem(pki.flip_last_byte(chain.root)), [], "signature does not verify"),
        "expired": (pki.pem(expired), [], "expired on"),
        "not-yet-valid": (pki.pem(future), [], "is not valid before"),
        "wrong-pin": (pki.pem(chain.root), [sha256_colon(pki.der(other_root))], "matches none of the pinned"),
    }
    found = {}
    for case, (data, pins, expected) in cases.items():
        path = directory / case
        path.write_bytes(data)
        found[case] = (str(path), pins, expected)
    return found


def test_each_input_and_policy_failure_names_the_problem_and_changes_nothing(hosts, tmp_path, bad_inputs):
    host = hosts["hosts"][1]
    before = snapshot(host, *STORE)
    tasks = [anchor_task("bad %s" % case, ignore_errors=True, src=path, name="bad-%s" % case,
                         fingerprint_sha256=pins)
             for case, (path, pins, _expected) in sorted(bad_inputs.items())]
    result = play(tmp_path, hosts, host, tasks)
    assert result.rc == 0, result  # every failure was ignored, so the play itself completes
    for case, (path, _pins, expected) in sorted(bad_inputs.items()):
        res = only(result, host, "bad %s" % case)
        assert res.get("failed") is True, (case, res)
        assert expected in res["msg"], (case, res["msg"])
        assert path in res["msg"], (case, res["msg"])  # names the file
        assert not res.get("changed"), case
        assert not re.search(r"[A-Za-z0-9+/]{60,}", res["msg"]), case  # never the certificate's body
    assert snapshot(host, *STORE) == before


# --- c) remote_src -----------------------------------------------------------------------------------

def test_remote_src_gives_the_same_result(hosts, tmp_path, forms, root_ca, bad_inputs):
    host = hosts["hosts"][2]
    fp = sha256_colon(pki.der(root_ca[0]))
    run(["podman", "cp", forms["crlf"], "%s:/root/remote-root.crt" % host])
    run(["podman", "cp", bad_inputs["leaf"][0], "%s:/root/remote-leaf.crt" % host])
    before = snapshot(host, *STORE)

    checked = play(tmp_path, hosts, host, [
        anchor_task("remote check", src="/root/remote-root.crt", remote_src=True, name="remote-root",
                    fingerprint_sha256=[fp]),
    ], "--check", "--diff", name="check.json")
    assert checked.rc == 0, checked
    planned = only(checked, host, "remote check")
    assert planned["changed"] is True and planned["refreshed"] is False
    assert fp in planned["diff"]["after"] and "CN=Trust Forms Root CA" in planned["diff"]["after"]
    assert "BEGIN" not in json.dumps(planned["diff"])
    assert snapshot(host, *STORE) == before  # check mode touched nothing

    result = play(tmp_path, hosts, host, [
        anchor_task("remote", src="/root/remote-root.crt", remote_src=True, name="remote-root",
                    fingerprint_sha256=[fp]),
        anchor_task("remote again", src="/root/remote-root.crt", remote_src=True, name="remote-root",
                    fingerprint_sha256=[fp]),
        anchor_task("controller copy", src=forms["der"], name="remote-root", fingerprint_sha256=[fp]),
        anchor_task("remote leaf", ignore_errors=True, src="/root/remote-leaf.crt", remote_src=True,
                    name="remote-leaf"),
        anchor_task("remote missing", ignore_errors=True, src="/root/no-such-file.crt", remote_src=True,
                    name="remote-missing"),
    ])
    assert result.rc == 0, result
    first = only(result, host, "remote")
    assert first["changed"] is True
    assert first["anchors"][0]["fingerprint_sha256"] == fp
    assert first["anchors"][0]["path"] == "%s/remote-root.crt" % ANCHOR_DIR
    assert only(result, host, "remote again")["changed"] is False
    assert only(result, host, "controller copy")["changed"] is False
    leaf = only(result, host, "remote leaf")
    assert leaf["failed"] is True and "not a CA certificate" in leaf["msg"] and "/root/remote-leaf.crt" in leaf["msg"]
    missing = only(result, host, "remote missing")
    assert missing["failed"] is True and "cannot read /root/no-such-file.crt on the target" in missing["msg"]
    assert anchor_files(host) == ["remote-root.crt"]
    assert podman_exec(host, "cat", "%s/remote-root.crt" % ANCHOR_DIR).stdout.encode() == pki.pem(root_ca[0])
    assert fp in bundle_fingerprints(host)


# --- d) a distribution that no longer trusts G1 -------------------------------------------------------

def test_g1_comes_back_with_the_role_and_goes_with_absent(hosts, tmp_path):
    host = hosts["hosts"][3]
    podman_exec(host, "sed", "-i", "s|^mozilla/DigiCert_Global_Root_CA.crt$|!&|", "/etc/ca-certificates.conf")
    assert "!mozilla/DigiCert_Global_Root_CA.crt" in podman_exec(host, "cat", "/etc/ca-certificates.conf").stdout
    podman_exec(host, "update-ca-certificates")
    distro = bundle_fingerprints(host)
    assert G1 not in distro and len(distro) > 100
    distribution_files = snapshot(host, "/usr/share/ca-certificates", "/etc/ca-certificates.conf")

    role = tmp_path / "role.json"
    role.write_text(json.dumps([{"hosts": "all", "gather_facts": False, "become": True,
                                 "roles": ["vip.mtls.vip_trust"]}]))
    applied = ansible_playbook(str(role), hosts["inventory"], "--limit", host)
    assert applied.rc == 0, applied
    assert applied.stats(host)["changed"] > 0
    with_g1 = bundle_fingerprints(host)
    assert G1 in with_g1
    assert set(with_g1) - {G1} == set(distro)  # every other certificate as it was
    assert {"digicert-global-root-ca.crt", "digicert-global-root-g2.crt"} <= set(anchor_files(host))

    again = ansible_playbook(str(role), hosts["inventory"], "--limit", host)
    assert again.rc == 0 and again.stats(host)["changed"] == 0, again

    removed = play(tmp_path, hosts, host, [
        anchor_task("drop G1", name="digicert-global-root-ca", state="absent", fingerprint_sha256=[G1]),
    ], name="absent.json")
    assert removed.rc == 0, removed
    res = only(removed, host, "drop G1")
    assert res["changed"] is True and res["stores"]["system"]["removed"] == [
        "%s/digicert-global-root-ca.crt" % ANCHOR_DIR]
    after = bundle_fingerprints(host)
    assert G1 not in after
    assert set(after) == set(distro)
    assert "digicert-global-root-ca.crt" not in anchor_files(host)
    assert "digicert-global-root-g2.crt" in anchor_files(host)
    assert snapshot(host, "/usr/share/ca-certificates", "/etc/ca-certificates.conf") == distribution_files


# --- e) two runs at the same time -------------------------------------------------------------------

def test_two_runs_at_the_same_time_both_succeed(hosts, tmp_path):
    host = hosts["hosts"][4]
    distro = bundle_fingerprints(host)
    roots = {side: [pki.make_cert("Concurrent %s Root %d" % (side, i), ca=True)[0] for i in range(3)]
             for side in ("a", "b")}
    procs = []
    for side, certs in roots.items():
        tasks = []
        for i, cert in enumerate(certs):
            path = tmp_path / ("%s-%d.pem" % (side, i))
            path.write_bytes(pki.pem(cert))
            tasks.append(anchor_task("%s %d" % (side, i), src=str(path), name="conc-%s-%d" % (side, i),
                                     fingerprint_sha256=[sha256_colon(pki.der(cert))]))
        playbook = tmp_path / ("%s.json" % side)
        playbook.write_text(json.dumps([{"hosts": "all", "gather_facts": False, "become": True, "tasks": tasks}]))
        procs.append(subprocess.Popen(
            [str(VENV_BIN / "ansible-playbook"), str(playbook), "-i", str(hosts["inventory"]), "--limit", host],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ansible_env(), cwd=str(ROOT)))
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        results.append(PlaybookRun(subprocess.CompletedProcess(proc.args, proc.returncode, out, err)))
    for result in results:
        assert result.rc == 0, result
        assert result.stats(host)["changed"] == 3, result
    names = sorted("conc-%s-%d.crt" % (side, i) for side in roots for i in range(3))
    assert anchor_files(host) == names
    after = bundle_fingerprints(host)
    wanted = {sha256_colon(pki.der(c)) for certs in roots.values() for c in certs}
    assert wanted <= set(after)
    assert sorted(after) == sorted(distro + list(wanted))  # nothing lost, nothing doubled
    for name in names:
        text = podman_exec(host, "cat", "%s/%s" % (ANCHOR_DIR, name)).stdout
        assert text.count("-----BEGIN CERTIFICATE-----") == 1
    # The host's own tools agree: every anchor verifies against the extracted bundle.
    for certs in roots.values():
        for cert in certs:
            podman_exec(host, "sh", "-c", "printf '%%s' '%s' > /tmp/c.pem && openssl verify -CAfile %s /tmp/c.pem"
                        % (pki.pem(cert).decode("ascii"), BUNDLE))


def test_an_expired_anchor_can_still_be_removed_by_its_file(hosts, tmp_path, bad_inputs):
    """A root installed while it was valid must stay removable after it expired: absent needs only
    its fingerprint, not the root-only policy."""
    host = hosts["hosts"][4]
    expired_path = bad_inputs["expired"][0]
    run(["podman", "cp", expired_path, "%s:%s/retired.crt" % (host, ANCHOR_DIR)])
    result = play(tmp_path, hosts, host, [anchor_task("remove retired", src=expired_path, name="retired",
                                                      state="absent")], name="retired.json")
    assert result.rc == 0, result
    assert only(result, host, "remove retired")["changed"] is True
    assert "retired.crt" not in anchor_files(host)


# --- anchors: a list in one call (issue 6) ------------------------------------------------------

def test_a_list_of_anchors_is_one_call_and_one_refresh(hosts, tmp_path):
    """Three anchors (one of them the collection's own G2 by bare file name) in one call: one run of the
    real update-ca-certificates (counted by a wrapper), then one more to drop one, then none."""
    host = hosts["hosts"][5]
    podman_exec(host, "sh", "-c",
                "mv /usr/sbin/update-ca-certificates /usr/sbin/update-ca-certificates.real && "
                "printf '#!/bin/sh\\necho run >> /run/refresh-count\\nexec /usr/sbin/update-ca-certificates.real "
                "\"$@\"\\n' > /usr/sbin/update-ca-certificates && chmod 755 /usr/sbin/update-ca-certificates")
    roots = [pki.make_cert("List Root %d" % i, ca=True)[0] for i in range(2)]
    fps = [sha256_colon(pki.der(c)) for c in roots]

    def items(drop_second=False):
        listed = [{"name": "list-root-0", "content": pki.pem(roots[0]).decode("ascii"), "fingerprint_sha256": [fps[0]]},
                  {"name": "digicert-global-root-g2", "src": "digicert-global-root-g2.crt", "fingerprint_sha256": [G2]}]
        second = {"name": "list-root-1", "fingerprint_sha256": [fps[1]]}
        listed.append(dict(second, state="absent") if drop_second else
                      dict(second, content=pki.pem(roots[1]).decode("ascii")))
        return listed

    def refreshes():
        return len(podman_exec(host, "sh", "-c", "cat /run/refresh-count 2>/dev/null || true").stdout.split())

    first = play(tmp_path, hosts, host, [anchor_task("list", anchors=items())], name="list1.json")
    assert first.rc == 0, first
    res = only(first, host, "list")
    assert res["changed"] is True and res["refreshed"] is True and refreshes() == 1
    assert [(a["name"], a["state"]) for a in res["anchors"]] == [
        ("list-root-0", "present"), ("digicert-global-root-g2", "present"), ("list-root-1", "present")]
    assert {"list-root-0.crt", "list-root-1.crt", "digicert-global-root-g2.crt"} <= set(anchor_files(host))
    assert {fps[0], fps[1], G2} <= set(bundle_fingerprints(host))

    dropped = play(tmp_path, hosts, host, [anchor_task("list", anchors=items(drop_second=True))], name="list2.json")
    assert dropped.rc == 0, dropped
    res = only(dropped, host, "list")
    assert res["changed"] is True and refreshes() == 2
    assert res["stores"]["system"]["removed"] == ["%s/list-root-1.crt" % ANCHOR_DIR]
    assert "list-root-1.crt" not in anchor_files(host) and fps[1] not in bundle_fingerprints(host)

    again = play(tmp_path, hosts, host, [anchor_task("list", anchors=items(drop_second=True))], name="list3.json")
    assert again.rc == 0 and only(again, host, "list")["changed"] is False and refreshes() == 2, again
