# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/truststore.py with a fake module and a store in tmp dirs."""

from __future__ import annotations

import os
import re

import pytest

import pki
from ansible_collections.vip.mtls.plugins.module_utils import truststore
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.module_utils.pem import der_fingerprint, der_to_pem

DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
UBUNTU = 'NAME="Ubuntu"\nVERSION="22.04.4 LTS (Jammy Jellyfish)"\nID=ubuntu\nID_LIKE=debian\n'
MINT = 'NAME="Linux Mint"\nVERSION="21.3 (Virginia)"\nID=linuxmint\nID_LIKE="ubuntu debian"\n'
POP = "NAME='Pop!_OS'\nID=pop\nID_LIKE='ubuntu debian'\n"
RHEL = 'NAME="Red Hat Enterprise Linux"\nID="rhel"\nID_LIKE="fedora"\nVERSION_ID="9.4"\n'
ALPINE = 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.0\n'


class TestDetectOsFamily:

    @pytest.mark.parametrize("text", [DEBIAN, UBUNTU, MINT, POP], ids=["debian", "ubuntu", "mint", "pop"])
    def test_debian_family(self, text):
        assert truststore.detect_os_family(text) == "debian"

    @pytest.mark.parametrize("text, os_id", [(RHEL, "rhel"), (ALPINE, "alpine"), ("", ""),
                                             ("ID=plan9\n", "plan9")])
    def test_unsupported_names_the_id(self, text, os_id):
        with pytest.raises(VipMtlsError) as info:
            truststore.detect_os_family(text)
        assert "not supported yet" in info.value.msg
        assert "ID=%r" % os_id in info.value.msg
        assert info.value.details["os_id"] == os_id

    def test_rhel_mentions_id_like(self):
        with pytest.raises(VipMtlsError) as info:
            truststore.detect_os_family(RHEL)
        assert "ID_LIKE='fedora'" in info.value.msg

    def test_parse_os_release_quotes(self):
        values = truststore.parse_os_release(MINT + "# comment\nEMPTY=\n")
        assert values["ID"] == "linuxmint" and values["ID_LIKE"] == "ubuntu debian" and values["EMPTY"] == ""

    def test_system_store(self, tmp_path):
        path = tmp_path / "os-release"
        path.write_text(UBUNTU)
        store = truststore.system_store(FakeModule(), str(path))
        assert isinstance(store, truststore.DebianSystemStore)
        with pytest.raises(VipMtlsError) as info:
            truststore.system_store(FakeModule(), str(tmp_path / "missing"))
        assert "cannot read" in info.value.msg and "missing" in info.value.msg


class TestNames:

    @pytest.mark.parametrize("name", ["../x", "a/b", "", "..", ".hidden", "a..b", "-x", "a b", "x" * 101])
    def test_check_name_rejects(self, name):
        with pytest.raises(VipMtlsError) as info:
            truststore.check_name(name)
        assert "not a plain file base name" in info.value.msg

    @pytest.mark.parametrize("name", ["digicert-global-root-g2", "VIP_root.1", "a"])
    def test_check_name_accepts(self, name):
        assert truststore.check_name(name) is None

    def test_anchor_files_one(self):
        assert truststore.anchor_files("vip", [b"\x30\x00"], ".crt") == {"vip.crt": b"\x30\x00"}

    def test_anchor_files_several(self):
        ders = [b"\x30\x01a", b"\x30\x01b"]
        files = truststore.anchor_files("vip", ders, ".crt")
        expected = {"vip-%s.crt" % der_fingerprint(d).replace(":", "")[:12].lower(): d for d in ders}
        assert files == expected
        assert all(re.match(r"^vip-[0-9a-f]{12}\.crt$", f) for f in files)

    def test_managed_files(self, tmp_path):
        for f in ("vip.crt", "vip-0123456789ab.crt", "vip-0123456789AB.crt", "vip-x.crt", "vipx.crt",
                  "other.crt", "vip.pem"):
            (tmp_path / f).write_bytes(b"")
        assert truststore.managed_files(str(tmp_path), "vip", ".crt") == ["vip-0123456789ab.crt", "vip.crt"]
        assert truststore.managed_files(str(tmp_path / "none"), "vip", ".crt") == []


# --- manage_anchors with a fake store ---------------------------------------------------------

class FakeModule(object):
    """check_mode, run_command and get_bin_path: all a backend uses of AnsibleModule."""

    def __init__(self, check_mode=False):
        self.check_mode = check_mode
        self.store = None
        self.calls = []
        self.results = []       # queued (rc, out, err); default: simulate update-ca-certificates
        self.skip_in_bundle = set()  # file names the simulated tool leaves out of the bundle

    def get_bin_path(self, name, required=False, opt_dirs=None):
        assert name == "update-ca-certificates"
        assert "/usr/sbin" in opt_dirs
        return "/usr/sbin/update-ca-certificates"

    def run_command(self, args, **kwargs):
        self.calls.append(list(args))
        # Like update-ca-certificates: rebuild the bundle from the anchor directory's .crt files.
        parts = []
        for entry in sorted(os.listdir(self.store.anchor_dir)):
            if entry.endswith(".crt") and entry not in self.skip_in_bundle:
                with open(os.path.join(self.store.anchor_dir, entry), "rb") as handle:
                    parts.append(handle.read())
        with open(self.store.bundle, "wb") as handle:
            handle.write(self.store.distro_bundle + b"".join(parts))
        if self.results:
            return self.results.pop(0)
        return 0, "Updating certificates in /etc/ssl/certs...\n", ""


class TmpStore(truststore.DebianSystemStore):
    def __init__(self, module, tmp_path):
        super().__init__(module)
        self.anchor_dir = str(tmp_path / "local-ca")
        self.bundle = str(tmp_path / "ca-certificates.crt")
        self.distro_bundle = pki.read(pki.DIGICERT_G2)
        os.mkdir(self.anchor_dir)
        module.store = self


@pytest.fixture
def module():
    return FakeModule()


@pytest.fixture
def store(module, tmp_path):
    return TmpStore(module, tmp_path)


@pytest.fixture(scope="module")
def roots():
    return [pki.der(pki.make_cert("Store Root %d" % i, ca=True)[0]) for i in range(3)]


def listing(store):
    return sorted(os.listdir(store.anchor_dir))


def snapshot(store):
    files = {}
    for entry in listing(store):
        path = os.path.join(store.anchor_dir, entry)
        if os.path.isdir(path):
            files[entry] = "<directory>"
            continue
        with open(path, "rb") as handle:
            files[entry] = handle.read()
    if os.path.exists(store.bundle):
        files["<bundle>"] = pki.read(store.bundle)
    return files


def short(der):
    return der_fingerprint(der).replace(":", "")[:12].lower()


class TestManageAnchors:

    def test_first_call_writes_and_refreshes_second_is_unchanged(self, store, module, roots):
        result = truststore.manage_anchors(store, "vip", [roots[0]], "present")
        assert result["changed"] is True and result["refreshed"] is True
        path = os.path.join(store.anchor_dir, "vip.crt")
        assert result["paths"] == [path]
        assert result["anchors"] == [{"fingerprint_sha256": der_fingerprint(roots[0]), "path": path}]
        assert pki.read(path) == der_to_pem(roots[0]).encode("ascii")
        assert oct(os.stat(path).st_mode & 0o777) == oct(0o644)
        assert module.calls == [["/usr/sbin/update-ca-certificates"]]
        assert der_fingerprint(roots[0]) in store.bundle_fingerprints()
        assert "vip.crt  %s" % der_fingerprint(roots[0]) in result["diff"]["after"]
        assert result["diff"]["before"] == ""

        again = truststore.manage_anchors(store, "vip", [roots[0]], "present")
        assert again["changed"] is False and again["refreshed"] is False
        assert module.calls == [["/usr/sbin/update-ca-certificates"]]
        assert again["diff"]["before"] == again["diff"]["after"]

    def test_several_certificates(self, store, roots):
        result = truststore.manage_anchors(store, "vip", roots[:2], "present")
        assert result["changed"] is True
        assert listing(store) == sorted("vip-%s.crt" % short(d) for d in roots[:2])
        assert store.bundle_fingerprints() >= {der_fingerprint(d) for d in roots[:2]}
        assert truststore.manage_anchors(store, "vip", roots[:2], "present")["changed"] is False

    def test_one_to_several_removes_the_single_file(self, store, roots):
        truststore.manage_anchors(store, "vip", [roots[0]], "present")
        result = truststore.manage_anchors(store, "vip", roots[:2], "present")
        assert result["changed"] is True
        assert result["removed"] == [os.path.join(store.anchor_dir, "vip.crt")]
        assert "vip.crt" not in listing(store)

    def test_check_mode_changes_nothing(self, store, module, roots):
        (open(os.path.join(store.anchor_dir, "vip.crt"), "wb")).write(der_to_pem(roots[1]).encode("ascii"))
        before = snapshot(store)
        module.check_mode = True
        result = truststore.manage_anchors(store, "vip", [roots[0]], "present")
        assert result["changed"] is True and result["refreshed"] is False
        assert snapshot(store) == before
        assert module.calls == []
        assert der_fingerprint(roots[1]) in result["diff"]["before"]
        assert der_fingerprint(roots[0]) in result["diff"]["after"]

    def test_check_mode_absent_changes_nothing(self, store, module, roots):
        truststore.manage_anchors(store, "vip", [roots[0]], "present")
        before = snapshot(store)
        module.check_mode = True
        result = truststore.manage_anchors(store, "vip", [roots[0]], "absent")
        assert result["changed"] is True
        assert snapshot(store) == before

    def test_removed_file_is_reported_changed_and_restored(self, store, module, roots):
        truststore.manage_anchors(store, "vip", [roots[0]], "present")
        os.unlink(os.path.join(store.anchor_dir, "vip.crt"))
        result = truststore.manage_anchors(store, "vip", [roots[0]], "present")
        assert result["changed"] is True and result["refreshed"] is True
        assert listing(store) == ["vip.crt"]

    def test_edited_file_is_rewritten(self, store, roots):
        truststore.manage_anchors(store, "vip", [roots[0]], "present")
        with open(os.path.join(store.anchor_dir, "vip.crt"), "wb") as handle:
            handle.write(der_to_pem(roots[2]).encode("ascii"))
        assert truststore.manage_anchors(store, "vip", [roots[0]], "present")["changed"] is True
        assert pki.read(os.path.join(store.anchor_dir, "vip.crt")) == der_to_pem(roots[0]).encode("ascii")

    def test_reformatted_file_with_same_certificate_is_unchanged(self, store, module, roots):
        truststore.manage_anchors(store, "vip", [roots[0]], "present")
        path = os.path.join(store.anchor_dir, "vip.crt")
        with open(path, "wb") as handle:
            handle.write(der_to_pem(roots[0]).replace("\n", "\r\n").encode("ascii"))
        assert truststore.manage_anchors(store, "vip", [roots[0]], "present")["changed"] is False

    def test_files_right_but_bundle_missing_anchor_refreshes(self, store, module, roots):
        truststore.manage_anchors(store, "vip", [roots[0]], "present")
        with open(store.bundle, "wb") as handle:
            handle.write(store.distro_bundle)  # e.g. someone ran update-ca-certificates --fresh elsewhere
        result = truststore.manage_anchors(store, "vip", [roots[0]], "present")
        assert result["changed"] is True and result["refreshed"] is True
        assert "missing from" in result["diff"]["after"]
        assert len(module.calls) == 2
        assert der_fingerprint(roots[0]) in store.bundle_fingerprints()

    def test_absent_removes_only_its_own_files(self, store, module, roots):
        truststore.manage_anchors(store, "vip", roots[:2], "present")
        other = os.path.join(store.anchor_dir, "other.crt")
        with open(other, "wb") as handle:
            handle.write(der_to_pem(roots[2]).encode("ascii"))
        similar = os.path.join(store.anchor_dir, "vip-extra.crt")
        with open(similar, "wb") as handle:
            handle.write(b"not ours")
        result = truststore.manage_anchors(store, "vip", roots[:2], "absent")
        assert result["changed"] is True and result["refreshed"] is True
        assert sorted(result["removed"]) == sorted(os.path.join(store.anchor_dir, "vip-%s.crt" % short(d))
                                                   for d in roots[:2])
        assert listing(store) == ["other.crt", "vip-extra.crt"]
        assert pki.read(other) == der_to_pem(roots[2]).encode("ascii")
        assert result["paths"] == []
        again = truststore.manage_anchors(store, "vip", roots[:2], "absent")
        assert again["changed"] is False and again["refreshed"] is False

    def test_absent_without_any_fingerprint_is_refused(self, store, roots):
        truststore.manage_anchors(store, "vip", [roots[0]], "present")
        with pytest.raises(VipMtlsError, match="needs the certificate"):
            truststore.manage_anchors(store, "vip", [], "absent")
        assert listing(store) == ["vip.crt"]

    def test_absent_keeps_a_hand_placed_file_with_another_certificate(self, store, roots):
        hand = os.path.join(store.anchor_dir, "vip.crt")
        with open(hand, "wb") as handle:
            handle.write(der_to_pem(roots[1]).encode("ascii"))
        result = truststore.manage_anchors(store, "vip", [roots[0]], "absent")
        assert result["changed"] is False and listing(store) == ["vip.crt"]

    def test_directory_at_the_anchor_path_fails_clearly_and_changes_nothing(self, store, module, roots):
        os.mkdir(os.path.join(store.anchor_dir, "vip.crt"))
        before = snapshot(store)
        for check_mode in (True, False):
            module.check_mode = check_mode
            with pytest.raises(VipMtlsError, match="is not a regular file"):
                truststore.manage_anchors(store, "vip", [roots[0]], "present")
        assert snapshot(store) == before

    def test_absent_with_pins_removes_only_pinned(self, store, roots):
        truststore.manage_anchors(store, "vip", roots[:2], "present")
        result = truststore.manage_anchors(store, "vip", [], "absent", pins=[der_fingerprint(roots[0]).lower()])
        assert result["removed"] == [os.path.join(store.anchor_dir, "vip-%s.crt" % short(roots[0]))]
        assert listing(store) == ["vip-%s.crt" % short(roots[1])]

    def test_failed_refresh_restores_previous_files(self, store, module, roots):
        truststore.manage_anchors(store, "vip", roots[:2], "present")
        before = {k: v for k, v in snapshot(store).items() if k != "<bundle>"}
        module.calls = []
        module.results = [(1, "", "E: broken /etc/ca-certificates.conf line 3\n"), (0, "", "")]
        with pytest.raises(VipMtlsError) as info:
            truststore.manage_anchors(store, "vip", [roots[2]], "present")
        msg = info.value.msg
        assert "rc=1" in msg and "broken /etc/ca-certificates.conf line 3" in msg and "put back" in msg
        assert info.value.details["refresh_output"] == "E: broken /etc/ca-certificates.conf line 3"
        after = {k: v for k, v in snapshot(store).items() if k != "<bundle>"}
        assert after == before  # byte for byte, and vip.crt (the new file) is gone again
        assert len(module.calls) == 2  # the failed refresh and the one after putting the files back
        # The second refresh rebuilt the bundle from the restored files.
        assert store.bundle_fingerprints() >= {der_fingerprint(d) for d in roots[:2]}
        assert der_fingerprint(roots[2]) not in store.bundle_fingerprints()
        assert not [f for f in os.listdir(store.anchor_dir) if f.startswith(".vip-mtls-")]

    def test_failed_refresh_on_first_install_removes_new_file(self, store, module, roots):
        module.results = [(1, "failed", "")]
        with pytest.raises(VipMtlsError) as info:
            truststore.manage_anchors(store, "vip", [roots[0]], "present")
        assert "rc=1" in info.value.msg and "Output: failed" in info.value.msg
        assert listing(store) == []

    def test_refresh_succeeds_but_bundle_lacks_anchor(self, store, module, roots):
        module.skip_in_bundle = {"vip.crt"}
        with pytest.raises(VipMtlsError) as info:
            truststore.manage_anchors(store, "vip", [roots[0]], "present")
        msg = info.value.msg
        assert "does not contain" in msg and "vip.crt" in msg and store.bundle in msg

    def test_missing_refresh_tool_puts_previous_files_back(self, store, module, roots):
        truststore.manage_anchors(store, "vip", [roots[0]], "present")
        before = {k: v for k, v in snapshot(store).items() if k != "<bundle>"}
        module.get_bin_path = lambda name, required=False, opt_dirs=None: None
        with pytest.raises(VipMtlsError) as info:
            truststore.manage_anchors(store, "vip", [roots[1]], "present")
        assert "update-ca-certificates is not installed" in info.value.msg
        after = {k: v for k, v in snapshot(store).items() if k != "<bundle>"}
        assert after == before  # a refresh that cannot run is a failed refresh: nothing left half-done

    def test_bad_name_fails_before_any_change(self, store, module, roots):
        with pytest.raises(VipMtlsError):
            truststore.manage_anchors(store, "../etc/x", [roots[0]], "present")
        assert listing(store) == [] and module.calls == []

    def test_bundle_fingerprints_digicert(self, store):
        with open(store.bundle, "wb") as handle:
            handle.write(pki.read(pki.DIGICERT_G2) + pki.read(pki.DIGICERT_G1))
        assert store.bundle_fingerprints() == {pki.DIGICERT_G2_SHA256, pki.DIGICERT_G1_SHA256}
