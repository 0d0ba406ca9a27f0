# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/clientcert.py: deploy() with a fake module in tmp dirs."""

from __future__ import annotations

import os
import re
import stat

import pytest

import pki
from ansible_collections.vip.mtls.plugins.module_utils import certs, clientcert
from ansible_collections.vip.mtls.plugins.module_utils.argspecs import CLIENT_CERT, CLIENT_CERT_INTERNAL
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError


class FakeModule(object):
    """deploy() uses only check_mode of the module."""

    def __init__(self, check_mode=False):
        self.check_mode = check_mode


@pytest.fixture(scope="module")
def chain():
    return pki.Chain()


@pytest.fixture
def dest(tmp_path):
    return str(tmp_path / "etc" / "vip-mtls")


def make_params(chain, dest_dir, **overrides):
    """module.params as vip.mtls.client_cert receives them from its action plugin.

    The action plugin drops src, remote_src, passphrase and validate_only, so the module's argument
    spec fills in their defaults; it adds the four internal arguments.
    """
    params = {
        "src": None,
        "remote_src": False,
        "passphrase": None,
        "dest_dir": dest_dir,
        "cert_path": None,
        "key_path": None,
        "chain_path": None,
        "owner": None,
        "group": None,
        "key_mode": "0600",
        "cert_mode": "0644",
        "dir_mode": "0750",
        "warn_days": 30,
        "min_days_valid": 0,
        "validate_only": False,
        "_cert_pem": certs.to_pem(chain.leaf),
        "_key_pem": certs.key_to_pem(chain.leaf_key),
        "_chain_pem": certs.to_pem(chain.inter),
        "_cert_fingerprint": certs.fingerprint(chain.leaf),
    }
    params.update(overrides)
    return params


def test_params_match_the_module_argument_spec(chain):
    spec = dict(CLIENT_CERT, src=dict(type="str"), **CLIENT_CERT_INTERNAL)
    assert set(make_params(chain, "/x")) == set(spec)
    for name, option in spec.items():
        if "default" in option:
            assert make_params(chain, "/etc/vip-mtls")[name] == option["default"], name


def run(params, check_mode=False):
    return clientcert.deploy(FakeModule(check_mode), params, params["_cert_fingerprint"])


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def files_in(directory):
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


def key_body_lines(key_pem):
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
        assert pki.read(key) == params["_key_pem"].encode("ascii")

        again = run(params)
        assert again["changed"] is False
        assert again["diff"]["before"] == again["diff"]["after"]

    def test_integer_modes_as_yaml_octal(self, chain, dest):
        params = make_params(chain, dest, key_mode=0o600, cert_mode=0o640, dir_mode=0o700)
        assert run(params)["changed"] is True
        assert mode_of(dest) == 0o700
        assert mode_of(os.path.join(dest, "client.key")) == 0o600
        assert mode_of(os.path.join(dest, "client.crt")) == 0o640
        assert run(params)["changed"] is False

    def test_no_chain_no_chain_file(self, chain, dest):
        result = run(make_params(chain, dest, _chain_pem=""))
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

    def test_key_rewritten_as_pkcs1_counts_as_a_change(self, dest):
        """Keys are compared by the DER of their PEM block: the same RSA key in PKCS#1 form differs."""
        key = pki.rsa_key()
        cert, _ = pki.make_cert("rsa client", key=key)

        class Holder(object):
            leaf, leaf_key, inter = cert, key, cert
        params = make_params(Holder, dest, _chain_pem="")
        run(params)
        key_path = os.path.join(dest, "client.key")
        pkcs1 = pki.key_pem(key, "traditional")
        assert pkcs1.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
        with open(key_path, "wb") as handle:
            handle.write(pkcs1)
        os.chmod(key_path, 0o600)
        result = run(params)
        assert result["changed"] is True
        assert pki.read(key_path) == params["_key_pem"].encode("ascii")  # back to PKCS#8
        assert "another private key; not shown" in result["diff"]["before"]
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
        params = make_params(chain, dest)
        result = run(params, check_mode=True)
        assert result["changed"] is True
        assert not os.path.exists(dest)
        assert "cert: %s absent" % os.path.join(dest, "client.crt") in result["diff"]["before"]

    def test_check_mode_on_existing_files_changes_nothing(self, chain, dest):
        params = make_params(chain, dest)
        run(params)
        key_path = os.path.join(dest, "client.key")
        os.chmod(key_path, 0o640)
        with open(os.path.join(dest, "client.crt"), "wb") as handle:
            handle.write(pki.pem(chain.root))
        before = {n: (pki.read(os.path.join(dest, n)), mode_of(os.path.join(dest, n))) for n in files_in(dest)}
        assert run(params, check_mode=True)["changed"] is True
        after = {n: (pki.read(os.path.join(dest, n)), mode_of(os.path.join(dest, n))) for n in files_in(dest)}
        assert after == before
        assert run(params, check_mode=True)["changed"] is True  # still pending: nothing was applied

    def test_check_mode_unchanged_when_in_place(self, chain, dest):
        params = make_params(chain, dest)
        run(params)
        assert run(params, check_mode=True)["changed"] is False

    def test_diff_never_contains_key_material(self, chain, dest):
        params = make_params(chain, dest)
        body = key_body_lines(params["_key_pem"])
        assert body
        results = [run(params, check_mode=True), run(params)]
        # an old, different key on disk shows up in "before"
        other = certs.key_to_pem(pki.ec_key())
        with open(os.path.join(dest, "client.key"), "w") as handle:
            handle.write(other)
        results.append(run(params))
        for result in results:
            text = repr(result)
            for line in body + key_body_lines(other):
                assert line not in text
            assert "PRIVATE KEY-----" not in text
        assert "private key for certificate %s" % params["_cert_fingerprint"] in results[1]["diff"]["after"]

    def test_cert_and_key_required(self, chain, dest):
        with pytest.raises(VipMtlsError) as info:
            run(make_params(chain, dest, _cert_pem=None, _key_pem=None))
        assert "vip.mtls.client_cert action plugin" in info.value.msg

    def test_same_path_twice_rejected(self, chain, dest):
        same = os.path.join(dest, "both.pem")
        with pytest.raises(VipMtlsError) as info:
            run(make_params(chain, dest, cert_path=same, key_path=same))
        assert "must be different files" in info.value.msg

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
        params = make_params(chain, dest)
        run(params)
        os.chmod(os.path.join(dest, "client.crt"), 0o600)
        run(params)
        assert not [n for n in os.listdir(dest) if re.match(r"^\.vip-mtls-", n)]


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


@pytest.mark.parametrize("dir_mode", ["0777", "0770", "0752"])
def test_dir_mode_that_lets_others_replace_the_key_is_refused(chain, dest, dir_mode):
    with pytest.raises(VipMtlsError, match="replace the key"):
        run(make_params(chain, dest, dir_mode=dir_mode))
    assert not os.path.exists(dest)


def test_an_existing_file_that_is_not_ours_is_not_overwritten(chain, dest, tmp_path):
    precious = tmp_path / "shadow"
    precious.write_text("root:$6$hash:19000:0:99999:7:::\n")
    for option in ("cert_path", "key_path"):
        with pytest.raises(VipMtlsError, match="refusing to replace a file this module did not write"):
            run(make_params(chain, dest, **{option: str(precious)}))
        assert precious.read_text().startswith("root:$6$")
    assert not os.path.exists(dest)


def test_a_directory_at_the_key_path_fails_before_anything_is_written(chain, dest, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    with pytest.raises(VipMtlsError, match="not a regular file"):
        run(make_params(chain, dest, key_path=str(blocker)))
    assert not os.path.exists(dest)  # not even the directory or the certificate


@pytest.mark.parametrize("option", ["dest_dir", "cert_path", "key_path"])
def test_relative_paths_are_refused(chain, dest, option):
    params = make_params(chain, dest)
    params[option] = "vip-rel" if option == "dest_dir" else "vip-rel/x.pem"
    with pytest.raises(VipMtlsError, match="must be an absolute path"):
        run(params)


def test_unquoted_key_mode_is_reported_in_octal(chain, dest):
    with pytest.raises(VipMtlsError, match="key_mode 0644"):
        run(make_params(chain, dest, key_mode=0o644))
