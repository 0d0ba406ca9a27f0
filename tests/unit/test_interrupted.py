"""Interrupted runs (issue 8): the module process is SIGKILLed at random points while it replaces a
private key, a certificate, a system-store anchor or a PEM bundle. Afterwards every file is exactly
the complete old or the complete new version, with exactly its mode (never wider), and every
temporary file the kill left behind is no more open than the file it was meant to replace (so one
holding key material is 0600).

A child Python process (sys.path as in conftest.py, umask 0 so nothing narrows modes for us) loops
replacing the files, old -> new -> old ...; the parent kills it after a random delay, checks, and
starts the next one. Bounded: ITERATIONS per case, a few seconds each.
"""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import textwrap
import time


from ansible_collections.vip.mtls.plugins.module_utils import outputs
from ansible_collections.vip.mtls.plugins.module_utils.argspecs import CLIENT_CERT, CLIENT_CERT_CONTROLLER_ONLY
from ansible_collections.vip.mtls.plugins.module_utils.pem import der_to_pem

import pki

ITERATIONS = int(os.environ.get("VIP_MTLS_KILL_ITERATIONS", "40"))
# The directory this run imports ansible_collections from (.build/collections, or ansible-test's tree).
COLLECTIONS = os.path.abspath(os.path.join(os.path.dirname(outputs.__file__), *[".."] * 5))

CHILD = textwrap.dedent("""
    import json, os, sys
    sys.path.insert(0, %(collections)r)
    os.umask(0)
    case, config = sys.argv[1], json.loads(open(sys.argv[2]).read())
    from ansible_collections.vip.mtls.plugins.module_utils import fileutil, clientcert, systemstore, bundlestore
    from ansible_collections.vip.mtls.plugins.module_utils.anchors import make_anchors, fingerprint_set
    import base64

    class Module(object):
        check_mode = False
        def __init__(self, root=None):
            self.root = root
        def selinux_enabled(self):
            return False
        def get_bin_path(self, name, required=False, opt_dirs=None):
            return "/bin/true"
        def run_command(self, args, **kwargs):
            # update-ca-certificates, faked: the bundle is every anchor file concatenated
            anchor_dir = os.path.join(self.root, "usr/local/share/ca-certificates")
            data = b"".join(open(os.path.join(anchor_dir, f), "rb").read()
                            for f in sorted(os.listdir(anchor_dir)) if f.endswith(".crt"))
            fileutil.write_atomic(os.path.join(self.root, "etc/ssl/certs/ca-certificates.crt"), data, 0o644,
                                  os.geteuid(), os.getegid())
            return 0, "", ""

    versions = config["versions"]
    sys.stdout.write("ready\\n")
    sys.stdout.flush()
    n = 0
    while True:
        version = versions[n %% len(versions)]
        n += 1
        if case == "write_atomic":
            fileutil.write_atomic(config["path"], base64.b64decode(version), 0o600, os.geteuid(), os.getegid())
        elif case == "deploy":
            clientcert.deploy(Module(), version)
        elif case == "system":
            ders = [base64.b64decode(d) for d in version]
            systemstore.SystemStore(Module(config["root"]), "debian", root=config["root"]).manage(
                "vip-kill-test", make_anchors(ders), "present", set())
        elif case == "bundle":
            ders = [base64.b64decode(d) for d in version["ders"]]
            anchors = make_anchors(ders)
            bundlestore.BundleStore(Module(), config["path"]).manage(
                "vip-kill-test", anchors, version["state"], fingerprint_set([], anchors))
""") % {"collections": COLLECTIONS}


def _b64(data):
    import base64
    return base64.b64encode(data).decode("ascii")


def _kill_loop(tmp_path, case, config, check, max_delay=0.08):
    """ITERATIONS times: start the child, let it replace files for a random time, SIGKILL it, check()."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    conf = tmp_path / "config.json"
    conf.write_text(json.dumps(config))
    rng = random.Random(os.environ.get("VIP_MTLS_KILL_SEED"))
    deadline = time.monotonic() + 40
    kills = 0
    for _i in range(ITERATIONS):
        proc = subprocess.Popen([sys.executable, str(script), case, str(conf)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        try:
            line = proc.stdout.readline()
            assert line == b"ready\n", (line, proc.stderr.read() if proc.poll() is not None else b"")
            time.sleep(rng.uniform(0, max_delay))
            if proc.poll() is not None:
                raise AssertionError("child ended on its own: %s" % proc.stderr.read().decode())
            proc.send_signal(signal.SIGKILL)
            kills += 1
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stdout.close()
            proc.stderr.close()
        check()
        if time.monotonic() > deadline:
            break
    assert kills >= 10


def _mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def _leftover_temps(directory):
    return [os.path.join(directory, f) for f in os.listdir(directory) if f.startswith(".vip-mtls-")]


def _check_temps(directory, max_mode, secret_marker=b"PRIVATE KEY"):
    """Temp files left by a kill: never wider than the file they replace; with key material, 0600."""
    for tmp in _leftover_temps(directory):
        if os.path.isdir(tmp):
            continue
        mode = _mode(tmp)
        assert mode & ~max_mode == 0, "%s has mode %04o, wider than %04o" % (tmp, mode, max_mode)
        with open(tmp, "rb") as handle:
            if secret_marker in handle.read():
                assert mode & 0o077 == 0, "%s holds key material with mode %04o" % (tmp, mode)


def test_write_atomic_killed_leaves_old_or_new_never_partial(tmp_path):
    """Large payloads (2 MiB) so that kills land inside write() and fsync() too."""
    target = tmp_path / "work" / "client.key"
    target.parent.mkdir()
    old = b"-----BEGIN PRIVATE KEY-----\n" + b"A" * (2 * 1024 * 1024) + b"\n-----END PRIVATE KEY-----\n"
    new = b"-----BEGIN PRIVATE KEY-----\n" + b"B" * (2 * 1024 * 1024 + 17) + b"\n-----END PRIVATE KEY-----\n"
    target.write_bytes(old)
    os.chmod(target, 0o600)

    def check():
        data = target.read_bytes()
        assert data in (old, new), "partial file: %d bytes" % len(data)
        assert _mode(target) == 0o600
        _check_temps(str(target.parent), 0o600)

    _kill_loop(tmp_path, "write_atomic", {"path": str(target), "versions": [_b64(new), _b64(old)]}, check,
               max_delay=0.15)
    # Proof that kills landed in the middle of a replacement: SIGKILL leaves their temporary files
    # behind (nothing can clean up after it), each checked above to be 0600.
    assert _leftover_temps(str(target.parent)), "no kill ever landed inside write_atomic"


def _deploy_params(chain, dest_dir):
    args = {name: option.get("default") for name, option in CLIENT_CERT.items()}
    args.update(src="client.p12", dest_dir=dest_dir, combined_path=os.path.join(dest_dir, "combined.pem"))
    params = {name: option.get("default") for name, option in CLIENT_CERT.items()}
    params.update({k: v for k, v in args.items() if k not in CLIENT_CERT_CONTROLLER_ONLY})
    params["_outputs"] = outputs.render_outputs(chain.leaf_key, chain.leaf, [chain.inter], args)
    return params


def test_client_cert_deploy_killed_leaves_each_output_old_or_new(tmp_path):
    dest = tmp_path / "vip-mtls"
    old_chain, new_chain = pki.Chain(prefix="Old"), pki.Chain(prefix="New")
    old, new = _deploy_params(old_chain, str(dest)), _deploy_params(new_chain, str(dest))

    def contents(params):
        import base64
        return {o["path"]: base64.b64decode(o["content"]) for o in params["_outputs"]}

    old_files, new_files = contents(old), contents(new)
    modes = {o["path"]: 0o600 if o["secret"] else 0o644 for o in old["_outputs"]}
    first = [True]

    def check():
        if not dest.exists():
            return  # killed before the directory was made
        assert _mode(str(dest)) in (0o700, 0o750)  # created 0700, then its final 0750
        for path, mode in modes.items():
            if not os.path.exists(path):
                assert first[0] or not dest.exists(), path
                continue
            data = open(path, "rb").read()
            assert data in (old_files[path], new_files[path]), "%s is partial or foreign" % path
            assert _mode(path) == mode, "%s has mode %04o" % (path, _mode(path))
        _check_temps(str(dest), 0o644)
        if all(os.path.exists(p) for p in modes):
            first[0] = False

    _kill_loop(tmp_path, "deploy", {"versions": [new, old]}, check)


def test_system_store_anchor_killed_leaves_old_or_new(tmp_path):
    root = tmp_path / "root"
    (root / "usr/local/share/ca-certificates").mkdir(parents=True)
    (root / "etc/ssl/certs").mkdir(parents=True)
    a, b = pki.Chain(prefix="AnchorA").root, pki.Chain(prefix="AnchorB").root
    anchor = root / "usr/local/share/ca-certificates" / "vip-kill-test.crt"
    versions = {der_to_pem(pki.der(a)).encode("ascii"), der_to_pem(pki.der(b)).encode("ascii")}

    def check():
        if anchor.exists():
            assert anchor.read_bytes() in versions
            assert _mode(str(anchor)) == 0o644
        _check_temps(str(anchor.parent), 0o644)
        _check_temps(str(root / "etc/ssl/certs"), 0o644)

    _kill_loop(tmp_path, "system", {"root": str(root), "versions": [[_b64(pki.der(a))], [_b64(pki.der(b))]]},
               check)


def test_pem_bundle_killed_leaves_old_or_new(tmp_path):
    bundle = tmp_path / "app" / "ca.pem"
    bundle.parent.mkdir()
    base = pki.pem(pki.Chain(prefix="Existing").root)
    bundle.write_bytes(base)
    os.chmod(bundle, 0o640)
    anchor = pki.Chain(prefix="Added").root
    with_anchor = []

    def check():
        data = bundle.read_bytes()
        if data != base:
            # the only other complete version: base + our marker line + the anchor
            assert data.startswith(base) and data.endswith(der_to_pem(pki.der(anchor)).encode("ascii"))
            assert data.count(b"-----BEGIN CERTIFICATE-----") == 2
            with_anchor.append(1)
        assert _mode(str(bundle)) == 0o640
        _check_temps(str(bundle.parent), 0o640)

    versions = [{"ders": [_b64(pki.der(anchor))], "state": "present"},
                {"ders": [_b64(pki.der(anchor))], "state": "absent"}]
    _kill_loop(tmp_path, "bundle", {"path": str(bundle), "versions": versions}, check)
