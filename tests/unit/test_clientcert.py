# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/clientcert.py: deploy() with a fake module in tmp dirs.

The module receives what the action plugin sends: its own options (modes, owner, dest_dir, state,
backup) and ``_outputs`` rendered on the controller by outputs.render_outputs (or planned_outputs for
state=absent). ``make_params`` builds exactly that from the task arguments; test_outputs.py reuses it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import stat
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization

import pki
from ansible_collections.vip.mtls.plugins.module_utils import certs, clientcert, outputs
from ansible_collections.vip.mtls.plugins.module_utils.argspecs import (
    CLIENT_CERT,
    CLIENT_CERT_CONTROLLER_ONLY,
    CLIENT_CERT_INTERNAL,
)
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError

MODULE_SPEC = dict(CLIENT_CERT, **CLIENT_CERT_INTERNAL)


class FakeModule(object):
    """What deploy() uses of AnsibleModule: check_mode, get_bin_path and run_command (JKS, with the real
    keytool), selinux_enabled (False here)."""

    def __init__(self, check_mode=False, path=None):
        self.check_mode = check_mode
        self.path = path  # None: the real PATH
        self.commands = []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        search = [self.path if self.path is not None else os.environ.get("PATH", "")] + list(opt_dirs or [])
        found = shutil.which(name, path=os.pathsep.join(search))
        if required and not found:
            raise AssertionError("%s not found" % name)
        return found

    def run_command(self, args, check_rc=False, environ_update=None, **kwargs):
        env = dict(os.environ)
        env.update(environ_update or {})
        self.commands.append((list(args), dict(environ_update or {})))
        proc = subprocess.run(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=120, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    def selinux_enabled(self):
        return False


@pytest.fixture(scope="module")
def chain():
    return pki.Chain()


@pytest.fixture
def dest(tmp_path):
    return str(tmp_path / "etc" / "vip-mtls")


def make_args(dest_dir, **overrides):
    """The task's arguments as the action plugin sees them after its argument spec (defaults filled in)."""
    args = {name: option.get("default") for name, option in CLIENT_CERT.items()}
    args["dest_dir"] = dest_dir
    args.update(overrides)
    return args


def make_params(chain, dest_dir, with_chain=True, **overrides):
    """module.params as vip.mtls.client_cert receives them from its action plugin.

    The action plugin drops the controller-only options (the module's spec fills in their defaults)
    and adds _outputs, rendered here by outputs.render_outputs from ``chain.leaf_key``, ``chain.leaf``
    and (with_chain) ``[chain.inter]``. A fresh render each call: new salts for encrypted outputs.
    """
    args = make_args(dest_dir, **overrides)
    params = {name: option.get("default") for name, option in MODULE_SPEC.items()}
    params.update({k: v for k, v in args.items() if k not in CLIENT_CERT_CONTROLLER_ONLY})
    if args["state"] == "absent":
        rendered = outputs.planned_outputs(args)
    else:
        rendered = outputs.render_outputs(chain.leaf_key, chain.leaf, [chain.inter] if with_chain else [], args)
    # The action plugin sends them as one JSON string (no_log masks only that string); the module's main()
    # decodes it and hands deploy() the list.
    params["_outputs"] = json.loads(json.dumps(rendered))
    return params


def output_bytes(params, kind):
    return base64.b64decode(next(o for o in params["_outputs"] if o["kind"] == kind)["content"])


def test_params_match_the_module_argument_spec(chain):
    params = make_params(chain, "/x")
    assert set(params) == set(MODULE_SPEC)
    for name, option in MODULE_SPEC.items():
        if "default" in option and name != "dest_dir":
            assert params[name] == option["default"], name
    # the controller-only options never reach the module with the task's values
    secret = make_params(chain, "/x", pkcs12_path="/x/c.p12", pkcs12_passphrase="p12-secret")
    assert secret["pkcs12_passphrase"] is None and secret["pkcs12_path"] is None
    assert [o["kind"] for o in secret["_outputs"]] == ["cert", "key", "chain", "pkcs12"]


def run(params, check_mode=False, module=None, umask=0):
    """deploy() under umask 0 by default: modes must be exact with nothing narrowing them for us."""
    old = os.umask(umask)
    try:
        return clientcert.deploy(module or FakeModule(check_mode), params)
    finally:
        os.umask(old)


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def files_in(directory):
    """Files in directory, without the state file of encrypted outputs."""
    if not os.path.isdir(directory):
        return []
    return sorted(n for n in os.listdir(directory) if n != clientcert.STATE_FILE)


def key_body_lines(key_pem):
    if isinstance(key_pem, bytes):
        key_pem = key_pem.decode("ascii")
    return [line for line in key_pem.splitlines() if line and not line.startswith("-----")]


class TestDeploy:

    @pytest.mark.parametrize("owner", [None, "root", "0"])
    def test_writes_files_with_modes_then_unchanged(self, chain, dest, owner):
        params = make_params(chain, dest, owner=owner, group=owner, key_mode="0640", cert_mode="0644",
                             dir_mode="0750")
        result = run(params)
        assert result["changed"] is True
        cert, key, chain_path = (os.path.join(dest, n) for n in ("client.crt", "client.key", "chain.crt"))
        assert result["files"] == {"cert": cert, "key": key, "chain": chain_path}
        assert files_in(dest) == ["chain.crt", "client.crt", "client.key"]
        assert mode_of(dest) == 0o750
        assert (mode_of(cert), mode_of(key), mode_of(chain_path)) == (0o644, 0o640, 0o644)
        for path in (dest, cert, key, chain_path):
            assert (os.lstat(path).st_uid, os.lstat(path).st_gid) == (os.geteuid(), os.getegid())
        assert pki.read(cert) == pki.pem(chain.leaf)
        assert pki.read(chain_path) == pki.pem(chain.inter)
        assert pki.read(key) == output_bytes(params, "key")
        assert pki.read(key) == pki.key_pem(chain.leaf_key)  # unencrypted PKCS#8

        again = run(make_params(chain, dest, owner=owner, group=owner, key_mode="0640"))
        assert again["changed"] is False
        assert again["diff"]["before"] == again["diff"]["after"]

    def test_non_root_owner_and_group(self, chain, dest):
        params = make_params(chain, dest, owner="nobody", group="65534", key_mode="0640")
        assert run(params)["changed"] is True
        for name in ("", "client.crt", "client.key", "chain.crt"):
            st = os.lstat(os.path.join(dest, name))
            assert (st.st_uid, st.st_gid) == (65534, 65534), name
        assert mode_of(os.path.join(dest, "client.key")) == 0o640
        assert run(make_params(chain, dest, owner="nobody", group="65534", key_mode="0640"))["changed"] is False
        # a file of ours handed to root by someone is taken back
        os.chown(os.path.join(dest, "client.key"), 0, 0)
        result = run(params)
        assert result["changed"] is True and "owner root(0)" in result["diff"]["before"]
        assert os.lstat(os.path.join(dest, "client.key")).st_uid == 65534

    def test_modes_exact_under_a_restrictive_umask(self, chain, dest):
        run(make_params(chain, dest), umask=0o077)
        assert mode_of(dest) == 0o750
        assert mode_of(os.path.join(dest, "client.crt")) == 0o644
        assert mode_of(os.path.join(dest, "client.key")) == 0o600

    def test_integer_modes_as_yaml_octal(self, chain, dest):
        params = make_params(chain, dest, key_mode=0o600, cert_mode=0o640, dir_mode=0o700)
        assert run(params)["changed"] is True
        assert mode_of(dest) == 0o700
        assert mode_of(os.path.join(dest, "client.key")) == 0o600
        assert mode_of(os.path.join(dest, "client.crt")) == 0o640
        assert run(params)["changed"] is False

    def test_no_chain_no_chain_file(self, chain, dest):
        result = run(make_params(chain, dest, with_chain=False))
        assert set(result["files"]) == {"cert", "key"}
        assert files_in(dest) == ["client.crt", "client.key"]

    def test_explicit_paths(self, chain, dest, tmp_path):
        other = tmp_path / "elsewhere"
        other.mkdir()
        params = make_params(chain, dest, cert_path=str(other / "c.pem"), key_path=str(other / "k.pem"),
                             chain_path=str(other / "ca.pem"))
        result = run(params)
        assert result["files"] == {"cert": str(other / "c.pem"), "key": str(other / "k.pem"),
                                   "chain": str(other / "ca.pem")}
        assert sorted(os.listdir(str(other))) == ["c.pem", "ca.pem", "k.pem"]
        assert files_in(dest) == []  # dest_dir is still created, but holds nothing
        assert run(params)["changed"] is False

    def test_key_rewritten_as_pkcs1_counts_as_a_change(self, dest):
        """Keys are compared by the DER of their PEM block: the same RSA key in PKCS#1 form differs."""
        key = pki.rsa_key()
        cert, _key = pki.make_cert("rsa client", key=key)

        class Holder(object):
            leaf, leaf_key, inter = cert, key, cert
        params = make_params(Holder, dest, with_chain=False)
        run(params)
        key_path = os.path.join(dest, "client.key")
        pkcs1 = pki.key_pem(key, "traditional")
        assert pkcs1.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
        with open(key_path, "wb") as handle:
            handle.write(pkcs1)
        os.chmod(key_path, 0o600)
        result = run(params)
        assert result["changed"] is True
        assert pki.read(key_path) == output_bytes(params, "key")  # back to PKCS#8
        assert "key: %s (other content; not shown)" % key_path in result["diff"]["before"]
        assert run(params)["changed"] is False

    def test_reformatted_certificate_is_not_a_change(self, chain, dest):
        params = make_params(chain, dest)
        run(params)
        cert_path = os.path.join(dest, "client.crt")
        with open(cert_path, "wb") as handle:
            handle.write(b"subject=CN = Test client\r\n" + pki.pem(chain.leaf).replace(b"\n", b"\r\n"))
        assert run(params)["changed"] is False

    def test_other_certificate_on_disk_is_replaced(self, chain, dest):
        params = make_params(chain, dest)
        run(params)
        cert_path = os.path.join(dest, "client.crt")
        with open(cert_path, "wb") as handle:
            handle.write(pki.pem(chain.root))
        result = run(params)
        assert result["changed"] is True
        assert certs.fingerprint(chain.root) in result["diff"]["before"]
        assert certs.fingerprint(chain.leaf) in result["diff"]["after"]
        assert pki.read(cert_path) == pki.pem(chain.leaf)

    def test_wrong_mode_on_disk_is_changed_and_fixed(self, chain, dest):
        params = make_params(chain, dest)
        run(params)
        key_path = os.path.join(dest, "client.key")
        os.chmod(key_path, 0o644)
        os.chmod(dest, 0o755)
        result = run(params)
        assert result["changed"] is True
        assert mode_of(key_path) == 0o600 and mode_of(dest) == 0o750
        assert "mode 0644" in result["diff"]["before"] and "mode 0600" in result["diff"]["after"]
        assert run(params)["changed"] is False

    def test_symlink_at_key_path_is_replaced_not_followed(self, chain, dest, tmp_path):
        params = make_params(chain, dest)
        run(params)
        target = tmp_path / "victim"
        target.write_bytes(b"do not touch\n")
        key_path = os.path.join(dest, "client.key")
        os.unlink(key_path)
        os.symlink(str(target), key_path)
        assert run(params)["changed"] is True
        assert not os.path.islink(key_path) and mode_of(key_path) == 0o600
        assert target.read_bytes() == b"do not touch\n"

    @pytest.mark.parametrize("mode", ["0644", "0604", "0601", 0o644])
    def test_world_readable_key_mode_rejected(self, chain, dest, mode):
        with pytest.raises(VipMtlsError) as info:
            run(make_params(chain, dest, key_mode=mode))
        assert "every user on the host read the private key" in info.value.msg
        assert "'0600'" in info.value.msg
        assert not os.path.exists(dest)

    def test_bad_mode_string(self, chain, dest):
        with pytest.raises(VipMtlsError) as info:
            run(make_params(chain, dest, cert_mode="rw-r--r--"))
        assert "cert_mode='rw-r--r--' is not an octal file mode" in info.value.msg

    def test_check_mode_writes_nothing(self, chain, dest):
        params = make_params(chain, dest, combined_path=os.path.join(dest, "all.pem"),
                             pkcs12_path=os.path.join(dest, "c.p12"), pkcs12_passphrase="pw")
        result = run(params, check_mode=True)
        assert result["changed"] is True
        assert not os.path.exists(dest)
        assert "cert: %s absent" % os.path.join(dest, "client.crt") in result["diff"]["before"]
        assert "pkcs12: %s absent" % os.path.join(dest, "c.p12") in result["diff"]["before"]

    def test_check_mode_on_existing_files_changes_nothing(self, chain, dest):
        params = make_params(chain, dest, pkcs12_path=os.path.join(dest, "c.p12"), pkcs12_passphrase="pw")
        run(params)
        key_path = os.path.join(dest, "client.key")
        os.chmod(key_path, 0o640)
        with open(os.path.join(dest, "client.crt"), "wb") as handle:
            handle.write(pki.pem(chain.root))
        changed_p12 = make_params(chain, dest, pkcs12_path=os.path.join(dest, "c.p12"), pkcs12_passphrase="new")

        def snapshot():
            return {n: (pki.read(os.path.join(dest, n)), mode_of(os.path.join(dest, n)))
                    for n in os.listdir(dest)}
        before = snapshot()
        assert run(changed_p12, check_mode=True)["changed"] is True
        assert snapshot() == before
        assert run(changed_p12, check_mode=True)["changed"] is True  # still pending: nothing was applied

    def test_check_mode_unchanged_when_in_place(self, chain, dest):
        params = make_params(chain, dest)
        run(params)
        assert run(params, check_mode=True)["changed"] is False

    def test_diff_never_contains_key_material(self, chain, dest):
        params = make_params(chain, dest, combined_path=os.path.join(dest, "all.pem"))
        body = key_body_lines(output_bytes(params, "key"))
        assert body
        results = [run(params, check_mode=True), run(params)]
        # an old, different key on disk shows up in "before"
        other = certs.key_to_pem(pki.ec_key())
        with open(os.path.join(dest, "client.key"), "w") as handle:
            handle.write(other)
        with open(os.path.join(dest, "all.pem"), "w") as handle:
            handle.write(certs.to_pem(chain.leaf) + other)
        results.append(run(params))
        for result in results:
            text = repr(result)
            for line in body + key_body_lines(other):
                assert line not in text
            assert "PRIVATE KEY-----" not in text
        key_path = os.path.join(dest, "client.key")
        assert "key: %s (the wanted content)" % key_path in results[1]["diff"]["after"]
        assert "combined: %s %s + private key" % (os.path.join(dest, "all.pem"), certs.fingerprint(chain.leaf)) \
            in results[1]["diff"]["after"]

    def test_outputs_required(self, chain, dest):
        for value in (None, []):
            with pytest.raises(VipMtlsError) as info:
                run(dict(make_params(chain, dest), _outputs=value))
            assert "vip.mtls.client_cert action plugin" in info.value.msg

    def test_same_path_twice_rejected(self, chain, dest):
        same = os.path.join(dest, "both.pem")
        with pytest.raises(VipMtlsError) as info:
            run(make_params(chain, dest, cert_path=same, key_path=same))
        assert "every output needs its own file" in info.value.msg and same in info.value.msg
        assert not os.path.exists(dest)

    def test_missing_directory_of_output(self, chain, dest, tmp_path):
        with pytest.raises(VipMtlsError) as info:
            run(make_params(chain, dest, key_path=str(tmp_path / "nowhere" / "client.key")))
        assert "the directory of %s does not exist" % (tmp_path / "nowhere" / "client.key") in info.value.msg

    def test_unknown_owner(self, chain, dest):
        with pytest.raises(VipMtlsError) as info:
            run(make_params(chain, dest, owner="vip-mtls-no-such-user-x9"))
        assert "owner 'vip-mtls-no-such-user-x9' does not exist" in info.value.msg
        assert not os.path.exists(dest)

    def test_dest_dir_is_a_symlink(self, chain, dest, tmp_path):
        real = tmp_path / "real"
        real.mkdir()
        os.makedirs(os.path.dirname(dest))
        os.symlink(str(real), dest)
        with pytest.raises(VipMtlsError) as info:
            run(make_params(chain, dest))
        assert "symbolic link" in info.value.msg
        assert os.listdir(str(real)) == []

    def test_no_temp_files_left(self, chain, dest):
        params = make_params(chain, dest, pkcs12_path=os.path.join(dest, "c.p12"), pkcs12_passphrase="pw")
        run(params)
        os.chmod(os.path.join(dest, "client.crt"), 0o600)
        run(params)
        assert not [n for n in os.listdir(dest) if re.match(r"^\.vip-mtls-(?!outputs\.json$)", n)]

    def test_state_file_is_private(self, chain, dest):
        run(make_params(chain, dest, pkcs12_path=os.path.join(dest, "c.p12"), pkcs12_passphrase="state-secret-pw",
                        key_output_passphrase="state-key-pw"))
        state = os.path.join(dest, clientcert.STATE_FILE)
        assert mode_of(state) == 0o600
        text = pki.read(state)
        assert b"state-secret-pw" not in text and b"state-key-pw" not in text  # tokens and hashes only
        assert b"PRIVATE KEY" not in text


# --- hostile destinations (found by the bad-input review): refused before anything is written ----

def tree(path):
    """Every path below path, with its mode: to show nothing was created or changed."""
    found = []
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            full = os.path.join(root, name)
            found.append((full, stat.S_IMODE(os.lstat(full).st_mode)))
    return sorted(found)


def test_dest_dir_owned_by_another_user_is_refused(chain, tmp_path):
    evil = tmp_path / "evil"
    evil.mkdir(mode=0o777)
    os.chmod(evil, 0o777)
    os.chown(evil, 65534, 65534)
    with pytest.raises(VipMtlsError, match="belongs to uid 65534"):
        run(make_params(chain, str(evil)))
    assert tree(evil) == [] and stat.S_IMODE(os.stat(evil).st_mode) == 0o777


def test_dest_dir_below_a_world_writable_directory_is_refused(chain, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    with pytest.raises(VipMtlsError, match="writable by group or others"):
        run(make_params(chain, str(shared / "vip-mtls")))
    assert tree(shared) == []


def test_dest_dir_through_a_symlink_into_a_foreign_directory_is_refused(chain, tmp_path):
    evil = tmp_path / "evil"
    evil.mkdir()
    os.chown(evil, 65534, 65534)
    link = tmp_path / "link"
    link.symlink_to(evil)
    with pytest.raises(VipMtlsError, match="belongs to uid 65534"):
        run(make_params(chain, str(link / "sub")))
    assert tree(evil) == []


def test_output_in_a_foreign_directory_outside_dest_dir_is_refused(chain, dest, tmp_path):
    evil = tmp_path / "evil"
    evil.mkdir()
    os.chown(evil, 65534, 65534)
    with pytest.raises(VipMtlsError, match="belongs to uid 65534"):
        run(make_params(chain, dest, pkcs12_path=str(evil / "c.p12"), pkcs12_passphrase="pw"))
    assert tree(evil) == [] and not os.path.exists(dest)


@pytest.mark.parametrize("dir_mode", ["0777", "0770", "0752"])
def test_dir_mode_that_lets_others_replace_the_key_is_refused(chain, dest, dir_mode):
    with pytest.raises(VipMtlsError, match="replace the key"):
        run(make_params(chain, dest, dir_mode=dir_mode))
    assert not os.path.exists(dest)


@pytest.mark.parametrize("option", ["cert_path", "key_path", "chain_path", "combined_path", "pkcs12_path",
                                    "keystore_path"])
def test_an_existing_file_that_is_not_ours_is_not_overwritten(chain, dest, tmp_path, option):
    precious = tmp_path / "shadow"
    precious.write_text("root:$6$hash:19000:0:99999:7:::\n")
    extra = {"pkcs12_passphrase": "pw", "keystore_password": "changeit"}
    with pytest.raises(VipMtlsError, match="refusing to replace a file this module did not write"):
        run(make_params(chain, dest, **dict(extra, **{option: str(precious)})))
    assert precious.read_text().startswith("root:$6$")
    assert not os.path.exists(dest)


def test_an_existing_file_that_is_not_ours_survives_state_absent(chain, dest, tmp_path):
    precious = tmp_path / "shadow"
    precious.write_text("root:$6$hash:19000:0:99999:7:::\n")
    with pytest.raises(VipMtlsError, match="refusing to replace"):
        run(make_params(chain, dest, state="absent", key_path=str(precious)))
    assert precious.exists()


def test_a_directory_at_the_key_path_fails_before_anything_is_written(chain, dest, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    with pytest.raises(VipMtlsError, match="not a regular file"):
        run(make_params(chain, dest, key_path=str(blocker)))
    assert not os.path.exists(dest)  # not even the directory or the certificate


@pytest.mark.parametrize("option", ["dest_dir", "cert_path", "key_path", "pkcs12_path"])
def test_relative_paths_are_refused(chain, dest, option):
    value = "vip-rel" if option == "dest_dir" else "vip-rel/x.pem"
    overrides = dict({"dest_dir": dest, "pkcs12_passphrase": "pw"}, **{option: value})
    params = make_params(chain, **overrides)
    with pytest.raises(VipMtlsError, match="must be an absolute path"):
        run(params)
    assert not os.path.exists("vip-rel")


def test_unquoted_key_mode_is_reported_in_octal(chain, dest):
    with pytest.raises(VipMtlsError, match="key_mode 0644"):
        run(make_params(chain, dest, key_mode=0o644))


def test_keystore_jks_without_keytool_fails_clearly(chain, dest, tmp_path):
    params = make_params(chain, dest, keystore_path=os.path.join(dest, "c.jks"), keystore_type="JKS",
                         keystore_password="changeit")
    module = FakeModule(path=str(tmp_path / "empty-bin"))
    module.get_bin_path = lambda name, required=False, opt_dirs=None: None
    with pytest.raises(VipMtlsError, match="keystore_type JKS needs keytool"):
        run(params, module=module)
    assert not os.path.exists(os.path.join(dest, "c.jks"))


def test_encrypted_key_without_key_material_in_the_module_params(chain, dest):
    """The module's params hold no passphrase: the controller already encrypted the key."""
    params = make_params(chain, dest, key_output_passphrase="out-secret", pkcs12_path=os.path.join(dest, "c.p12"),
                         pkcs12_passphrase="p12-secret")
    flat = repr({k: v for k, v in params.items() if k != "_outputs"})
    assert "out-secret" not in flat and "p12-secret" not in flat
    encoded = json.dumps(params["_outputs"])  # what the action plugin sends
    assert "out-secret" not in encoded and "p12-secret" not in encoded
    key = serialization.load_pem_private_key(output_bytes(params, "key"), b"out-secret")
    assert certs.key_matches(chain.leaf, key)


# --- modes written without quotes (found by a new-user session) ---------------------------------

@pytest.mark.parametrize("option, value", [("key_mode", 640), ("key_mode", 600), ("cert_mode", 644),
                                           ("dir_mode", 750)])
def test_unquoted_octal_mode_is_refused_with_the_fix(option, value):
    """YAML reads key_mode: 640 as the decimal 640 = octal 1200 (sticky bit, owner write only): the key would
    become unreadable for the application while the live check, run as root, still passes."""
    params = {"key_mode": "0600", "cert_mode": "0644", "dir_mode": "0750", option: value}
    with pytest.raises(VipMtlsError) as info:
        clientcert.check_modes(params)
    assert "'0%d'" % value in info.value.msg and option in info.value.msg


@pytest.mark.parametrize("mode", ["4600", "2640", "1600"])
def test_special_bits_are_refused(mode):
    with pytest.raises(VipMtlsError, match="setuid, setgid or sticky"):
        clientcert.check_modes({"key_mode": mode, "cert_mode": "0644", "dir_mode": "0750"})


def test_a_key_its_owner_cannot_read_is_refused():
    with pytest.raises(VipMtlsError, match="owner could not read"):
        clientcert.check_modes({"key_mode": "0200", "cert_mode": "0644", "dir_mode": "0750"})


def test_octal_integers_from_yaml_0o_notation_still_work():
    assert clientcert.check_modes({"key_mode": 0o640, "cert_mode": 0o644, "dir_mode": 0o750}) == (0o640, 0o644, 0o750)
