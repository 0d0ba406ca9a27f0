# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/fileutil.py."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.vip.mtls.plugins.module_utils import fileutil
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError

MISSING_NAME = "vip-mtls-no-such-principal-x9"


@pytest.fixture
def open_umask():
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def leftovers(directory):
    return [name for name in os.listdir(str(directory)) if name.startswith(".vip-mtls-")]


class TestParseMode:

    @pytest.mark.parametrize("value, expected", [
        ("0600", 0o600), ("600", 0o600), (" 0640 ", 0o640), ("0o750", 0o750), ("7777", 0o7777),
        (0o600, 0o600), (0o644, 0o644), (0, 0),
    ])
    def test_valid(self, value, expected):
        assert fileutil.parse_mode(value, "key_mode") == expected

    @pytest.mark.parametrize("value", ["rw-------", "u=rw", "0999", "", "0x600", "6OO"])
    def test_not_octal(self, value):
        with pytest.raises(VipMtlsError) as info:
            fileutil.parse_mode(value, "key_mode")
        assert "not an octal file mode" in info.value.msg
        assert "key_mode: '0600'" in info.value.msg

    @pytest.mark.parametrize("value", ["17777", 0o10000, -1, "-1"])
    def test_out_of_range(self, value):
        with pytest.raises(VipMtlsError) as info:
            fileutil.parse_mode(value, "cert_mode")
        assert "outside 0000-7777" in info.value.msg and "cert_mode" in info.value.msg


class TestResolveIds:

    def test_unset_keeps(self):
        assert fileutil.resolve_uid(None) == -1 and fileutil.resolve_uid("") == -1
        assert fileutil.resolve_gid(None) == -1 and fileutil.resolve_gid("") == -1

    def test_names_and_numbers(self):
        assert fileutil.resolve_uid("root") == 0 and fileutil.resolve_uid("0") == 0
        assert fileutil.resolve_uid(1234) == 1234
        assert fileutil.resolve_gid("root") == 0 and fileutil.resolve_gid("42") == 42

    def test_missing_user(self):
        with pytest.raises(VipMtlsError) as info:
            fileutil.resolve_uid(MISSING_NAME)
        assert "owner %r does not exist" % MISSING_NAME in info.value.msg

    def test_missing_group(self):
        with pytest.raises(VipMtlsError) as info:
            fileutil.resolve_gid(MISSING_NAME)
        assert "group %r does not exist" % MISSING_NAME in info.value.msg


class TestWriteAtomic:

    @pytest.mark.parametrize("mode", [0o600, 0o640, 0o644, 0o400])
    def test_exact_mode_under_open_umask(self, tmp_path, open_umask, mode):
        path = str(tmp_path / "client.key")
        fileutil.write_atomic(path, b"secret\n", mode, -1, -1)
        assert mode_of(path) == mode
        with open(path, "rb") as handle:
            assert handle.read() == b"secret\n"
        assert leftovers(tmp_path) == []

    def test_replaces_existing_file_and_narrows_mode(self, tmp_path, open_umask):
        path = tmp_path / "client.key"
        path.write_bytes(b"old contents that are longer\n")
        os.chmod(str(path), 0o666)
        inode = os.stat(str(path)).st_ino
        fileutil.write_atomic(str(path), b"new\n", 0o600, -1, -1)
        assert path.read_bytes() == b"new\n"
        assert mode_of(str(path)) == 0o600
        assert os.stat(str(path)).st_ino != inode  # a fresh file, never narrowed in place
        assert leftovers(tmp_path) == []

    def test_owner_and_group(self, tmp_path):
        if os.geteuid() != 0:
            pytest.skip("needs root to give files away")
        path = str(tmp_path / "f")
        fileutil.write_atomic(path, b"x", 0o640, 1, 2)
        st = os.lstat(path)
        assert (st.st_uid, st.st_gid) == (1, 2)

    def test_symlink_is_replaced_not_followed(self, tmp_path):
        target = tmp_path / "target.txt"
        target.write_bytes(b"must stay\n")
        os.chmod(str(target), 0o644)
        link = tmp_path / "client.crt"
        os.symlink(str(target), str(link))
        fileutil.write_atomic(str(link), b"new data\n", 0o600, -1, -1)
        assert not os.path.islink(str(link))
        assert link.read_bytes() == b"new data\n"
        assert mode_of(str(link)) == 0o600
        assert target.read_bytes() == b"must stay\n"
        assert mode_of(str(target)) == 0o644
        assert leftovers(tmp_path) == []

    def test_failure_leaves_no_temp_file(self, tmp_path):
        # The destination is a directory: rename() fails after the temporary file was written.
        (tmp_path / "dir").mkdir()
        (tmp_path / "dir" / "inside").write_bytes(b"x")
        with pytest.raises(OSError):
            fileutil.write_atomic(str(tmp_path / "dir"), b"data", 0o600, -1, -1)
        assert leftovers(tmp_path) == []
        assert (tmp_path / "dir" / "inside").read_bytes() == b"x"


class TestReadAndAttrs:

    def test_read_bytes(self, tmp_path):
        path = tmp_path / "f"
        assert fileutil.read_bytes(str(path)) is None
        path.write_bytes(b"abc")
        assert fileutil.read_bytes(str(path)) == b"abc"
        os.symlink(str(path), str(tmp_path / "link"))
        assert fileutil.read_bytes(str(tmp_path / "link")) is None
        assert fileutil.read_bytes(str(tmp_path)) is None

    def test_attrs_differ(self, tmp_path):
        path = tmp_path / "f"
        assert fileutil.attrs_differ(str(path), 0o600, -1, -1) is True
        path.write_bytes(b"")
        os.chmod(str(path), 0o600)
        st = os.lstat(str(path))
        assert fileutil.attrs_differ(str(path), 0o600, -1, -1) is False
        assert fileutil.attrs_differ(str(path), 0o600, st.st_uid, st.st_gid) is False
        assert fileutil.attrs_differ(str(path), 0o644, -1, -1) is True
        assert fileutil.attrs_differ(str(path), 0o600, st.st_uid + 1, -1) is True
        assert fileutil.attrs_differ(str(path), 0o600, -1, st.st_gid + 1) is True


class TestEnsureDirectory:

    def test_creates_with_mode_and_parents(self, tmp_path, open_umask):
        path = str(tmp_path / "a" / "b" / "vip-mtls")
        assert fileutil.ensure_directory(path, 0o750, -1, -1, False) is True
        assert os.path.isdir(path) and mode_of(path) == 0o750
        assert mode_of(str(tmp_path / "a" / "b")) == 0o755
        assert fileutil.ensure_directory(path, 0o750, -1, -1, False) is False

    def test_fixes_mode(self, tmp_path):
        path = tmp_path / "d"
        path.mkdir()
        os.chmod(str(path), 0o777)
        assert fileutil.ensure_directory(str(path), 0o750, -1, -1, False) is True
        assert mode_of(str(path)) == 0o750

    def test_check_mode_changes_nothing(self, tmp_path):
        new = str(tmp_path / "new" / "dir")
        assert fileutil.ensure_directory(new, 0o750, -1, -1, True) is True
        assert not os.path.exists(str(tmp_path / "new"))
        existing = tmp_path / "existing"
        existing.mkdir()
        os.chmod(str(existing), 0o777)
        assert fileutil.ensure_directory(str(existing), 0o750, -1, -1, True) is True
        assert mode_of(str(existing)) == 0o777

    def test_refuses_symlink(self, tmp_path):
        real = tmp_path / "real"
        real.mkdir()
        os.chmod(str(real), 0o755)
        os.symlink(str(real), str(tmp_path / "link"))
        with pytest.raises(VipMtlsError) as info:
            fileutil.ensure_directory(str(tmp_path / "link"), 0o750, -1, -1, False)
        assert "symbolic link" in info.value.msg
        assert mode_of(str(real)) == 0o755

    def test_refuses_dangling_symlink(self, tmp_path):
        os.symlink(str(tmp_path / "nowhere"), str(tmp_path / "link"))
        with pytest.raises(VipMtlsError) as info:
            fileutil.ensure_directory(str(tmp_path / "link"), 0o750, -1, -1, False)
        assert "symbolic link" in info.value.msg
        assert not os.path.exists(str(tmp_path / "nowhere"))

    def test_refuses_file(self, tmp_path):
        (tmp_path / "f").write_bytes(b"")
        with pytest.raises(VipMtlsError) as info:
            fileutil.ensure_directory(str(tmp_path / "f"), 0o750, -1, -1, False)
        assert "not a directory" in info.value.msg
