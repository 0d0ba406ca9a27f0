"""The modules' documentation tells the truth (issue 7).

- EXAMPLES are real: each module's examples parse as tasks of a play and pass ansible-playbook's syntax check,
  then all of them run, as written, on a test host against the stand-in. The only changes are the
  production names that cannot be reached from here (the VIP endpoint, example.internal hosts, a proxy, a
  placeholder pin), each replaced by its stand-in equivalent from one explicit table.
- RETURN matches what the modules return: every vip.mtls module result of the whole test session (recorded by
  callback_plugins/vip_mtls_results.py from every playbook run of every integration test, this file's
  examples included) is compared with RETURN, keys and types, recursively; and every documented key must be
  seen in a real result.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from conftest import HOSTS, IMAGE, PORT, RESULTS_LOG, ROOT, VENV_BIN, ansible_env, ansible_playbook, host_group
from conftest import pem_file_fingerprint, run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
import module_docs  # noqa: E402  (the documentation as data, and the comparison with RETURN)

PREFIX = os.environ.get("VIP_MTLS_TEST_PREFIX", "vipmtls-it") + "-docs"
PROXY_BASE = PORT + 10  # servers.sh (its tinyproxy at +6) for the proxy example; test_mtls_matrix uses +20, +30
EXAMPLE_PROXY_PASSWORD = "not-checked-by-the-test-proxy"

# Production value in EXAMPLES -> its stand-in here. Each must be used, so the table follows the examples.
SUBSTITUTIONS = (
    # localhost, not vip-standin.test: the proxy example's tinyproxy resolves names on the machine, where only
    # localhost (also in the stand-in's certificate) points at the stand-in.
    ("https://userservices-auth.vip.symantec.com/", "https://localhost:{port}/"),
    ("userservices-auth.vip.symantec.com", "vip-standin.test"),
    ("https://mtls.example.internal:8443/", "https://vip-standin.test:{port}/"),
    ("https://mtls.example.internal/", "https://vip-standin.test:{port}/"),
    ("address: 10.0.4.21", "address: 127.0.0.1"),
    ("proxy.example.internal:3128", "127.0.0.1:{proxy_port}"),
    # The stand-in's server chain ends at its own test root, not at DigiCert's G2.
    ("- /usr/local/share/ca-certificates/digicert-global-root-g2.crt", "- /etc/vip-mtls/ca.pem"),
    ('"ab:cd:..."', '"{test_root_fingerprint}"'),
)
# Example tasks that must fail on the test host, and how: the documented outcome without python3-cryptography.
EXPECTED_FAILURES = {
    "Check with the VIP PKCS#12 file itself (needs python3-cryptography on the host)":
        ("client_cert_invalid", "cryptography"),
}

# Described in words in RETURN, checked here: each mtls_info check is an mtls_check result plus two keys;
# a usage_error has only the keys that RETURN names for it.
_USAGE_ERROR_KEYS = ("ok", "reason", "stage", "hint", "detail", "anchor")
_CHECK_ITEM = {key: spec if key in _USAGE_ERROR_KEYS else dict(spec, returned="unless usage_error")
               for key, spec in module_docs.load("mtls_check")[2].items()}
_CHECK_ITEM.update(url={"type": "str", "description": "The URL."},
                   client_cert_sent={"type": "bool", "description": "Whether the client certificate was sent."})
EXTRA_CONTAINS = {"mtls_info": {"checks[]": _CHECK_ITEM}}
# Documented keys no test run can show with a real (non-null) value here, and why.
NEVER_SEEN_NON_NULL = {
    ("mtls_info", "system_store.error"): "only on a host whose store cannot be read (unknown OS family)",
    ("mtls_info", "client_cert.error"): "only for a certificate file that cannot be read or parsed",
    ("mtls_info", "bundles[].error"): "only for a bundle that exists but cannot be read",
    ("mtls_info", "preflight.writable[].detail"): "root may write every directory of the test hosts "
                                                  "(unit tests in test_info.py cover a failing pre-flight)",
}


def examples(module):
    tasks = yaml.safe_load(module_docs.load(module)[1])
    assert isinstance(tasks, list) and tasks, "%s EXAMPLES is not a list of tasks" % module
    return tasks


def test_examples_are_tasks_that_pass_the_syntax_check(tmp_path):
    plays = []
    for module in module_docs.MODULES:
        tasks = examples(module)
        for task in tasks:
            assert task.get("name"), "%s: an example without a name: %r" % (module, task)
            actions = [k for k in task if "." in k]
            assert len(actions) == 1, "%s: %r calls no FQCN module (or several)" % (module, task["name"])
        assert any(("vip.mtls." + module) in task for task in tasks), "%s: no example calls it" % module
        plays.append({"name": "EXAMPLES of " + module, "hosts": "all", "gather_facts": False, "tasks": tasks})
    playbook = tmp_path / "examples.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    proc = run([str(VENV_BIN / "ansible-playbook"), "--syntax-check", "-i", "localhost,", str(playbook)],
               check=False, env=ansible_env(), cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def docs_host(tmp_path_factory):
    yield from host_group(PREFIX, 1, IMAGE, tmp_path_factory)


@pytest.fixture(scope="module")
def proxy(standin, tmp_path_factory):
    """A real CONNECT proxy (servers.sh's tinyproxy) that may reach the stand-in only."""
    directory = tmp_path_factory.mktemp("docs-servers")
    script = str(HOSTS / "servers.sh")
    env = dict(os.environ, ALLOW_PORTS=str(PORT))
    run(["bash", script, "start", str(directory), str(standin / "pki"), str(PROXY_BASE), "900"], env=env)
    try:
        yield PROXY_BASE + 6
    finally:
        run(["bash", script, "stop", str(directory)], check=False)


def substituted(text, values, used):
    for production, here in SUBSTITUTIONS:
        if production in text:
            used.add(production)
            text = text.replace(production, here.format(**values))
    return text


def failures(result, host):
    """One line per failed task of a run: its name and what the module said."""
    lines = []
    for play in result.data["plays"]:
        for task in play["tasks"]:
            res = task["hosts"].get(host, {})
            if res.get("failed") or res.get("unreachable"):
                lines.append("%s: %s" % (task["task"]["name"], json.dumps(
                    {k: res.get(k) for k in ("msg", "reason", "stage", "hint", "detail") if res.get(k)})))
    return lines


def test_examples_run_on_a_host_against_the_standin(tmp_path, standin, docs_host, proxy):
    pki = standin / "pki"
    host = docs_host["hosts"][0]
    root_pem = (pki / "root-ca.crt").read_text()
    values = {"port": PORT, "proxy_port": proxy, "test_root_fingerprint": pem_file_fingerprint(pki / "root-ca.crt")}
    # What the examples name on the controller, in the playbook's files/ directory.
    (tmp_path / "files").mkdir()
    shutil.copy(ROOT / "roles/vip_trust/files/digicert-global-root-g2.crt", tmp_path / "files/DigiCertGlobalRootG2.crt.pem")
    shutil.copy(pki / "client.p12", tmp_path / "files/vip_certificate.p12")
    passphrase = (pki / "client.p12.pass").read_text()

    # What the examples expect on the host already: the stand-in's root trusted (as DigiCert's roots are on a
    # real host), its CA file, the combined PEM and PKCS#12 forms of the client certificate, and G1 from an
    # earlier rollout in the system store and an application's bundle (for the example that removes it).
    g1 = ROOT / "roles/vip_trust/files/digicert-global-root-ca.crt"
    setup = [
        {"name": "G1 from an earlier rollout", "become": True,
         "vip.mtls.trust_anchor": {"content": g1.read_text(), "name": "digicert-global-root-ca",
                                   "fingerprint_sha256": [pem_file_fingerprint(g1)], "stores": ["system", "bundle"],
                                   "bundles": ["/etc/ssl/app-ca.pem"], "create_bundle": True}},
        {"name": "Trust the stand-in's root", "become": True,
         "vip.mtls.trust_anchor": {"content": root_pem, "name": "vip-test-root",
                                   "fingerprint_sha256": [values["test_root_fingerprint"]]}},
        {"name": "The client certificate's other forms the examples use", "become": True,
         "vip.mtls.client_cert": {"src": str(pki / "client.p12"), "passphrase": passphrase,
                                  "combined_path": "/etc/vip-mtls/client.pem", "pkcs12_path": "/etc/vip-mtls/vip.p12",
                                  "pkcs12_passphrase": passphrase}},
        {"name": "The stand-in's root as a CA file", "become": True,
         "ansible.builtin.copy": {"content": root_pem, "dest": "/etc/vip-mtls/ca.pem", "mode": "0644"}},
    ]
    used = set()
    tasks = []
    for module in module_docs.MODULES:
        for task in yaml.safe_load(substituted(module_docs.load(module)[1], values, used)):
            if task["name"] in EXPECTED_FAILURES:
                task["ignore_errors"] = True
            tasks.append(task)
    assert used == {production for production, _here in SUBSTITUTIONS}, \
        "substitutions no example uses any more: %s" % sorted({p for p, _h in SUBSTITUTIONS} - used)
    playbook = tmp_path / "examples.yml"
    playbook.write_text(yaml.safe_dump([
        {"name": "What the examples expect", "hosts": "all", "gather_facts": False, "tasks": setup},
        {"name": "Every module's EXAMPLES", "hosts": "all", "gather_facts": False, "tasks": tasks},
    ], sort_keys=False))
    # The vault variables the examples use, from a file: secrets never go on a command line.
    extra = tmp_path / "vault.json"
    extra.write_text(json.dumps({"vault_vip_p12_passphrase": passphrase, "vault_proxy_password": EXAMPLE_PROXY_PASSWORD}))
    result = ansible_playbook(str(playbook), docs_host["inventory"], "-e", "@%s" % extra)
    assert result.rc == 0, "\n".join(failures(result, host)) or result

    for task in tasks:
        found = result.results(host, task["name"])
        assert len(found) == 1, (task["name"], result)
        res = found[0]
        if task["name"] in EXPECTED_FAILURES:
            reason, words = EXPECTED_FAILURES[task["name"]]
            assert res.get("failed") and res.get("reason") == reason, (task["name"], res)
            assert words in (res.get("detail") or "") + res.get("msg", ""), (task["name"], res)
            continue
        assert not res.get("failed"), (task["name"], res)
        if "when" not in task:
            assert not res.get("skipped"), (task["name"], res)
        if "vip.mtls.mtls_check" in task:
            assert res["ok"] is True and res["reason"] == "ok" and res["client_cert_requested"] is True, res
        if "vip.mtls.mtls_info" in task and task["vip.mtls.mtls_info"] and task["vip.mtls.mtls_info"].get("urls"):
            assert res["checks_ok"] is True, res
    # The examples really did what they say on the host.
    g2 = result.results(host, "Trust DigiCert Global Root G2 (the root of the VIP API hosts), pinned")[0]
    assert g2["anchors"][0]["path"] == "/usr/local/share/ca-certificates/digicert-global-root-g2.crt", g2
    g1_gone = result.results(host, "Stop trusting G1, installed by an earlier rollout, once every endpoint chains to G2")
    assert g1_gone[0]["stores"]["system"]["removed"] == [
        "/usr/local/share/ca-certificates/digicert-global-root-ca.crt"], g1_gone
    assert g1_gone[0]["stores"]["bundle"]["removed"] == ["/etc/ssl/app-ca.pem"], g1_gone
    validated = result.results(host, "Check a renewed PKCS#12 before the change window, on the controller only "
                                     "(no host is contacted)")
    assert validated[0]["validated"] is True and validated[0]["days_remaining"] > 30, validated
    proxied = result.results(host, "Prove the VIP application answers, through the corporate proxy, trusting only G2")
    assert proxied[0]["proxy"] == "http://svc-vip:********@127.0.0.1:%d" % proxy, proxied
    assert EXAMPLE_PROXY_PASSWORD not in result.stdout


@pytest.mark.after_all
def test_every_recorded_result_matches_its_return_documentation(request):
    """Runs last (conftest.py): every vip.mtls result of this session, against RETURN. That every documented
    key was seen is required only when the session ran every integration test file (as make test does):
    a single file's results cannot show them all."""
    assert RESULTS_LOG.exists(), "no module result was recorded (is the callback enabled in ansible_env()?)"
    records = [json.loads(line) for line in RESULTS_LOG.read_text().splitlines()]
    problems, seen, counts = set(), {}, {}
    returns = {module: module_docs.load(module)[2] for module in module_docs.MODULES}
    for record in records:
        module = record["module"]
        assert module in returns, "a result of an unknown module %s" % module
        if record["censored"]:
            continue
        counts[(module, record["status"])] = counts.get((module, record["status"]), 0) + 1
        found, observed = module_docs.compare(record["result"], returns[module], record["status"],
                                              "%s (%s, task %r): " % (module, record["status"], record["task"]),
                                              EXTRA_CONTAINS.get(module))
        problems.update(found)
        for path, non_null in observed:
            seen[(module, path)] = seen.get((module, path), False) or non_null
    ran = {item.path.name for item in request.session.items}
    if not ran >= {path.name for path in Path(__file__).parent.glob("test_*.py")}:
        assert not problems, "results that differ from RETURN:\n" + "\n".join(sorted(problems))
        return
    for module in module_docs.MODULES:
        if not counts.get((module, "ok")):
            problems.add("%s: no successful result was recorded" % module)
        for path in sorted(module_docs.documented_paths(returns[module], EXTRA_CONTAINS.get(module))):
            if (module, path) not in seen:
                problems.add("%s: %s is documented but no result had it" % (module, path))
            elif not seen[(module, path)] and (module, path) not in NEVER_SEEN_NON_NULL:
                problems.add("%s: %s was never seen with a value, only null" % (module, path))
    assert not problems, "results that differ from RETURN:\n" + "\n".join(sorted(problems))
