"""The fleet audit and the rollout's pre-flight and summary on 3 real hosts (issue 6).

host 1: rolled out (test root as extra anchor, the stand-in's client.p12); host 2: a rollout that fails
(a group that does not exist on it); host 3: untouched. The audit must say the right things about each,
write a self-contained HTML page and a JSON report, and change nothing on any host.
"""

from __future__ import annotations

import json
import os
import re

import pytest

from conftest import IMAGE, PORT, ansible_playbook, host_group, snapshot, write_rollout_vars

PREFIX = os.environ.get("VIP_MTLS_TEST_PREFIX", "vipmtls-it") + "-audit"
WATCHED = ("/etc", "/usr/local/share/ca-certificates")
SUMMARY = "Summarise the rollout so far (after this batch)"


@pytest.fixture(scope="module")
def hosts(tmp_path_factory):
    yield from host_group(PREFIX, 3, IMAGE, tmp_path_factory)


@pytest.fixture(scope="module")
def audit_vars(standin, tmp_path_factory):
    return write_rollout_vars(standin, tmp_path_factory.mktemp("audit-vars") / "vars.yml", group=None)


def summary_lines(run):
    found = [r["msg"] for play in run.data["plays"] for task in play["tasks"]
             if task["task"]["name"].split(" : ", 1)[-1] == SUMMARY for r in task["hosts"].values()]
    assert found, run
    return found[-1]


def test_rollout_preflight_summary_and_audit(hosts, standin, audit_vars, tmp_path):
    one, two, three = hosts["hosts"]
    inventory = hosts["inventory"]
    (inventory.parent / "host_vars").mkdir(exist_ok=True)
    # (a host variable: the extra vars file must not set vip_client_cert_group, extra vars win)
    (inventory.parent / "host_vars" / ("%s.yml" % two)).write_text("vip_client_cert_group: no-such-group\n")

    # A pre-flight failure (a name that does not resolve) stops a host before anything, clearly.
    before = snapshot(three, *WATCHED)
    bad = ansible_playbook("vip.mtls.rollout", inventory, "--limit", three, "-e", "@%s" % audit_vars,
                           "-e", '{"vip_verify_urls": ["https://no-such-host.invalid/"]}', "--check")
    assert bad.rc != 0
    lines = summary_lines(bad)
    assert lines[0].startswith("rollout: 0 ok, 1 failed"), lines
    assert "FAILED Pre-flight" in lines[1] and "no-such-host.invalid does not resolve" in lines[1], lines
    assert snapshot(three, *WATCHED) == before

    # Batches 1 (host one, ok) and 2 (host two, fails): the summary of the stopping batch lists both.
    run = ansible_playbook("vip.mtls.rollout", inventory, "--limit", "%s,%s" % (one, two),
                           "-e", "@%s" % audit_vars)
    assert run.rc != 0, run
    assert run.stats(one)["failures"] == 0 and run.stats(two)["failures"] == 1
    lines = summary_lines(run)
    assert lines[0].startswith("rollout: 1 ok, 1 failed, 0 not reached yet (of 2)"), lines
    line_one = next(line for line in lines if line.startswith(one + ":"))
    line_two = next(line for line in lines if line.startswith(two + ":"))
    assert " ok | anchors digicert-global-root-g2,digicert-global-root-ca,vip-test-root" in line_one, line_one
    assert "certificate to 20" in line_one and "check https://vip-standin.test:%d/ ok" % PORT in line_one
    assert "FAILED" in line_two and "group 'no-such-group' does not exist" in line_two, line_two

    # The audit: read-only (hosts byte for byte as before), in check mode too.
    report_dir = tmp_path / "report"
    before = {h: snapshot(h, *WATCHED) for h in hosts["hosts"]}
    for extra in (["--check"], []):
        audit = ansible_playbook("vip.mtls.audit", inventory, "-e", "@%s" % audit_vars,
                                 "-e", "vip_audit_report_dir=%s" % report_dir, *extra)
        assert audit.rc == 0, audit
        for h in hosts["hosts"]:
            assert audit.stats(h)["changed"] == 0
        report = json.loads((report_dir / "audit.json").read_text())
        by_host = {h["host"]: h for h in report["hosts"]}
        assert report["counts"]["hosts"] == 3 and report["counts"]["ok"] == 1
        assert report["counts"]["failing"] == 2 and report["counts"]["expiring"] == 0

        good = by_host[one]
        assert good["status"] == "ok" and good["reasons"] == []
        assert good["g2"] is True and good["g1"] is True
        assert good["roots"] == {"digicert-global-root-g2": True, "digicert-global-root-ca": True,
                                 "vip-test-root": True}
        assert {a["name"] for a in good["anchors"]} >= {
            "digicert-global-root-g2", "digicert-global-root-ca", "vip-test-root"}
        assert good["client_cert"]["exists"] and 300 < good["client_cert"]["days_remaining"] < 400
        assert good["client_key"]["mode"] == "0640" and good["client_key"]["group"] == "root"
        check = good["checks"][0]
        assert check["ok"] and check["reason"] == "ok" and check["http_status"] == 200
        assert check["anchor_name"] == "vip-test-root"

        for h in (two, three):
            bad_host = by_host[h]
            assert bad_host["status"] == "failing"
            assert bad_host["g2"] is True  # Debian 12's own bundle carries G2 ...
            assert bad_host["roots"]["vip-test-root"] is False  # ... but not the service's root
            assert bad_host["anchors"] == [] and bad_host["client_cert"]["exists"] is False
            assert bad_host["checks"][0]["reason"] == "server_untrusted"
            assert any(r.startswith("no client certificate at /etc/vip-mtls/client.crt") for r in bad_host["reasons"])
            assert any("server_untrusted" in r for r in bad_host["reasons"])

        html = (report_dir / "audit.html").read_text()
        assert re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I) is None
        assert "<link" not in html.lower() and "@import" not in html and "<script src" not in html
        assert 'id="count-ok"><b>1</b>' in html and 'id="count-failing"><b>2</b>' in html
        assert html.count('<tr class="failing">') == 2 and html.count('<tr class="ok">') == 1

        console = next(r["msg"] for h in hosts["hosts"] for r in audit.results(h, "Summarise the audit"))
        assert console[0].startswith("3 hosts: 1 ok, 0 expiring (< 30 days), 2 failing"), console
        assert any(line.startswith(two + ": ") and "server_untrusted" in line for line in console), console

    assert {h: snapshot(h, *WATCHED) for h in hosts["hosts"]} == before
