# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/bundlestore.py: PEM bundles in tmp dirs, a fake module."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest

import pki
from ansible_collections.vip.mtls.plugins.module_utils import bundlestore
from ansible_collections.vip.mtls.plugins.module_utils.anchors import entry_names, fingerprint_set, make_anchors
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.module_utils.pem import certificate_ders, der_fingerprint


class FakeModule(object):
    def __init__(self, check_mode=False):
        self.check_mode = check_mode


ROOT, _KEY = pki.make_cert("Bundle Root CA", ca=True)
OTHER, _KEY = pki.make_cert("Other Root CA", ca=True)
THIRD, _KEY = pki.make_cert("Third Root CA", ca=True)
FOREIGN, _KEY = pki.make_cert("Someone Else's CA", ca=True)

# An application's bundle as people have them: a header comment, CRLF line ends, a blank line,
# text between blocks, and a certificate that is not ours.
APP_BUNDLE = (b"# My application's CA bundle\r\n# maintained by hand \xe2\x80\x94 do not reorder\r\n\r\n"
              + pki.pem(FOREIGN).replace(b"\n", b"\r\n") + b"\r\nsome text between blocks\r\n")


def anchors_of(*certs):
    return make_anchors([pki.der(c) for c in certs])


def store(path, check_mode=False, create=False):
    return bundlestore.BundleStore(FakeModule(check_mode), str(path), create)


def present(path, *certs, name="vip-root", check_mode=False, create=False):
    return store(path, check_mode, create).manage(name, anchors_of(*certs), "present", set())


def absent(path, *certs, name="vip-root", check_mode=False, pins=()):
    anchors = anchors_of(*certs)
    return store(path, check_mode).manage(name, anchors, "absent", fingerprint_set(list(pins), anchors))


def fps(data):
    return [der_fingerprint(d) for d in certificate_ders(data)]


@pytest.fixture
def bundle(tmp_path):
    path = tmp_path / "ca.pem"
    path.write_bytes(APP_BUNDLE)
    return path


class TestPresent:

    def test_appends_after_the_untouched_original(self, bundle):
        result = present(bundle, ROOT)
        data = bundle.read_bytes()
        assert result["changed"] is True and result["paths"] == [str(bundle)] and result["refreshed"] is False
        assert data.startswith(APP_BUNDLE)
        added = data[len(APP_BUNDLE):].decode("ascii")
        marker, pem = added.split("\r\n", 1)
        assert marker.startswith("# vip.mtls anchor vip-root: ") and "Bundle Root CA" in marker
        assert pem == pki.pem(ROOT).decode("ascii").replace("\n", "\r\n")  # the file's own CRLF line ends
        assert fps(data) == [der_fingerprint(pki.der(FOREIGN)), der_fingerprint(pki.der(ROOT))]
        assert result["before"] == {} and result["after"] == {"vip-root": pki.der(ROOT)}

    def test_second_run_changes_nothing(self, bundle):
        present(bundle, ROOT)
        data = bundle.read_bytes()
        result = present(bundle, ROOT)
        assert result["changed"] is False and bundle.read_bytes() == data
        assert result["before"] == result["after"] == {"vip-root": pki.der(ROOT)}

    def test_certificate_already_there_from_someone_else_is_not_added(self, bundle):
        result = present(bundle, FOREIGN)
        assert result["changed"] is False and bundle.read_bytes() == APP_BUNDLE
        assert any("already in" in note for note in result["notes"])

    def test_same_certificate_in_other_encodings_counts_as_present(self, tmp_path):
        trusted = pki.pem_text([pki.der(ROOT) + pki.TRUST_AUX], "TRUSTED CERTIFICATE").encode("ascii")
        for content in (trusted, pki.pem(ROOT).replace(b"\n", b"\r\n"), b"junk\n" + pki.pem(ROOT)[:-1]):
            path = tmp_path / "b.pem"
            path.write_bytes(content)
            assert present(path, ROOT)["changed"] is False and path.read_bytes() == content

    def test_several_anchors_each_once_with_its_entry_name(self, bundle):
        result = present(bundle, ROOT, OTHER, FOREIGN)
        data = bundle.read_bytes()
        entries = entry_names("vip-root", anchors_of(ROOT, OTHER, FOREIGN))
        expected = {e: a.der for e, a in entries.items() if a.der != pki.der(FOREIGN)}
        assert result["changed"] is True and result["after"] == expected
        for entry in expected:
            assert data.count(b"# vip.mtls anchor %s: " % entry.encode()) == 1
        assert sorted(fps(data)) == sorted(der_fingerprint(pki.der(c)) for c in (FOREIGN, ROOT, OTHER))
        assert present(bundle, ROOT, OTHER, FOREIGN)["changed"] is False

    def test_adding_a_further_anchor_later_keeps_the_first(self, bundle):
        present(bundle, ROOT, name="first")
        middle = bundle.read_bytes()
        result = present(bundle, OTHER, name="second")
        assert result["changed"] is True and bundle.read_bytes().startswith(middle)
        assert result["before"] == {}  # "first" is another name's entry

    def test_file_without_final_newline_gets_one_and_a_note(self, tmp_path):
        path = tmp_path / "ca.pem"
        original = pki.pem(FOREIGN).rstrip(b"\n")
        path.write_bytes(original)
        result = present(path, ROOT)
        data = path.read_bytes()
        assert data.startswith(original + b"\n# vip.mtls anchor vip-root: ")
        assert any("newline" in note for note in result["notes"])
        assert fps(data) == [der_fingerprint(pki.der(FOREIGN)), der_fingerprint(pki.der(ROOT))]

    def test_empty_file_is_a_bundle(self, tmp_path):
        path = tmp_path / "ca.pem"
        path.write_bytes(b"")
        assert present(path, ROOT)["changed"] is True
        assert path.read_bytes().startswith(b"# vip.mtls anchor vip-root: ")

    def test_an_earlier_anchor_of_ours_is_kept_and_named_in_a_note(self, bundle):
        present(bundle, ROOT)
        result = present(bundle, OTHER)
        assert result["changed"] is True
        assert sorted(result["after"]) == ["vip-root", "vip-root (2)"]
        assert any("earlier anchor" in note and der_fingerprint(pki.der(ROOT)) in note for note in result["notes"])

    def test_check_mode_writes_nothing(self, bundle):
        before = os.stat(bundle)
        result = present(bundle, ROOT, check_mode=True)
        assert result["changed"] is True and result["after"] == {"vip-root": pki.der(ROOT)}
        assert bundle.read_bytes() == APP_BUNDLE and os.stat(bundle).st_ino == before.st_ino
        assert os.listdir(bundle.parent) == ["ca.pem"]

    def test_keeps_mode_owner_and_group(self, bundle):
        os.chmod(bundle, 0o640)
        os.chown(bundle, 4321, 8765)
        present(bundle, ROOT)
        st = os.stat(bundle)
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o640, 4321, 8765)
        assert os.listdir(bundle.parent) == ["ca.pem"]  # no temporary file left


class TestCreate:

    def test_missing_file_fails_without_create_bundle(self, tmp_path):
        path = tmp_path / "new.pem"
        with pytest.raises(VipMtlsError) as info:
            present(path, ROOT)
        assert "does not exist" in info.value.msg and "create_bundle" in info.value.msg
        assert not path.exists()

    def test_create_bundle_makes_it_0644_root(self, tmp_path):
        path = tmp_path / "new.pem"
        result = present(path, ROOT, create=True)
        st = os.stat(path)
        assert result["changed"] is True
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o644, 0, 0)
        assert fps(path.read_bytes()) == [der_fingerprint(pki.der(ROOT))]
        assert present(path, ROOT, create=True)["changed"] is False

    def test_create_in_check_mode_writes_nothing(self, tmp_path):
        path = tmp_path / "new.pem"
        assert present(path, ROOT, create=True, check_mode=True)["changed"] is True
        assert not path.exists()

    def test_missing_directory_fails_even_with_create_bundle(self, tmp_path):
        path = tmp_path / "nodir" / "new.pem"
        for check_mode in (True, False):
            with pytest.raises(VipMtlsError) as info:
                present(path, ROOT, create=True, check_mode=check_mode)
            assert "directory" in info.value.msg and "does not exist" in info.value.msg
        assert not (tmp_path / "nodir").exists()

    def test_absent_on_missing_file_changes_nothing(self, tmp_path):
        result = absent(tmp_path / "none.pem", ROOT)
        assert result["changed"] is False and not (tmp_path / "none.pem").exists()


class TestRefused:

    def test_directory(self, tmp_path):
        with pytest.raises(VipMtlsError) as info:
            present(tmp_path, ROOT)
        assert "is a directory" in info.value.msg

    def test_not_a_regular_file(self, tmp_path):
        fifo = tmp_path / "fifo"
        os.mkfifo(fifo)
        with pytest.raises(VipMtlsError) as info:
            present(fifo, ROOT)
        assert "not a regular file" in info.value.msg

    @pytest.mark.parametrize("content", [
        b"root:x:0:0:root:/root:/bin/bash\n",
        b"# only a comment\n",
        pki.key_pem(pki.ec_key()),
        pki.pem(ROOT).decode("ascii").encode("utf-16"),
        b"\x00" + pki.pem(ROOT),
    ], ids=["passwd", "comment-only", "private-key", "utf-16", "nul"])
    def test_non_pem_file(self, tmp_path, content):
        path = tmp_path / "file"
        path.write_bytes(content)
        for state in ("present", "absent"):
            with pytest.raises(VipMtlsError) as info:
                store(path).manage("vip-root", anchors_of(ROOT), state, fingerprint_set([], anchors_of(ROOT)))
            assert "does not look like a PEM bundle" in info.value.msg
        assert path.read_bytes() == content

    def test_relative_and_missing_bundles(self):
        with pytest.raises(VipMtlsError) as info:
            bundlestore.bundle_stores(FakeModule(), {"bundles": ["ca.pem"], "create_bundle": False})
        assert "absolute" in info.value.msg
        with pytest.raises(VipMtlsError) as info:
            bundlestore.bundle_stores(FakeModule(), {"bundles": [], "create_bundle": False})
        assert "bundles is empty" in info.value.msg

    def test_bundle_stores_one_backend_per_path(self):
        stores = bundlestore.bundle_stores(FakeModule(), {"bundles": ["/a/ca.pem", "/b/ca.pem", "/a/ca.pem"],
                                                          "create_bundle": True})
        assert [s.label for s in stores] == ["bundle /a/ca.pem", "bundle /b/ca.pem"]
        assert all(s.kind == "bundle" and s.create for s in stores)

    def test_bad_name(self, bundle):
        with pytest.raises(VipMtlsError):
            present(bundle, ROOT, name="../x")


class TestSymlink:

    def test_writes_the_target_and_keeps_the_link(self, tmp_path):
        real_dir = tmp_path / "etc"
        real_dir.mkdir()
        real = real_dir / "ca.pem"
        real.write_bytes(APP_BUNDLE)
        os.chmod(real, 0o604)
        link = tmp_path / "app-ca.pem"
        link.symlink_to(os.path.relpath(real, tmp_path))
        result = present(link, ROOT)
        assert result["changed"] is True and result["paths"] == [str(link)]
        assert link.is_symlink() and os.path.realpath(link) == str(real)
        assert real.read_bytes().startswith(APP_BUNDLE) and len(fps(real.read_bytes())) == 2
        assert stat.S_IMODE(os.stat(real).st_mode) == 0o604
        assert present(link, ROOT)["changed"] is False
        assert absent(link, ROOT)["changed"] is True and real.read_bytes() == APP_BUNDLE and link.is_symlink()

    def test_link_to_a_directory_is_refused(self, tmp_path):
        link = tmp_path / "link"
        link.symlink_to(tmp_path)
        with pytest.raises(VipMtlsError) as info:
            present(link, ROOT)
        assert "is a directory" in info.value.msg


class TestAbsent:

    def test_restores_the_original_bytes(self, bundle):
        present(bundle, ROOT, OTHER)
        result = absent(bundle, ROOT, OTHER)
        assert result["changed"] is True and result["removed"] == [str(bundle)]
        assert bundle.read_bytes() == APP_BUNDLE
        assert result["after"] == {} and len(result["before"]) == 2
        assert absent(bundle, ROOT, OTHER)["changed"] is False

    def test_by_pin_only(self, bundle):
        present(bundle, ROOT)
        pin = der_fingerprint(pki.der(ROOT)).replace(":", "").lower()
        result = store(bundle).manage("vip-root", [], "absent", fingerprint_set([pin]))
        assert result["changed"] is True and bundle.read_bytes() == APP_BUNDLE

    def test_only_the_named_fingerprints_go(self, bundle):
        present(bundle, ROOT, OTHER)
        with_both = bundle.read_bytes()
        result = absent(bundle, pins=[der_fingerprint(pki.der(OTHER))])
        data = bundle.read_bytes()
        assert result["changed"] is True and fps(data) == [der_fingerprint(pki.der(c)) for c in (FOREIGN, ROOT)]
        assert len(data) < len(with_both) and data.startswith(APP_BUNDLE)

    def test_leaves_blocks_without_our_marker_and_other_names(self, tmp_path):
        path = tmp_path / "ca.pem"
        # The same certificate as someone else's block, ours under another name, and a marker
        # separated from its block by a line (not ours any more).
        content = (b"# app root\n" + pki.pem(ROOT)
                   + b"# vip.mtls anchor other-name: CN=x\n" + pki.pem(ROOT)
                   + b"# vip.mtls anchor vip-root: CN=x\n\n" + pki.pem(ROOT)
                   + b"# vip.mtls anchor vip-root: CN=x\n" + pki.pem(THIRD))
        path.write_bytes(content)
        result = absent(path, ROOT, THIRD)
        assert path.read_bytes() == content[:-len(b"# vip.mtls anchor vip-root: CN=x\n" + pki.pem(THIRD))]
        assert result["changed"] is True

    def test_check_mode_writes_nothing(self, bundle):
        present(bundle, ROOT)
        data = bundle.read_bytes()
        result = absent(bundle, ROOT, check_mode=True)
        assert result["changed"] is True and result["after"] == {} and bundle.read_bytes() == data

    def test_keeps_mode_and_owner(self, bundle):
        present(bundle, ROOT)
        os.chmod(bundle, 0o600)
        os.chown(bundle, 1111, 2222)
        absent(bundle, ROOT)
        st = os.stat(bundle)
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o600, 1111, 2222)
        assert hashlib.sha256(bundle.read_bytes()).digest() == hashlib.sha256(APP_BUNDLE).digest()

    def test_crlf_and_no_final_newline_round_trip(self, tmp_path):
        path = tmp_path / "ca.pem"
        original = APP_BUNDLE.rstrip(b"\r\n")
        path.write_bytes(original)
        present(path, ROOT)
        assert path.read_bytes().startswith(original + b"\r\n# vip.mtls anchor")
        absent(path, ROOT)
        assert path.read_bytes() == original + b"\r\n"  # the added newline is the one lasting change


def test_orchestrator_builds_bundle_stores(tmp_path, monkeypatch):
    """truststore.build_stores hands every bundle path to its own backend."""
    from ansible_collections.vip.mtls.plugins.module_utils import truststore
    paths = [tmp_path / "a.pem", tmp_path / "b.pem"]
    paths[0].write_bytes(APP_BUNDLE)
    params = {"stores": ["bundle"], "bundles": [str(p) for p in paths], "create_bundle": True,
              "name": "vip-root", "state": "present", "content": pki.pem(ROOT).decode("ascii"),
              "fingerprint_sha256": []}
    monkeypatch.setattr(truststore, "LOCK_DIRS", (str(tmp_path),))
    result = truststore.manage_trust(FakeModule(), params)
    assert result["changed"] is True and result["stores"]["bundle"]["paths"] == [str(p) for p in paths]
    assert all(fps(p.read_bytes())[-1] == der_fingerprint(pki.der(ROOT)) for p in paths)
    assert "bundle %s: vip-root" % paths[0] in result["diff"]["after"]
    assert truststore.manage_trust(FakeModule(), params)["changed"] is False
