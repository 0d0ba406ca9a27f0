"""The mtls_check matrix on real endpoints (issue 5, "Tests").

Every case runs vip.mtls.mtls_check on a real test host (a podman container sharing the machine's
loopback), then runs curl in the same host with the same inputs (and openssl s_client where it
shows more), and asserts that the module's verdict (reason AND stage) agrees with what the real
client experienced.

Servers, all on 127.0.0.1 and all stopped at the end:
- an nginx stand-in of its own (standin.sh, ports M..M+3: mTLS; wrong name; expired; no client
  certificate requested), separate from the session's stand-in so the two never stop each other;
- servers.sh (ports E..E+8): openssl s_server rejecting at the TLS layer (TLS 1.3 and 1.2), a TLS
  1.1-only s_server, a TLS 1.2-only nginx with an application error and a dropped connection, a
  silent listener, a listener with a full accept queue, tinyproxy allowing and refusing CONNECT, and
  a closed port.

Cases whose options mtls_check does not have yet still run curl (its half of the comparison is
asserted), then end as xfail naming the missing option.
"""

from __future__ import annotations

import json
import os
import re
import shlex

import pytest
import yaml

from conftest import BUILD, HOSTS, IMAGE, PORT, VENV_BIN, PlaybookRun, ansible_env, podman_exec, run

PREFIX = os.environ.get("VIP_MTLS_TEST_PREFIX", "vipmtls-it") + "-matrix"
HOST = PREFIX + "-1"
M = PORT + 20  # this file's own nginx stand-in: M mTLS, M+1 wrong name, M+2 expired, M+3 no client cert
E = PORT + 30  # servers.sh, see its header
TTL = 400  # seconds: servers end by themselves even if this file is killed
PKI = "/matrix-pki"  # the PKI's place on the test host
NAME = "vip-standin.test"  # resolves to 127.0.0.1 on the test hosts (hosts.sh --add-host)
FAST = 3  # timeout for the cases that wait for a server that never answers
BASE_OPTIONS = {"url", "client_cert", "client_key", "client_key_passphrase", "ca_path", "timeout"}
SOAP = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
        'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:vip="https://schemas.symantec.com/vip/2011/04/vipuserservices"><soapenv:Header/>'
        '<soapenv:Body><vip:GetServerTimeRequest><vip:requestId>matrix</vip:requestId>'
        '</vip:GetServerTimeRequest></soapenv:Body></soapenv:Envelope>')


def pem(stem):
    return {"client_cert": "%s/%s.crt" % (PKI, stem), "client_key": "%s/%s.key" % (PKI, stem)}


ROOT_CA = {"ca_path": PKI + "/root-ca.crt"}
GOOD = dict(pem("client"), **ROOT_CA)
ROGUE = dict(pem("rogue-client"), **ROOT_CA)


def url(port, path="/", host=NAME):
    return "https://%s:%d%s" % (host, port, path)


# Each case: module args; the module's expected verdict; what curl must experience with the same
# inputs (rc, HTTP status, a pattern in its output); optional extra checks.
#   reason/stage: expected; stage None for ok.  curl_rc/http/curl_says: curl's side.
#   env: environment for both (use_proxy_env).  s_client: (args, pattern, must_match).
CASES = [
    dict(id="ok-tls13-nginx", args=dict(url=url(M), **GOOD), reason="ok", stage=None,
         tls_version="TLSv1.3", requested=True, curl_rc=0, http=200, curl_says=r"SSL connection using TLSv1\.3",
         s_client=(["-connect", "127.0.0.1:%d" % M, "-servername", NAME, "-CAfile", PKI + "/root-ca.crt"],
                   r"CertificateRequest", True)),
    dict(id="ok-tls13-nginx-check-mode", args=dict(url=url(M), **GOOD), check_mode=True, reason="ok",
         stage=None, curl_rc=0, http=200),
    dict(id="ok-tls12-nginx", args=dict(url=url(E + 3), **GOOD), reason="ok", stage=None, tls_version="TLSv1.2",
         requested=True, curl_rc=0, http=200, curl_says=r"SSL connection using TLSv1\.2"),
    dict(id="ok-tls13-s_server-verify", args=dict(url=url(E), **GOOD), reason="ok", stage=None,
         tls_version="TLSv1.3", requested=True, curl_rc=0, http=200),
    dict(id="ok-no-client-cert-requested", args=dict(url=url(M + 3), **GOOD), reason="ok", stage=None,
         requested=False, warning="mutual TLS is not in force", curl_rc=0, http=200,
         s_client=(["-connect", "127.0.0.1:%d" % (M + 3), "-servername", NAME, "-CAfile", PKI + "/root-ca.crt"],
                   r"CertificateRequest", False)),
    dict(id="client_cert_required-http-nginx", args=dict(url=url(M), **ROOT_CA), reason="client_cert_required",
         stage="http", curl_rc=0, http=400, curl_says=r"No required SSL certificate was sent"),
    dict(id="client_cert_rejected-http-nginx", args=dict(url=url(M), **ROGUE), reason="client_cert_rejected",
         stage="http", curl_rc=0, http=400, curl_says=r"The SSL certificate error"),
    dict(id="client_cert_required-tls13-alert", args=dict(url=url(E), **ROOT_CA), reason="client_cert_required",
         stage="tls", curl_rc=56, curl_says=r"alert certificate required"),
    dict(id="client_cert_required-tls12-alert", args=dict(url=url(E + 1), **ROOT_CA),
         reason="client_cert_required", stage="tls", curl_rc=35, curl_says=r"alert handshake failure"),
    dict(id="client_cert_rejected-tls13-alert", args=dict(url=url(E), **ROGUE), reason="client_cert_rejected",
         stage="tls", curl_rc=56, curl_says=r"alert unknown ca"),
    dict(id="client_cert_rejected-tls12-alert", args=dict(url=url(E + 1), **ROGUE),
         reason="client_cert_rejected", stage="tls", curl_rc=35, curl_says=r"alert unknown ca",
         s_client=(["-connect", "127.0.0.1:%d" % (E + 1), "-servername", NAME, "-CAfile", PKI + "/root-ca.crt",
                    "-cert", PKI + "/rogue-client.crt", "-key", PKI + "/rogue-client.key"],
                   r"alert unknown ca", True)),
    # Our certificate is bad locally: the module refuses before connecting; the server refuses it too.
    dict(id="client_cert_invalid-expired", args=dict(url=url(M), **dict(pem("expired-client"), **ROOT_CA)),
         reason="client_cert_invalid", stage="local", curl_rc=0, http=400, curl_says=r"The SSL certificate error"),
    dict(id="client_cert_invalid-key-mismatch",
         args=dict(url=url(M), client_cert=PKI + "/client.crt", client_key=PKI + "/rogue-client.key", **ROOT_CA),
         reason="client_cert_invalid", stage="local", curl_rc=58, curl_says=r"(?i)private key"),
    dict(id="server_untrusted-ca_path", args=dict(url=url(M), ca_path=PKI + "/untrusted-root.crt", **pem("client")),
         reason="server_untrusted", stage="tls", curl_rc=60, curl_says=r"unable to get local issuer certificate"),
    dict(id="server_untrusted-system-store", args=dict(url=url(M), **pem("client")), reason="server_untrusted",
         stage="tls", curl_rc=60, curl_says=r"unable to get local issuer certificate"),
    dict(id="server_hostname_mismatch", args=dict(url=url(M + 1), **GOOD), reason="server_hostname_mismatch",
         stage="tls", curl_rc=60, curl_says=r"no alternative certificate subject name matches"),
    dict(id="server_cert_expired", args=dict(url=url(M + 2), **GOOD), reason="server_cert_expired", stage="tls",
         curl_rc=60, curl_says=r"certificate has expired"),
    dict(id="tls_protocol_mismatch-tls11-server", args=dict(url=url(E + 2), **ROOT_CA),
         reason="tls_protocol_mismatch", stage="tls", curl_rc=35, curl_says=r"protocol version",
         curl_extra=["--tlsv1.2"]),  # the module's own floor is TLS 1.2
    dict(id="tls_protocol_mismatch-min13-vs-tls12", args=dict(url=url(E + 3), tls_min_version="1.3", **GOOD),
         reason="tls_protocol_mismatch", stage="tls", curl_rc=35, curl_says=r"protocol version"),
    dict(id="dns_failure", args=dict(url=url(443, host="nonexistent.invalid"), **GOOD), reason="dns_failure",
         stage="dns", curl_rc=6),
    dict(id="connect_refused", args=dict(url=url(E + 8), **GOOD), reason="connect_refused", stage="connect",
         curl_rc=7),
    dict(id="connect_timeout-full-accept-queue", args=dict(url=url(E + 5), timeout=FAST, **GOOD),
         reason="connect_timeout", stage="connect", curl_rc=28, connected=False),
    dict(id="timeout-silent-server", args=dict(url=url(E + 4), timeout=FAST, **GOOD), reason="timeout",
         stage="tls", curl_rc=28, connected=True),
    dict(id="http_error-connection-dropped", args=dict(url=url(E + 3, "/close"), **GOOD), reason="http_error",
         stage="http", curl_rc=(52, 56)),  # curl 7.88 (bookworm): 52 empty reply; 8.14 (trixie): 56 recv failure
    dict(id="http_error-expected_status", args=dict(url=url(M), expected_status=[204], **GOOD),
         reason="http_error", stage="http", curl_rc=0, http=200),  # curl: 200, not the 204 expected
    # The proxy runs on the machine, where only localhost (also in the server certificate) resolves.
    dict(id="ok-via-proxy", args=dict(url=url(M, host="localhost"), proxy="http://127.0.0.1:%d" % (E + 6), **GOOD),
         reason="ok", stage=None, curl_rc=0, http=200),
    dict(id="client_cert_required-tls13-via-proxy",
         args=dict(url=url(E, host="localhost"), proxy="http://127.0.0.1:%d" % (E + 6), **ROOT_CA),
         reason="client_cert_required", stage="tls", curl_rc=56, curl_says=r"alert certificate required"),
    dict(id="proxy_failure-connect-403", args=dict(url=url(M), proxy="http://127.0.0.1:%d" % (E + 7), **GOOD),
         reason="proxy_failure", stage="proxy", detail=r"403", curl_rc=56,
         curl_says=r"CONNECT tunnel failed, response 403"),
    dict(id="proxy_failure-unreachable", args=dict(url=url(M), proxy="http://127.0.0.1:%d" % (E + 8), **GOOD),
         reason="proxy_failure", stage="proxy", curl_rc=7),
    dict(id="proxy_failure-from-environment", args=dict(url=url(M), use_proxy_env=True, **GOOD),
         env={"https_proxy": "http://127.0.0.1:%d" % (E + 7), "no_proxy": ""}, reason="proxy_failure",
         stage="proxy", detail=r"403", curl_rc=56, curl_says=r"response 403"),
    dict(id="ok-server_name-with-ip-url",
         args=dict(url=url(M, host="127.0.0.1"), server_name=NAME, **GOOD), reason="ok", stage=None,
         curl_rc=0, http=200),
    dict(id="connect_refused-address-honoured", args=dict(url=url(M), address="127.0.0.2", **GOOD),
         reason="connect_refused", stage="connect", curl_rc=7),  # nginx listens on 127.0.0.1 only
    dict(id="ok-probe-vip_get_server_time",
         args=dict(url=url(M, "/vipuserservices/QueryService_1_8"), probe="vip_get_server_time", **GOOD),
         reason="ok", stage=None, curl_rc=0, http=200, curl_says=r"<status>0000</status>"),
    dict(id="application_error-vip_get_server_time",
         args=dict(url=url(E + 3, "/vipuserservices/QueryService_1_8"), probe="vip_get_server_time", **GOOD),
         reason="application_error", stage="application", detail=r"0001", curl_rc=0, http=200,
         curl_says=r"<status>0001</status>"),
    dict(id="connect_refused-with-retries", args=dict(url=url(E + 8), retries=2, delay=1, timeout=8, **GOOD),
         reason="connect_refused", stage="connect", min_elapsed_ms=1000, curl_rc=7,
         curl_extra=["--retry", "2", "--retry-delay", "1", "--retry-connrefused"]),
    dict(id="ok-client_pkcs12", args=dict(url=url(M), client_pkcs12=PKI + "/client.p12",
                                          client_pkcs12_passphrase="demo-p12-secret", **ROOT_CA),
         reason="ok", stage=None, curl_rc=0, http=200, pkcs12=True),
]


def case_id(case):
    return case["id"]


def curl_command(case):
    """curl with the case's inputs, mapped option by option."""
    a = case["args"]
    cmd = ["curl", "-sS", "-v", "-o", "-", "-w", "\n@@curl %{http_code}\n",
           "--max-time", str(a.get("timeout", 5))]
    target = a["url"]
    if a.get("server_name"):
        # connect to the URL's address, verify and send SNI for server_name
        host_port = re.match(r"https://([^/]+)", target).group(1)
        port = host_port.rsplit(":", 1)[1]
        target = target.replace(host_port, "%s:%s" % (a["server_name"], port))
        cmd += ["--resolve", "%s:%s:%s" % (a["server_name"], port, host_port.rsplit(":", 1)[0])]
    if a.get("address"):
        host, port = re.match(r"https://([^/:]+):(\d+)", target).groups()
        cmd += ["--resolve", "%s:%s:%s" % (host, port, a["address"])]
    if a.get("ca_path"):
        cmd += ["--cacert", a["ca_path"]]
    if a.get("client_cert"):
        cmd += ["--cert", a["client_cert"]]
    if a.get("client_key"):
        cmd += ["--key", a["client_key"]]
    if a.get("client_pkcs12"):
        cmd += ["--cert-type", "P12", "--cert", "%s:%s" % (a["client_pkcs12"], a["client_pkcs12_passphrase"])]
    if a.get("proxy"):
        cmd += ["--proxy", a["proxy"]]
    elif not a.get("use_proxy_env"):
        cmd += ["--noproxy", "*"]
    if a.get("tls_min_version") == "1.3":
        cmd += ["--tlsv1.3"]
    if a.get("probe") == "vip_get_server_time":
        cmd += ["-X", "POST", "-H", "Content-Type: text/xml; charset=utf-8", "-H", 'SOAPAction: ""',
                "--data-binary", SOAP]
    return cmd + case.get("curl_extra", []) + [target]


def in_host(cmd, env=None):
    prefix = ["env"] + ["%s=%s" % kv for kv in (env or {}).items()] if env else []
    return run(["podman", "exec", HOST, *prefix, *cmd], check=False)


@pytest.fixture(scope="module")
def options():
    """The option names the installed mtls_check has."""
    proc = run([str(VENV_BIN / "ansible-doc"), "--json", "vip.mtls.mtls_check"], env=ansible_env())
    doc = json.loads(proc.stdout)["vip.mtls.mtls_check"]["doc"]
    return set(doc["options"])


def missing_options(case, options):
    return sorted(set(case["args"]) - options)


@pytest.fixture(scope="module")
def matrix(tmp_path_factory, options):
    """Servers, one test host with the PKI, and one playbook run holding every case's result."""
    work = BUILD / "test-matrix"
    standin_dir, servers_dir = work / "standin", work / "servers"
    env = dict(os.environ, PYTHON=str(VENV_BIN / "python"),
               ALLOW_PORTS=" ".join(str(p) for p in (M, E, E + 1, E + 3)))
    stop = [
        ["bash", str(HOSTS / "hosts.sh"), "down", PREFIX],
        ["bash", str(HOSTS / "servers.sh"), "stop", str(servers_dir)],
        ["bash", str(HOSTS / "standin.sh"), "stop", str(standin_dir)],
    ]
    try:
        run(["bash", str(HOSTS / "standin.sh"), "start", str(standin_dir), str(M)], env=env)
        pki = standin_dir / "pki"
        run(["bash", str(HOSTS / "servers.sh"), "start", str(servers_dir), str(pki), str(E), str(TTL)], env=env)
        run(["bash", str(HOSTS / "hosts.sh"), "up", PREFIX, "1", IMAGE])
        inventory = tmp_path_factory.mktemp("matrix") / "hosts.ini"
        run(["bash", str(HOSTS / "hosts.sh"), "inventory", PREFIX, str(inventory)])
        podman_exec(HOST, "rm", "-rf", PKI)
        run(["podman", "cp", str(pki), "%s:%s" % (HOST, PKI)])

        runnable = [c for c in CASES if not missing_options(c, options)]
        tasks = []
        for case in runnable:
            task = {"name": case["id"], "vip.mtls.mtls_check": case["args"], "ignore_errors": True}
            if case.get("check_mode"):
                task["check_mode"] = True
            if case.get("env"):
                task["environment"] = case["env"]
            tasks.append(task)
        playbook = inventory.parent / "matrix.yml"
        playbook.write_text(yaml.safe_dump([{"hosts": HOST, "gather_facts": False, "tasks": tasks}],
                                           sort_keys=False))
        proc = run([str(VENV_BIN / "ansible-playbook"), str(playbook), "-i", str(inventory)],
                   check=False, env=ansible_env())
        play = PlaybookRun(proc)
        results = {c["id"]: play.results(HOST, c["id"]) for c in runnable}
        yield {"results": results, "play": play}
    finally:
        for cmd in stop:
            run(cmd, check=False)
    # nothing of ours may outlive the file
    leftovers = run(["pgrep", "-af", str(work)], check=False).stdout.strip()
    assert not leftovers, "servers left running:\n" + leftovers


def check_curl(case):
    proc = in_host(curl_command(case), case.get("env"))
    out = proc.stdout + proc.stderr
    experienced = "curl rc=%d\n%s" % (proc.returncode, out[-3000:])
    expected_rc = case["curl_rc"] if isinstance(case["curl_rc"], tuple) else (case["curl_rc"],)
    assert proc.returncode in expected_rc, experienced
    status = re.search(r"@@curl (\d+)", proc.stdout)
    if "http" in case:
        assert status and int(status.group(1)) == case["http"], experienced
    if case.get("curl_says"):
        assert re.search(case["curl_says"], out), experienced
    if "connected" in case:
        # Once the TCP connection stands (stage tls, not connect) curl -v says "Connected to" (7.x) or
        # "Established connection" (8.x), or at least sends its Client hello.
        connected = re.search(r"\* (Connected to |Established connection)|Client hello \(1\)", out)
        assert bool(connected) == case["connected"], experienced
    if case.get("s_client"):
        args, pattern, must_match = case["s_client"]
        sc = in_host(["sh", "-c", "echo | timeout 5 openssl s_client -msg %s 2>&1"
                      % " ".join(shlex.quote(a) for a in args)])
        assert bool(re.search(pattern, sc.stdout)) == must_match, sc.stdout[-3000:]
    return experienced


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_module_agrees_with_curl(matrix, options, case):
    experienced = check_curl(case)
    missing = missing_options(case, options)
    if missing:
        pytest.xfail("mtls_check has no option %s yet (curl's half of the case passed)" % ", ".join(missing))

    results = matrix["results"][case["id"]]
    assert len(results) == 1, matrix["play"]
    res = results[0]
    shown = ("ok", "reason", "stage", "hint", "detail", "msg", "tls_version", "client_cert_requested", "warnings",
             "elapsed_ms")
    verdict = json.dumps({k: res.get(k) for k in shown}, indent=1)
    why = "module:\n%s\n%s" % (verdict, experienced)
    if case.get("pkcs12") and not res.get("ok"):
        # The test image has no python3-cryptography: the module must say so and name the PEM route.
        assert (res.get("reason"), res.get("stage")) == ("client_cert_invalid", "local"), why
        assert re.search(r"(?i)cryptography", res.get("detail") or res.get("msg") or ""), why
        assert re.search(r"client_key|PEM", (res.get("hint") or "") + (res.get("msg") or "")), why
        return
    assert res.get("changed") is False, why
    assert res.get("reason") == case["reason"], why
    assert res.get("stage") == case["stage"], why
    assert bool(res.get("ok")) == (case["reason"] == "ok"), why
    assert bool(res.get("failed")) == (case["reason"] != "ok"), why
    assert res.get("hint"), why
    if case["reason"] != "ok":
        assert res.get("detail"), why
    if case.get("detail"):
        assert re.search(case["detail"], res.get("detail") or ""), why
    if case.get("tls_version"):
        assert res.get("tls_version") == case["tls_version"], why
    if "requested" in case and res.get("client_cert_requested") is not None:
        assert res["client_cert_requested"] is case["requested"], why
    if case.get("warning"):
        assert any(case["warning"] in w for w in res.get("warnings", [])), why
    elif case["reason"] == "ok":
        assert not any("mutual TLS is not in force" in w for w in res.get("warnings", [])), why
    if case.get("min_elapsed_ms"):
        assert res.get("elapsed_ms", 0) >= case["min_elapsed_ms"], why
    if "timeout" in case["args"]:
        # the deadline covers the whole check (retries included), with a little slack for the host
        assert res.get("elapsed_ms", 0) <= case["args"]["timeout"] * 1000 + 1500, why
    # never key material or passphrases in a result
    text = json.dumps(res)
    assert "PRIVATE KEY" not in text and "demo-p12-secret" not in text, why


def test_matrix_covers_every_reason():
    reasons = {c["reason"] for c in CASES}
    assert reasons >= {
        "ok", "client_cert_invalid", "dns_failure", "connect_refused", "connect_timeout", "proxy_failure",
        "tls_protocol_mismatch", "server_untrusted", "server_hostname_mismatch", "server_cert_expired",
        "client_cert_required", "client_cert_rejected", "http_error", "application_error", "timeout"}
    assert len(CASES) >= 12
