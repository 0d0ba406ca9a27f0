"""Bad and hostile input on a real test host (issue 8).

One playbook drives the whole corpus (trust_anchor, client_cert, mtls_check; one task per case, each
with ignore_errors): every case must fail with a message naming its problem (a substring per case),
never with a traceback or "MODULE FAILURE", and the host must be byte-for-byte as it was (the stores,
/etc and the destination directories, by checksum, mode and owner).

A second playbook places symbolic links owned by another user where the outputs go (client_cert key and
certificate, a system-store anchor file, a PEM bundle) pointing at files outside: the files they point
at must never be written.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from conftest import IMAGE, ansible_playbook, host_group, podman_exec, snapshot

PREFIX = os.environ.get("VIP_MTLS_TEST_PREFIX", "vipmtls-it") + "-rel-bad"
WATCHED = ("/etc", "/usr/local/share/ca-certificates", "/opt/rel", "/home", "/root/vip-dest")
P12_PASS = "bad-input-p12-Qw8zN3"
NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def _cert(cn, key, issuer=None, issuer_key=None, ca=True, not_before=None, not_after=None):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (x509.CertificateBuilder().subject_name(name)
               .issuer_name(issuer.subject if issuer is not None else name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before or NOW - DAY).not_valid_after(not_after or NOW + 365 * DAY)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    return builder.sign(issuer_key or key, hashes.SHA256())


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def _key_pem(key, password=None):
    enc = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)


def _fp(cert):
    return hashlib.sha256(_der(cert)).hexdigest()


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    yield from host_group(PREFIX, 1, IMAGE, tmp_path_factory)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Controller-side input files: (dir, dict of name -> path, dict of extras)."""
    d = tmp_path_factory.mktemp("bad-corpus")
    root_key, leaf_key, other_key = (ec.generate_private_key(ec.SECP256R1()) for _i in range(3))
    root = _cert("Rel Test Root", root_key)
    inter = _cert("Rel Test Intermediate", ec.generate_private_key(ec.SECP256R1()), root, root_key)
    leaf = _cert("rel-client", leaf_key, root, root_key, ca=False)

    expired_root = _cert("Rel Expired Root", root_key, not_before=NOW - 900 * DAY, not_after=NOW - 30 * DAY)
    future_root = _cert("Rel Future Root", root_key, not_before=NOW + 30 * DAY, not_after=NOW + 900 * DAY)
    expired_leaf = _cert("rel-expired-client", leaf_key, root, root_key, ca=False,
                         not_before=NOW - 90 * DAY, not_after=NOW - DAY)
    forged = bytearray(_der(root))
    forged[-1] ^= 0xFF  # the root's signature no longer verifies
    p12 = pkcs12.serialize_key_and_certificates(b"rel", leaf_key, leaf, [root],
                                                serialization.BestAvailableEncryption(P12_PASS.encode()))
    corrupt_mac = bytearray(p12)
    corrupt_mac[-25] ^= 0x01  # inside the MacData digest near the end
    files = {
        "root.crt": _pem(root),
        "garbage.bin": bytes(range(256)) * 8,
        "empty.crt": b"",
        "text.txt": b"just some words, no certificate here\n",
        "truncated.pem": _pem(root)[:200],
        "truncated.der": _der(root)[:150],
        "badbase64.pem": _pem(root).replace(b"\n", b"\n!!", 1).replace(
            b"-----BEGIN CERTIFICATE-----\n!!", b"-----BEGIN CERTIFICATE-----\n*%"),
        "expired-root.crt": _pem(expired_root),
        "future-root.crt": _pem(future_root),
        "leaf.crt": _pem(leaf),
        "intermediate.crt": _pem(inter),
        "forged-root.der": bytes(forged),
        "utf16.crt": _pem(root).decode("ascii").encode("utf-16-le"),
        "huge.crt": _pem(root) * (5 * 1024 * 1024 // len(_pem(root)) + 1),
        "key-only.pem": _key_pem(leaf_key),
        "client.p12": p12,
        "client-truncated.p12": p12[:len(p12) // 2],
        "client-corrupt-mac.p12": bytes(corrupt_mac),
        "client-other-key.pem": _pem(leaf) + _key_pem(other_key),
        "client-cert-only.pem": _pem(leaf),
        "client-encrypted.pem": _pem(leaf) + _key_pem(leaf_key, b"enc-pass-Vb2"),
        "client-expired.pem": _pem(expired_leaf) + _key_pem(leaf_key),
        "client-two-keys.pem": _pem(leaf) + _key_pem(leaf_key) + _key_pem(other_key),
        "client-huge.p12": p12 + b"\0" * (5 * 1024 * 1024),
    }
    paths = {}
    for name, data in files.items():
        (d / name).write_bytes(data)
        paths[name] = str(d / name)
    # A file name that is not UTF-8 (byte 0xff), holding garbage: found through a glob.
    os.makedirs(os.path.join(str(d), "nonutf8"))
    with open(os.path.join(str(d).encode(), b"nonutf8", b"bad-\xff-name.crt"), "wb") as handle:
        handle.write(b"\x00\x01garbage")
    return {"dir": d, "paths": paths, "root_fp": _fp(root), "root": root, "leaf": leaf,
            "leaf_key": leaf_key, "other_key": other_key}


def _cases(c):
    """(label, module, args, expected message substring)."""
    p = c["paths"]
    root_fp = c["root_fp"]
    ta, cc, mc = "vip.mtls.trust_anchor", "vip.mtls.client_cert", "vip.mtls.mtls_check"
    d = "/opt/rel/dest"
    cases = [
        # --- trust_anchor: the certificate itself
        ("ta garbage bytes", ta, {"name": "rel-bad", "src": p["garbage.bin"]}, "neither a PEM nor a DER"),
        ("ta empty file", ta, {"name": "rel-bad", "src": p["empty.crt"]}, "is empty"),
        ("ta plain text", ta, {"name": "rel-bad", "src": p["text.txt"]}, "holds no certificate"),
        ("ta truncated PEM", ta, {"name": "rel-bad", "src": p["truncated.pem"]}, "truncated"),
        ("ta truncated DER", ta, {"name": "rel-bad", "src": p["truncated.der"]}, "is truncated"),
        ("ta damaged base64", ta, {"name": "rel-bad", "src": p["badbase64.pem"]}, "base64 inside a CERTIFICATE"),
        ("ta expired root", ta, {"name": "rel-bad", "src": p["expired-root.crt"]}, "expired on"),
        ("ta root not yet valid", ta, {"name": "rel-bad", "src": p["future-root.crt"]}, "is not valid before"),
        ("ta leaf offered as root", ta, {"name": "rel-bad", "src": p["leaf.crt"]}, "not a CA certificate (a leaf"),
        ("ta intermediate offered as root", ta, {"name": "rel-bad", "src": p["intermediate.crt"]},
         "(an intermediate)"),
        ("ta forged self-signed root", ta, {"name": "rel-bad", "src": p["forged-root.der"]},
         "signature does not verify"),
        ("ta UTF-16 file", ta, {"name": "rel-bad", "src": p["utf16.crt"]}, "looks like UTF-16"),
        ("ta 5 MB file", ta, {"name": "rel-bad", "src": p["huge.crt"]}, "too large to be a certificate file"),
        ("ta private key as anchor", ta, {"name": "rel-bad", "src": p["key-only.pem"]}, "holds no certificate"),
        ("ta wrong pin", ta, {"name": "rel-bad", "src": p["root.crt"], "fingerprint_sha256": ["00" * 32]},
         "matches none of the pinned"),
        ("ta malformed pin", ta, {"name": "rel-bad", "src": p["root.crt"], "fingerprint_sha256": ["xyz"]},
         "is not a SHA-256 fingerprint"),
        ("ta missing src", ta, {"name": "rel-bad", "src": p["root.crt"] + ".missing"},
         "was not found on the controller"),
        ("ta src path with ..", ta, {"name": "rel-bad", "src": str(c["dir"]) + "/../../../../../etc/hostname"},
         "holds no certificate"),
        ("ta non-UTF-8 src name", ta,
         {"name": "rel-bad", "src": "{{ lookup('ansible.builtin.fileglob', '%s/nonutf8/bad-*') }}" % c["dir"]},
         "neither a PEM nor a DER"),
        ("ta name with ..", ta, {"name": "../../etc/rel-evil", "src": p["root.crt"],
                                 "fingerprint_sha256": [root_fp]}, "is not a plain file base name"),
        ("ta name with slash", ta, {"name": "sub/rel", "src": p["root.crt"], "fingerprint_sha256": [root_fp]},
         "is not a plain file base name"),
        ("ta src and content", ta, {"name": "rel-bad", "src": p["root.crt"], "content": "x"},
         "set exactly one of src and content"),
        ("ta unknown store", ta, {"name": "rel-bad", "src": p["root.crt"], "stores": ["windows"]},
         "value of stores must be one or more of"),
        # --- trust_anchor: bundle targets on the host
        ("ta bundle store without bundles", ta, {"name": "rel-bad", "src": p["root.crt"],
                                                 "fingerprint_sha256": [root_fp], "stores": ["bundle"]},
         "bundles is empty"),
        ("ta relative bundle path", ta, {"name": "rel-bad", "src": p["root.crt"], "fingerprint_sha256": [root_fp],
                                         "stores": ["bundle"], "bundles": ["ca.pem"]},
         "must be an absolute path"),
        ("ta bundle is /etc/shadow", ta, {"name": "rel-bad", "src": p["root.crt"], "fingerprint_sha256": [root_fp],
                                          "stores": ["bundle"], "bundles": ["/etc/shadow"]},
         "does not look like a PEM bundle"),
        ("ta bundle is a directory", ta, {"name": "rel-bad", "src": p["root.crt"], "fingerprint_sha256": [root_fp],
                                          "stores": ["bundle"], "bundles": ["/opt/rel"]}, "is a directory"),
        ("ta bundle missing", ta, {"name": "rel-bad", "src": p["root.crt"], "fingerprint_sha256": [root_fp],
                                   "stores": ["bundle"], "bundles": ["/opt/rel/missing.pem"]}, "does not exist"),
        ("ta bundle with NUL bytes", ta, {"name": "rel-bad", "src": p["root.crt"], "fingerprint_sha256": [root_fp],
                                          "stores": ["bundle"], "bundles": ["/opt/rel/nul.pem"]},
         "holds NUL bytes"),
        ("ta bundle dir missing with create", ta, {"name": "rel-bad", "src": p["root.crt"],
                                                   "fingerprint_sha256": [root_fp], "stores": ["bundle"],
                                                   "bundles": ["/opt/rel/nodir/ca.pem"], "create_bundle": True},
         "does not exist (create_bundle makes"),
        # --- client_cert: the input
        ("cc garbage bytes", cc, {"src": p["garbage.bin"], "dest_dir": d}, "neither PKCS#12"),
        ("cc empty file", cc, {"src": p["empty.crt"], "dest_dir": d}, "is empty"),
        ("cc PKCS#12 wrong passphrase", cc, {"src": p["client.p12"], "passphrase": "wrong-pass", "dest_dir": d},
         "the passphrase is wrong or the file is damaged"),
        ("cc PKCS#12 without passphrase", cc, {"src": p["client.p12"], "dest_dir": d},
         "the passphrase is wrong or the file is damaged"),
        ("cc PKCS#12 corrupt MAC", cc, {"src": p["client-corrupt-mac.p12"], "passphrase": P12_PASS, "dest_dir": d},
         "the passphrase is wrong or the file is damaged"),
        ("cc PKCS#12 truncated", cc, {"src": p["client-truncated.p12"], "passphrase": P12_PASS, "dest_dir": d},
         "neither PKCS#12"),
        ("cc 5 MB PKCS#12", cc, {"src": p["client-huge.p12"], "passphrase": P12_PASS, "dest_dir": d},
         "too large to be a client certificate"),
        ("cc key for another certificate", cc, {"src": p["client-other-key.pem"], "dest_dir": d},
         "the key belongs to another certificate"),
        ("cc certificate without key", cc, {"src": p["client-cert-only.pem"], "dest_dir": d}, "no private key"),
        ("cc key without certificate", cc, {"src": p["key-only.pem"], "dest_dir": d}, "but no certificate"),
        ("cc two keys", cc, {"src": p["client-two-keys.pem"], "dest_dir": d}, "more than one private key"),
        ("cc encrypted key, no passphrase", cc, {"src": p["client-encrypted.pem"], "dest_dir": d},
         "the private key is encrypted; set passphrase"),
        ("cc encrypted key, wrong passphrase", cc, {"src": p["client-encrypted.pem"], "passphrase": "nope",
                                                    "dest_dir": d}, "the passphrase is wrong"),
        ("cc expired certificate", cc, {"src": p["client-expired.pem"], "dest_dir": d}, "expired on"),
        ("cc min_days_valid", cc, {"src": p["client.p12"], "passphrase": P12_PASS, "dest_dir": d,
                                   "min_days_valid": 100000}, "fewer than min_days_valid"),
        ("cc truncated PEM", cc, {"src": p["truncated.pem"], "dest_dir": d}, "the file is truncated"),
        # --- client_cert: the destination on the host
        ("cc dest_dir owned by another user", cc, {"src": p["client.p12"], "passphrase": P12_PASS,
                                                   "dest_dir": "/opt/rel/mallory-dir"}, "belongs to uid"),
        ("cc dest_dir world-writable", cc, {"src": p["client.p12"], "passphrase": P12_PASS,
                                            "dest_dir": "/opt/rel/wide"}, "is writable by group or others"),
        ("cc dest_dir through another user's symlink", cc,
         {"src": p["client.p12"], "passphrase": P12_PASS, "dest_dir": "/opt/rel/mlink/sub"},
         "is a symbolic link owned by uid"),
        ("cc dest_dir is a file", cc, {"src": p["client.p12"], "passphrase": P12_PASS,
                                       "dest_dir": "/opt/rel/plainfile"}, "exists but is not a directory"),
        ("cc key_path is /etc/shadow", cc, {"src": p["client.p12"], "passphrase": P12_PASS, "dest_dir": d,
                                            "key_path": "/etc/shadow"}, "does not hold what this module writes"),
        ("cc cert_path is /etc/passwd", cc, {"src": p["client.p12"], "passphrase": P12_PASS, "dest_dir": d,
                                             "cert_path": "/etc/passwd"}, "does not hold what this module writes"),
        ("cc relative key_path", cc, {"src": p["client.p12"], "passphrase": P12_PASS, "dest_dir": d,
                                      "key_path": "client.key"}, "must be an absolute path"),
        ("cc key_path in missing directory", cc, {"src": p["client.p12"], "passphrase": P12_PASS, "dest_dir": d,
                                                  "key_path": "/opt/rel/nodir/client.key"},
         "does not exist; create it"),
        ("cc same path twice", cc, {"src": p["client.p12"], "passphrase": P12_PASS, "dest_dir": d,
                                    "cert_path": d + "/x.pem", "key_path": d + "/x.pem"}, "these paths repeat"),
        ("cc key_mode world-readable", cc, {"src": p["client.p12"], "passphrase": P12_PASS, "dest_dir": d,
                                            "key_mode": "0644"}, "would let every user on the host read"),
        ("cc key_mode not octal", cc, {"src": p["client.p12"], "passphrase": P12_PASS, "dest_dir": d,
                                       "key_mode": "rw-r--r--"}, "is not an octal file mode"),
        ("cc dir_mode writable by others", cc, {"src": p["client.p12"], "passphrase": P12_PASS, "dest_dir": d,
                                                "dir_mode": "0777"}, "would let group or others replace"),
        ("cc unknown owner", cc, {"src": p["client.p12"], "passphrase": P12_PASS, "dest_dir": d,
                                  "owner": "no-such-user-rel"}, "does not exist on this host"),
        ("cc src and cert_src", cc, {"src": p["client.p12"], "cert_src": p["leaf.crt"], "dest_dir": d},
         "set either src"),
        # --- mtls_check
        ("mc ftp URL", mc, {"url": "ftp://vip-standin.test/", "timeout": 3}, "must be an https:// URL"),
        ("mc http URL", mc, {"url": "http://vip-standin.test/", "timeout": 3}, "must be an https:// URL"),
        ("mc file URL", mc, {"url": "file:///etc/shadow", "timeout": 3}, "must be an https:// URL"),
        ("mc URL without host", mc, {"url": "https:///path", "timeout": 3}, "must be an https:// URL"),
        ("mc garbage client cert", mc, {"url": "https://127.0.0.1:9/", "timeout": 3,
                                        "client_cert": "/opt/rel/garbage.crt", "client_key": "/opt/rel/garbage.crt"},
         "client_cert_invalid"),
        ("mc client key for another cert", mc, {"url": "https://127.0.0.1:9/", "timeout": 3,
                                                "client_cert": "/opt/rel/m/client.crt",
                                                "client_key": "/opt/rel/m/other.key"}, "client_cert_invalid"),
        ("mc missing client cert", mc, {"url": "https://127.0.0.1:9/", "timeout": 3,
                                        "client_cert": "/opt/rel/m/missing.crt", "client_key": "/opt/rel/m/other.key"},
         "client_cert_invalid"),
    ]
    return cases


def _setup_host(host, corpus):
    leaf = corpus["leaf"].public_bytes(serialization.Encoding.PEM).decode()
    other_key = _key_pem(corpus["other_key"]).decode()
    script = """
set -e
id mallory >/dev/null 2>&1 || useradd -m mallory
mkdir -p /opt/rel/mallory-dir /opt/rel/wide /opt/rel/mlink-target /opt/rel/m /root/vip-dest
chmod 0755 /opt/rel
chown mallory /opt/rel/mallory-dir
chmod 0777 /opt/rel/wide
ln -sfn /opt/rel/mlink-target /opt/rel/mlink && chown -h mallory /opt/rel/mlink
echo not a directory > /opt/rel/plainfile
printf 'a\\000b\\n-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n' > /opt/rel/nul.pem
head -c 3000 /dev/urandom > /opt/rel/garbage.crt
cat > /opt/rel/m/client.crt <<'EOF'
%s
EOF
cat > /opt/rel/m/other.key <<'EOF'
%s
EOF
chmod 0600 /opt/rel/m/other.key
""" % (leaf.strip(), other_key.strip())
    podman_exec(host, "sh", "-c", script)


@pytest.fixture(scope="module")
def corpus_run(host, corpus, tmp_path_factory):
    name = host["hosts"][0]
    _setup_host(name, corpus)
    cases = _cases(corpus)
    tasks = [{"name": "case %02d %s" % (i, label), module: args, "ignore_errors": True}
             for i, (label, module, args, _expect) in enumerate(cases)]
    play = [{"name": "bad input corpus", "hosts": "all", "gather_facts": False, "become": True, "tasks": tasks}]
    playbook = tmp_path_factory.mktemp("bad-play") / "corpus.yml"
    playbook.write_text(json.dumps(play, indent=1))  # JSON is YAML
    before = snapshot(name, *WATCHED)
    result = ansible_playbook(str(playbook), host["inventory"])
    after = snapshot(name, *WATCHED)
    return {"cases": cases, "run": result, "before": before, "after": after, "host": name}


def test_corpus_has_at_least_30_cases_over_all_three_modules(corpus):
    cases = _cases(corpus)
    assert len(cases) >= 30
    assert {module for _l, module, _a, _e in cases} == {
        "vip.mtls.trust_anchor", "vip.mtls.client_cert", "vip.mtls.mtls_check"}


def test_every_bad_input_fails_with_a_message_naming_the_problem(corpus_run):
    run = corpus_run["run"]
    host = corpus_run["host"]
    assert run.stats(host)["ok"] + run.stats(host).get("ignored", 0) >= len(corpus_run["cases"]), run
    problems = []
    for i, (label, _module, _args, expect) in enumerate(corpus_run["cases"]):
        results = run.results(host, "case %02d %s" % (i, label))
        if len(results) != 1:
            problems.append("%s: no result" % label)
            continue
        res = results[0]
        msg = str(res.get("msg", ""))
        text = json.dumps(res)
        if not res.get("failed"):
            problems.append("%s: did not fail: %s" % (label, text[:400]))
        elif expect not in msg and expect not in str(res.get("reason", "")):
            problems.append("%s: message does not name the problem (%r expected): %s" % (label, expect, msg[:400]))
        # ansible-core 2.19 adds "exception": "(traceback unavailable)" to every failed result
        if res.get("exception", "(traceback unavailable)") != "(traceback unavailable)":
            problems.append("%s: an exception: %s" % (label, str(res["exception"])[:600]))
        for bad in ("Traceback", "MODULE FAILURE", "Module failed", "module_stderr", "Unexpected failure"):
            if bad in text:
                problems.append("%s: %s in the result: %s" % (label, bad, text[:600]))
        if res.get("changed"):
            problems.append("%s: reported changed" % label)
    assert not problems, "\n".join(problems)


def test_no_traceback_anywhere_in_the_output(corpus_run):
    run = corpus_run["run"]
    for bad in ("Traceback (most recent call last)", "MODULE FAILURE", "Unexpected failure during module"):
        assert bad not in run.stdout and bad not in run.stderr, bad


def test_host_is_byte_for_byte_unchanged(corpus_run):
    before, after = set(corpus_run["before"]), set(corpus_run["after"])
    assert corpus_run["before"], "the snapshot saw nothing"
    assert before == after, "changed:\n- %s\n+ %s" % (
        "\n- ".join(sorted(before - after)), "\n+ ".join(sorted(after - before)))


def test_no_leftover_files_in_destinations(corpus_run):
    host = corpus_run["host"]
    leftovers = podman_exec(host, "sh", "-c", "find / -xdev -name '.vip-mtls-*' 2>/dev/null; true").stdout
    assert leftovers.strip() == ""


# ------------------------------------------------------------------ symlinks placed by another user

SYMLINK_SETUP = """
set -e
id mallory >/dev/null 2>&1 || useradd -m mallory
# client_cert outputs: links owned by mallory where the key and the certificate go
mkdir -p /opt/rel/sym && chmod 0750 /opt/rel/sym
ln -sfn /etc/shadow /opt/rel/sym/client.key && chown -h mallory /opt/rel/sym/client.key
ln -sfn /etc/passwd /opt/rel/sym/client.crt && chown -h mallory /opt/rel/sym/client.crt
# a system-store anchor file: a link owned by mallory pointing at a root-owned PEM file
cp /etc/ssl/certs/ca-certificates.crt /opt/rel/victim-anchor.pem
ln -sfn /opt/rel/victim-anchor.pem /usr/local/share/ca-certificates/rel-sym.crt
chown -h mallory /usr/local/share/ca-certificates/rel-sym.crt
# a PEM bundle: mallory's application directory, her link to a root-owned bundle she cannot write
mkdir -p /opt/rel/mallory-app && chown mallory /opt/rel/mallory-app
cp /etc/ssl/certs/ca-certificates.crt /opt/rel/victim-bundle.pem && chmod 0644 /opt/rel/victim-bundle.pem
ln -sfn /opt/rel/victim-bundle.pem /opt/rel/mallory-app/ca.pem && chown -h mallory /opt/rel/mallory-app/ca.pem
# a PEM bundle linked into place by root: followed by design
cp /etc/ssl/certs/ca-certificates.crt /opt/rel/shared-bundle.pem
mkdir -p /opt/rel/root-app && ln -sfn /opt/rel/shared-bundle.pem /opt/rel/root-app/ca.pem
"""


@pytest.fixture(scope="module")
def symlink_run(corpus_run, host, corpus, tmp_path_factory):
    name = corpus_run["host"]
    podman_exec(name, "sh", "-c", SYMLINK_SETUP)
    victims = ("/etc/shadow", "/etc/passwd", "/opt/rel/victim-anchor.pem", "/opt/rel/victim-bundle.pem")
    before = {v: podman_exec(name, "sha256sum", v).stdout for v in victims}
    p = corpus["paths"]
    pin = [corpus["root_fp"]]
    tasks = [
        {"name": "client_cert over links", "vip.mtls.client_cert": {
            "src": p["client.p12"], "passphrase": P12_PASS, "dest_dir": "/opt/rel/sym"}, "ignore_errors": True},
        {"name": "anchor over a link", "vip.mtls.trust_anchor": {
            "name": "rel-sym", "src": p["root.crt"], "fingerprint_sha256": pin}, "ignore_errors": True},
        {"name": "bundle through another user's link", "vip.mtls.trust_anchor": {
            "name": "rel-sym", "src": p["root.crt"], "fingerprint_sha256": pin, "stores": ["bundle"],
            "bundles": ["/opt/rel/mallory-app/ca.pem"]}, "ignore_errors": True},
        {"name": "bundle through root's link", "vip.mtls.trust_anchor": {
            "name": "rel-sym", "src": p["root.crt"], "fingerprint_sha256": pin, "stores": ["bundle"],
            "bundles": ["/opt/rel/root-app/ca.pem"]}, "ignore_errors": True},
    ]
    play = [{"name": "symlinks", "hosts": "all", "gather_facts": False, "become": True, "tasks": tasks}]
    playbook = tmp_path_factory.mktemp("sym-play") / "sym.yml"
    playbook.write_text(json.dumps(play, indent=1))
    result = ansible_playbook(str(playbook), host["inventory"])
    after = {v: podman_exec(name, "sha256sum", v).stdout for v in victims}
    return {"run": result, "host": name, "before": before, "after": after}


def test_client_cert_never_writes_through_a_link_at_the_key_or_cert_path(symlink_run):
    host, run = symlink_run["host"], symlink_run["run"]
    assert symlink_run["after"]["/etc/shadow"] == symlink_run["before"]["/etc/shadow"]
    assert symlink_run["after"]["/etc/passwd"] == symlink_run["before"]["/etc/passwd"]
    res = run.results(host, "client_cert over links")[0]
    if not res.get("failed"):
        # replaced by regular files of their own, the key 0600 root
        out = podman_exec(host, "stat", "-c", "%F %a %U", "/opt/rel/sym/client.key", "/opt/rel/sym/client.crt")
        assert out.stdout.splitlines() == ["regular file 600 root", "regular file 644 root"], out.stdout
    else:
        assert "symbolic link" in res["msg"], res


def test_trust_anchor_never_writes_through_a_link_at_the_anchor_path(symlink_run):
    host, run = symlink_run["host"], symlink_run["run"]
    assert symlink_run["after"]["/opt/rel/victim-anchor.pem"] == symlink_run["before"]["/opt/rel/victim-anchor.pem"]
    res = run.results(host, "anchor over a link")[0]
    assert "Traceback" not in json.dumps(res)
    if not res.get("failed"):
        out = podman_exec(host, "stat", "-c", "%F %a %U", "/usr/local/share/ca-certificates/rel-sym.crt")
        assert out.stdout.strip() == "regular file 644 root"


def test_bundle_link_owned_by_another_user_is_refused(symlink_run):
    host, run = symlink_run["host"], symlink_run["run"]
    assert symlink_run["after"]["/opt/rel/victim-bundle.pem"] == symlink_run["before"]["/opt/rel/victim-bundle.pem"], \
        "root followed mallory's link and rewrote the file it points at"
    res = run.results(host, "bundle through another user's link")[0]
    assert res.get("failed") and "symbolic link owned by uid" in res["msg"], res


def test_bundle_link_owned_by_root_is_followed_by_design(symlink_run):
    host, run = symlink_run["host"], symlink_run["run"]
    res = run.results(host, "bundle through root's link")[0]
    assert not res.get("failed") and res.get("changed"), res
    assert podman_exec(host, "test", "-L", "/opt/rel/root-app/ca.pem", check=False).returncode == 0
    assert "vip.mtls anchor rel-sym" in podman_exec(host, "cat", "/opt/rel/shared-bundle.pem").stdout
