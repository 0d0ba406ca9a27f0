# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/systemstore.py: each OS family against a fake root directory.

The fake module plays the family's refresh tool: it rebuilds the family's extracted bundle from the
distribution's certificates plus the PEM files in the family's anchor directory, as
update-ca-certificates and update-ca-trust do.
"""

from __future__ import annotations

import os
import re
import stat

import pytest

import pki
from ansible_collections.vip.mtls.plugins.module_utils import anchors as anchors_mod
from ansible_collections.vip.mtls.plugins.module_utils import systemstore
from ansible_collections.vip.mtls.plugins.module_utils.anchors import Anchor, entry_names, entry_pattern, make_anchors
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.module_utils.pem import (
    certificate_ders,
    der_fingerprint,
    der_to_pem,
    normalise_fingerprint,
)

# --- /etc/os-release of representative distributions -------------------------------------------

DEBIAN = ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
          'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL="https://www.debian.org/"\n')
UBUNTU = ('PRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\n'
          'VERSION="22.04.4 LTS (Jammy Jellyfish)"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\n'
          'UBUNTU_CODENAME=jammy\n')
MINT = 'NAME="Linux Mint"\nVERSION="21.3 (Virginia)"\nID=linuxmint\nID_LIKE="ubuntu debian"\n'
POP = "NAME='Pop!_OS'\nID=pop\nID_LIKE='ubuntu debian'\n"
ALPINE = ('NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n'
          'HOME_URL="https://alpinelinux.org/"\n')
RHEL = ('NAME="Red Hat Enterprise Linux"\nVERSION="9.4 (Plow)"\nID="rhel"\nID_LIKE="fedora"\nVERSION_ID="9.4"\n'
        'PLATFORM_ID="platform:el9"\nPRETTY_NAME="Red Hat Enterprise Linux 9.4 (Plow)"\n')
ROCKY = ('NAME="Rocky Linux"\nVERSION="9.4 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\n'
         'VERSION_ID="9.4"\nPLATFORM_ID="platform:el9"\nPRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\n')
FEDORA = ('NAME="Fedora Linux"\nVERSION="40 (Container Image)"\nID=fedora\nVERSION_ID=40\n'
          'PRETTY_NAME="Fedora Linux 40 (Container Image)"\nVARIANT_ID=container\n')
AMAZON = ('NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\n'
          'PLATFORM_ID="platform:al2023"\nPRETTY_NAME="Amazon Linux 2023.5.20240805"\n')
LEAP = ('NAME="openSUSE Leap"\nVERSION="15.6"\nID="opensuse-leap"\nID_LIKE="suse opensuse"\nVERSION_ID="15.6"\n'
        'PRETTY_NAME="openSUSE Leap 15.6"\n')
SLES = ('NAME="SLES"\nVERSION="15-SP5"\nVERSION_ID="15.5"\nPRETTY_NAME="SUSE Linux Enterprise Server 15 SP5"\n'
        'ID="sles"\nID_LIKE="suse"\n')
ARCH = 'NAME="Arch Linux"\nPRETTY_NAME="Arch Linux"\nID=arch\nBUILD_ID=rolling\n'
MANJARO = 'NAME="Manjaro Linux"\nPRETTY_NAME="Manjaro Linux"\nID=manjaro\nID_LIKE=arch\nBUILD_ID=rolling\n'
GENTOO = 'NAME=Gentoo\nID=gentoo\nPRETTY_NAME="Gentoo Linux"\n'
PLAN9 = 'NAME="Plan 9"\nID=plan9\nID_LIKE="bell-labs research"\n'

# What each family is known to use, written out here independently of systemstore.FAMILIES:
# (family, anchor directory, extracted bundle, refresh argv, where the tool lives, only *.crt read)
DEB = ("debian", "/usr/local/share/ca-certificates", "/etc/ssl/certs/ca-certificates.crt",
       ["update-ca-certificates"], "usr/sbin", True)
APK = ("alpine", "/usr/local/share/ca-certificates", "/etc/ssl/certs/ca-certificates.crt",
       ["update-ca-certificates"], "usr/sbin", True)
RH = ("redhat", "/etc/pki/ca-trust/source/anchors", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
      ["update-ca-trust", "extract"], "usr/bin", False)
SUSE = ("suse", "/etc/pki/trust/anchors", "/var/lib/ca-certificates/ca-bundle.pem",
        ["update-ca-certificates"], "usr/sbin", False)
ARCHF = ("arch", "/etc/ca-certificates/trust-source/anchors", "/etc/ca-certificates/extracted/tls-ca-bundle.pem",
         ["update-ca-trust", "extract"], "usr/bin", False)

DISTROS = {
    "debian-12": (DEBIAN, DEB),
    "ubuntu-22.04": (UBUNTU, DEB),
    "alpine-3.20": (ALPINE, APK),
    "rhel-9": (RHEL, RH),
    "rocky-9": (ROCKY, RH),
    "fedora-40": (FEDORA, RH),
    "amazon-linux-2023": (AMAZON, RH),
    "opensuse-leap-15.6": (LEAP, SUSE),
    "sles-15": (SLES, SUSE),
    "arch": (ARCH, ARCHF),
    "manjaro": (MANJARO, ARCHF),
}


def under(root, path):
    return os.path.join(str(root), path.lstrip("/"))


class FakeModule(object):
    """check_mode, get_bin_path and run_command: all SystemStore uses of AnsibleModule.

    get_bin_path finds a tool only in the ``opt_dirs`` it is given (the fake root's bin dirs);
    run_command rebuilds the family's bundle from the anchor directory like the real tool.
    """

    def __init__(self, root, spec, check_mode=False):
        self.root = str(root)
        self.family, self.anchor_dir_abs, self.bundle_abs, self.argv, self.tool_dir, self.crt_only = spec
        self.check_mode = check_mode
        self.calls = []
        self.lookups = []
        self.results = []            # queued (rc, out, err); default: success
        self.skip_in_bundle = set()  # file names the simulated tool leaves out of the bundle
        self.distro_bundle = pki.read(pki.DIGICERT_G2)

    @property
    def anchor_dir(self):
        return under(self.root, self.anchor_dir_abs)

    @property
    def bundle(self):
        return under(self.root, self.bundle_abs)

    @property
    def tool(self):
        return os.path.join(self.root, self.tool_dir, self.argv[0])

    def install_tool(self):
        os.makedirs(os.path.dirname(self.tool), exist_ok=True)
        with open(self.tool, "w") as handle:
            handle.write("#!/bin/sh\n")
        os.chmod(self.tool, 0o755)

    def get_bin_path(self, name, required=False, opt_dirs=None):
        self.lookups.append(name)
        for directory in opt_dirs or []:
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
        return None

    def run_command(self, args, **kwargs):
        self.calls.append(list(args))
        assert list(args) == [self.tool] + self.argv[1:], "not this family's refresh command"
        parts = [self.distro_bundle]
        if os.path.isdir(self.anchor_dir):
            for entry in sorted(os.listdir(self.anchor_dir)):
                path = os.path.join(self.anchor_dir, entry)
                if entry in self.skip_in_bundle or entry.startswith(".") or not os.path.isfile(path):
                    continue
                if self.crt_only and not entry.endswith(".crt"):
                    continue
                parts.extend(der_to_pem(d).encode("ascii") for d in certificate_ders(pki.read(path)))
        os.makedirs(os.path.dirname(self.bundle), exist_ok=True)
        with open(self.bundle, "wb") as handle:
            handle.write(b"".join(parts))
        if self.results:
            return self.results.pop(0)
        return 0, "Updating certificates...\n", ""


def fake_root(tmp_path, os_release, spec, tool=True):
    """A root directory with etc/os-release, the family's tool and its (distribution) bundle."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").write_text(os_release)
    module = FakeModule(root, spec)
    if tool:
        module.install_tool()
    os.makedirs(os.path.dirname(module.bundle), exist_ok=True)
    with open(module.bundle, "wb") as handle:
        handle.write(module.distro_bundle)
    return root, module


@pytest.fixture(scope="module")
def roots():
    return make_anchors([pki.der(pki.make_cert("Store Root %d" % i, ca=True)[0]) for i in range(3)])


def fps(*anchors):
    return {normalise_fingerprint(a.fingerprint) for a in anchors}


def short(anchor):
    return anchor.fingerprint.replace(":", "")[:12].lower()


def listing(directory):
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


def snapshot(store):
    files = {}
    for entry in listing(store.anchor_dir):
        path = os.path.join(store.anchor_dir, entry)
        files[entry] = "<directory>" if os.path.isdir(path) else pki.read(path)
    if os.path.exists(store.bundle):
        files["<bundle>"] = pki.read(store.bundle)
    return files


def without_bundle(store):
    return {k: v for k, v in snapshot(store).items() if k != "<bundle>"}


# --- OS family detection ---------------------------------------------------------------------

class TestDetectOsFamily:

    @pytest.mark.parametrize("distro", sorted(DISTROS))
    def test_representative_distros(self, distro):
        text, spec = DISTROS[distro]
        assert systemstore.detect_os_family(text) == spec[0]

    @pytest.mark.parametrize("text", [MINT, POP], ids=["mint", "pop"])
    def test_debian_derivatives_by_id_like(self, text):
        assert systemstore.detect_os_family(text) == "debian"

    def test_every_family_has_a_representative_distro(self):
        assert {spec[0] for _text, spec in DISTROS.values()} == set(systemstore.FAMILIES)

    def test_family_table_matches_what_the_distributions_use(self):
        for _text, (family, anchor_dir, bundle, argv, _tool_dir, _crt) in DISTROS.values():
            assert systemstore.FAMILIES[family] == (anchor_dir, bundle, argv)

    @pytest.mark.parametrize("text, os_id, id_like", [(PLAN9, "plan9", "bell-labs research"),
                                                      (GENTOO, "gentoo", ""), ("", "", "")],
                             ids=["plan9", "gentoo", "empty"])
    def test_unknown_family_names_id_and_id_like_and_suggests_stores(self, text, os_id, id_like):
        with pytest.raises(VipMtlsError) as info:
            systemstore.detect_os_family(text)
        msg = info.value.msg
        assert "ID=%r" % os_id in msg and "ID_LIKE=%r" % id_like in msg
        assert "stores: [bundle]" in msg and "stores: [java]" in msg
        assert info.value.details["os_id"] == os_id
        assert info.value.details["os_id_like"] == id_like

    def test_id_wins_over_id_like(self):
        assert systemstore.detect_os_family('ID=alpine\nID_LIKE="debian"\n') == "alpine"

    def test_parse_os_release_quotes(self):
        values = systemstore.parse_os_release(MINT + "# comment\nEMPTY=\n")
        assert values["ID"] == "linuxmint" and values["ID_LIKE"] == "ubuntu debian" and values["EMPTY"] == ""


class TestSystemStoreFromRoot:

    def test_unknown_family_in_a_fake_root(self, tmp_path):
        root, _module = fake_root(tmp_path, GENTOO, DEB)
        with pytest.raises(VipMtlsError) as info:
            systemstore.system_store(FakeModule(root, DEB), root=str(root))
        assert "ID='gentoo'" in info.value.msg and "stores: [bundle]" in info.value.msg

    def test_missing_os_release(self, tmp_path):
        with pytest.raises(VipMtlsError) as info:
            systemstore.system_store(FakeModule(tmp_path, DEB), root=str(tmp_path))
        assert "cannot read" in info.value.msg and under(tmp_path, "/etc/os-release") in info.value.msg

    def test_os_release_as_relative_link(self, tmp_path):
        # Fedora, Arch and others ship /etc/os-release -> ../usr/lib/os-release.
        (tmp_path / "usr" / "lib").mkdir(parents=True)
        (tmp_path / "usr" / "lib" / "os-release").write_text(FEDORA)
        (tmp_path / "etc").mkdir()
        os.symlink("../usr/lib/os-release", str(tmp_path / "etc" / "os-release"))
        store = systemstore.system_store(FakeModule(tmp_path, RH), root=str(tmp_path))
        assert store.family == "redhat"

    def test_paths_are_under_the_root(self, tmp_path):
        root, module = fake_root(tmp_path, SLES, SUSE)
        store = systemstore.system_store(module, root=str(root))
        assert store.kind == "system"
        assert store.anchor_dir == module.anchor_dir and store.bundle == module.bundle
        assert "suse" in store.label and "/etc/pki/trust/anchors" in store.label


# --- every family, end to end in a fake root -----------------------------------------------------

class TestEveryFamily:

    @pytest.mark.parametrize("distro", sorted(DISTROS))
    def test_install_idempotent_absent(self, distro, tmp_path, roots):
        text, spec = DISTROS[distro]
        root, module = fake_root(tmp_path, text, spec)
        store = systemstore.system_store(module, root=str(root))
        assert store.family == spec[0]
        anchor = roots[0]

        result = store.manage("vip-root", [anchor], "present", fps(anchor))
        path = os.path.join(module.anchor_dir, "vip-root.crt")
        assert result["changed"] is True and result["refreshed"] is True
        assert result["paths"] == [path]
        assert pki.read(path) == der_to_pem(anchor.der).encode("ascii")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
        # The family's own refresh command, found in the root's bin directory.
        assert module.calls == [[os.path.join(str(root), spec[4], spec[3][0])] + spec[3][1:]]
        bundle_fps = {der_fingerprint(d) for d in certificate_ders(pki.read(module.bundle))}
        assert anchor.fingerprint in bundle_fps and pki.DIGICERT_G2_SHA256 in bundle_fps
        assert store.bundle_fingerprints() == bundle_fps

        again = store.manage("vip-root", [anchor], "present", fps(anchor))
        assert again["changed"] is False and again["refreshed"] is False
        assert len(module.calls) == 1

        gone = store.manage("vip-root", [], "absent", fps(anchor))
        assert gone["changed"] is True and gone["refreshed"] is True
        assert gone["removed"] == [path] and gone["paths"] == []
        assert listing(module.anchor_dir) == []
        assert anchor.fingerprint not in store.bundle_fingerprints()
        assert pki.DIGICERT_G2_SHA256 in store.bundle_fingerprints()  # the distribution's roots stay
        assert len(module.calls) == 2

        assert store.manage("vip-root", [], "absent", fps(anchor))["changed"] is False
        assert len(module.calls) == 2

    @pytest.mark.parametrize("distro", ["debian-12", "rhel-9", "sles-15", "arch", "alpine-3.20"])
    def test_anchor_directory_is_created(self, distro, tmp_path, roots):
        text, spec = DISTROS[distro]
        root, module = fake_root(tmp_path, text, spec)
        assert not os.path.exists(module.anchor_dir)
        store = systemstore.system_store(module, root=str(root))
        store.manage("vip", roots[:2], "present", fps(*roots[:2]))
        assert listing(module.anchor_dir) == sorted("vip-%s.crt" % short(a) for a in roots[:2])
        assert stat.S_IMODE(os.stat(module.anchor_dir).st_mode) == 0o755

    @pytest.mark.parametrize("distro", ["ubuntu-22.04", "fedora-40", "opensuse-leap-15.6", "manjaro"])
    def test_check_mode_in_each_family_touches_nothing(self, distro, tmp_path, roots):
        text, spec = DISTROS[distro]
        root, module = fake_root(tmp_path, text, spec)
        module.check_mode = True
        store = systemstore.system_store(module, root=str(root))
        before = snapshot(store)
        result = store.manage("vip", [roots[0]], "present", fps(roots[0]))
        assert result["changed"] is True and result["refreshed"] is False
        assert snapshot(store) == before and module.calls == []
        assert not os.path.exists(module.anchor_dir)

    @pytest.mark.parametrize("distro", ["debian-12", "rocky-9", "sles-15", "arch"])
    def test_missing_tool_names_it(self, distro, tmp_path, roots):
        text, spec = DISTROS[distro]
        root, module = fake_root(tmp_path, text, spec, tool=False)
        store = systemstore.system_store(module, root=str(root))
        with pytest.raises(VipMtlsError) as info:
            store.manage("vip", [roots[0]], "present", fps(roots[0]))
        assert "%s is not installed" % spec[3][0] in info.value.msg
        assert listing(module.anchor_dir) == []


# --- manage() behaviour, on a Debian fake root -----------------------------------------------------

@pytest.fixture
def debian(tmp_path):
    root, module = fake_root(tmp_path, DEBIAN, DEB)
    os.makedirs(module.anchor_dir)
    return systemstore.system_store(module, root=str(root)), module


class TestNames:

    @pytest.mark.parametrize("name", ["../x", "a/b", "", "..", ".hidden", "a..b", "-x", "a b", "x" * 101])
    def test_check_name_rejects(self, name):
        with pytest.raises(VipMtlsError) as info:
            anchors_mod.check_name(name)
        assert "not a plain file base name" in info.value.msg

    @pytest.mark.parametrize("name", ["digicert-global-root-g2", "VIP_root.1", "a"])
    def test_check_name_accepts(self, name):
        assert anchors_mod.check_name(name) is None

    def test_entry_names_one(self, roots):
        assert entry_names("vip", [roots[0]]) == {"vip": roots[0]}

    def test_entry_names_several(self, roots):
        names = entry_names("vip", roots[:2])
        assert names == {"vip-%s" % short(a): a for a in roots[:2]}
        assert all(re.match(r"^vip-[0-9a-f]{12}$", n) for n in names)
        assert all(entry_pattern("vip").match(n) for n in names)

    def test_managed_files(self, debian):
        store, _module = debian
        for f in ("vip.crt", "vip-0123456789ab.crt", "vip-0123456789AB.crt", "vip-x.crt", "vipx.crt",
                  "other.crt", "vip.pem"):
            with open(os.path.join(store.anchor_dir, f), "wb"):
                pass
        assert store.managed_files("vip") == ["vip-0123456789ab.crt", "vip.crt"]
        elsewhere = systemstore.SystemStore(store.module, "debian", root=os.path.join(store.root, "none"))
        assert elsewhere.managed_files("vip") == []

    def test_bad_name_fails_before_any_change(self, debian, roots):
        store, module = debian
        with pytest.raises(VipMtlsError):
            store.manage("../etc/x", [roots[0]], "present", fps(roots[0]))
        assert listing(store.anchor_dir) == [] and module.calls == []


class TestManage:

    def test_several_certificates(self, debian, roots):
        store, _module = debian
        result = store.manage("vip", roots[:2], "present", fps(*roots[:2]))
        assert result["changed"] is True
        assert listing(store.anchor_dir) == sorted("vip-%s.crt" % short(a) for a in roots[:2])
        assert store.bundle_fingerprints() >= {a.fingerprint for a in roots[:2]}
        assert store.manage("vip", roots[:2], "present", fps(*roots[:2]))["changed"] is False

    def test_one_to_several_removes_the_single_file(self, debian, roots):
        store, _module = debian
        store.manage("vip", [roots[0]], "present", fps(roots[0]))
        result = store.manage("vip", roots[:2], "present", fps(*roots[:2]))
        assert result["changed"] is True
        assert result["removed"] == [os.path.join(store.anchor_dir, "vip.crt")]
        assert "vip.crt" not in listing(store.anchor_dir)

    def test_before_and_after(self, debian, roots):
        store, _module = debian
        first = store.manage("vip", [roots[0]], "present", fps(roots[0]))
        assert first["before"] == {} and first["after"] == {"vip.crt": roots[0].der}
        second = store.manage("vip", [roots[1]], "present", fps(roots[1]))
        assert second["before"] == {"vip.crt": roots[0].der} and second["after"] == {"vip.crt": roots[1].der}

    def test_check_mode_changes_nothing(self, debian, roots):
        store, module = debian
        with open(os.path.join(store.anchor_dir, "vip.crt"), "wb") as handle:
            handle.write(der_to_pem(roots[1].der).encode("ascii"))
        before = snapshot(store)
        module.check_mode = True
        result = store.manage("vip", [roots[0]], "present", fps(roots[0]))
        assert result["changed"] is True and result["refreshed"] is False
        assert snapshot(store) == before and module.calls == []
        assert result["before"] == {"vip.crt": roots[1].der} and result["after"] == {"vip.crt": roots[0].der}

    def test_check_mode_absent_changes_nothing(self, debian, roots):
        store, module = debian
        store.manage("vip", [roots[0]], "present", fps(roots[0]))
        before = snapshot(store)
        module.check_mode = True
        result = store.manage("vip", [], "absent", fps(roots[0]))
        assert result["changed"] is True and result["refreshed"] is False
        assert result["removed"] == [os.path.join(store.anchor_dir, "vip.crt")]
        assert snapshot(store) == before

    def test_check_mode_missing_from_bundle_reports_change(self, debian, roots):
        store, module = debian
        store.manage("vip", [roots[0]], "present", fps(roots[0]))
        with open(store.bundle, "wb") as handle:
            handle.write(module.distro_bundle)
        module.check_mode = True
        before = snapshot(store)
        result = store.manage("vip", [roots[0]], "present", fps(roots[0]))
        assert result["changed"] is True and result["refreshed"] is False
        assert snapshot(store) == before and len(module.calls) == 1

    def test_removed_file_is_reported_changed_and_restored(self, debian, roots):
        store, _module = debian
        store.manage("vip", [roots[0]], "present", fps(roots[0]))
        os.unlink(os.path.join(store.anchor_dir, "vip.crt"))
        result = store.manage("vip", [roots[0]], "present", fps(roots[0]))
        assert result["changed"] is True and result["refreshed"] is True
        assert listing(store.anchor_dir) == ["vip.crt"]

    def test_edited_file_is_rewritten(self, debian, roots):
        store, _module = debian
        store.manage("vip", [roots[0]], "present", fps(roots[0]))
        path = os.path.join(store.anchor_dir, "vip.crt")
        with open(path, "wb") as handle:
            handle.write(der_to_pem(roots[2].der).encode("ascii"))
        assert store.manage("vip", [roots[0]], "present", fps(roots[0]))["changed"] is True
        assert pki.read(path) == der_to_pem(roots[0].der).encode("ascii")

    def test_reformatted_file_with_same_certificate_is_unchanged(self, debian, roots):
        store, module = debian
        store.manage("vip", [roots[0]], "present", fps(roots[0]))
        with open(os.path.join(store.anchor_dir, "vip.crt"), "wb") as handle:
            handle.write(der_to_pem(roots[0].der).replace("\n", "\r\n").encode("ascii"))
        assert store.manage("vip", [roots[0]], "present", fps(roots[0]))["changed"] is False
        assert len(module.calls) == 1

    def test_files_right_but_bundle_missing_anchor_refreshes(self, debian, roots):
        store, module = debian
        store.manage("vip", [roots[0]], "present", fps(roots[0]))
        with open(store.bundle, "wb") as handle:
            handle.write(module.distro_bundle)  # e.g. someone ran update-ca-certificates --fresh elsewhere
        result = store.manage("vip", [roots[0]], "present", fps(roots[0]))
        assert result["changed"] is True and result["refreshed"] is True
        assert result["notes"] and "missing from" in result["notes"][0] and store.bundle in result["notes"][0]
        assert len(module.calls) == 2
        assert roots[0].fingerprint in store.bundle_fingerprints()

    def test_absent_removes_only_its_own_files(self, debian, roots):
        store, _module = debian
        store.manage("vip", roots[:2], "present", fps(*roots[:2]))
        other = os.path.join(store.anchor_dir, "other.crt")
        with open(other, "wb") as handle:
            handle.write(der_to_pem(roots[2].der).encode("ascii"))
        similar = os.path.join(store.anchor_dir, "vip-extra.crt")
        with open(similar, "wb") as handle:
            handle.write(b"not ours")
        result = store.manage("vip", [], "absent", fps(*roots[:2]))
        assert result["changed"] is True and result["refreshed"] is True
        assert sorted(result["removed"]) == sorted(os.path.join(store.anchor_dir, "vip-%s.crt" % short(a))
                                                   for a in roots[:2])
        assert listing(store.anchor_dir) == ["other.crt", "vip-extra.crt"]
        assert pki.read(other) == der_to_pem(roots[2].der).encode("ascii")
        assert result["paths"] == []
        assert roots[2].fingerprint in store.bundle_fingerprints()
        again = store.manage("vip", [], "absent", fps(*roots[:2]))
        assert again["changed"] is False and again["refreshed"] is False

    def test_absent_keeps_a_hand_placed_file_with_another_certificate(self, debian, roots):
        store, module = debian
        with open(os.path.join(store.anchor_dir, "vip.crt"), "wb") as handle:
            handle.write(der_to_pem(roots[1].der).encode("ascii"))
        result = store.manage("vip", [], "absent", fps(roots[0]))
        assert result["changed"] is False and listing(store.anchor_dir) == ["vip.crt"]
        assert module.calls == []

    def test_absent_by_fingerprint_only_removes_only_that_one(self, debian, roots):
        store, _module = debian
        store.manage("vip", roots[:2], "present", fps(*roots[:2]))
        pin = normalise_fingerprint(roots[0].fingerprint.lower())
        result = store.manage("vip", [], "absent", {pin})
        assert result["removed"] == [os.path.join(store.anchor_dir, "vip-%s.crt" % short(roots[0]))]
        assert listing(store.anchor_dir) == ["vip-%s.crt" % short(roots[1])]
        assert roots[0].fingerprint not in store.bundle_fingerprints()
        assert roots[1].fingerprint in store.bundle_fingerprints()

    def test_directory_at_the_anchor_path_fails_clearly_and_changes_nothing(self, debian, roots):
        store, module = debian
        os.mkdir(os.path.join(store.anchor_dir, "vip.crt"))
        before = snapshot(store)
        for check_mode in (True, False):
            module.check_mode = check_mode
            with pytest.raises(VipMtlsError, match="is not a regular file"):
                store.manage("vip", [roots[0]], "present", fps(roots[0]))
        assert snapshot(store) == before and module.calls == []

    def test_directory_at_the_anchor_path_is_left_alone_by_absent(self, debian, roots):
        store, module = debian
        os.mkdir(os.path.join(store.anchor_dir, "vip.crt"))
        result = store.manage("vip", [], "absent", fps(roots[0]))
        assert result["changed"] is False and module.calls == []
        assert os.path.isdir(os.path.join(store.anchor_dir, "vip.crt"))

    def test_failed_refresh_restores_previous_files(self, debian, roots):
        store, module = debian
        store.manage("vip", roots[:2], "present", fps(*roots[:2]))
        before = without_bundle(store)
        module.calls = []
        module.results = [(1, "", "E: broken /etc/ca-certificates.conf line 3\n"), (0, "", "")]
        with pytest.raises(VipMtlsError) as info:
            store.manage("vip", [roots[2]], "present", fps(roots[2]))
        msg = info.value.msg
        assert "rc=1" in msg and "broken /etc/ca-certificates.conf line 3" in msg and "put back" in msg
        assert info.value.details["refresh_output"] == "E: broken /etc/ca-certificates.conf line 3"
        assert without_bundle(store) == before  # byte for byte, and vip.crt (the new file) is gone again
        assert len(module.calls) == 2  # the failed refresh and the one after putting the files back
        assert store.bundle_fingerprints() >= {a.fingerprint for a in roots[:2]}
        assert roots[2].fingerprint not in store.bundle_fingerprints()
        assert not [f for f in os.listdir(store.anchor_dir) if f.startswith(".vip-mtls-")]

    def test_failed_refresh_on_first_install_removes_new_file(self, debian, roots):
        store, module = debian
        module.results = [(1, "failed", "")]
        with pytest.raises(VipMtlsError) as info:
            store.manage("vip", [roots[0]], "present", fps(roots[0]))
        assert "rc=1" in info.value.msg and "Output: failed" in info.value.msg
        assert listing(store.anchor_dir) == []
        assert roots[0].fingerprint not in store.bundle_fingerprints()

    def test_failed_refresh_on_absent_puts_the_file_back(self, debian, roots):
        store, module = debian
        store.manage("vip", [roots[0]], "present", fps(roots[0]))
        before = without_bundle(store)
        module.results = [(2, "", "E: disk full")]
        with pytest.raises(VipMtlsError, match="rc=2"):
            store.manage("vip", [], "absent", fps(roots[0]))
        assert without_bundle(store) == before
        assert roots[0].fingerprint in store.bundle_fingerprints()

    def test_bundle_lacking_the_anchor_is_rolled_back(self, debian, roots):
        store, module = debian
        store.manage("vip-old", [roots[1]], "present", fps(roots[1]))
        before = without_bundle(store)
        module.calls = []
        module.skip_in_bundle = {"vip.crt"}
        with pytest.raises(VipMtlsError) as info:
            store.manage("vip", [roots[0]], "present", fps(roots[0]))
        msg = info.value.msg
        assert "does not contain" in msg and "vip.crt" in msg and store.bundle in msg and "put back" in msg
        assert without_bundle(store) == before  # the new file is gone again
        assert len(module.calls) == 2  # refreshed again after the rollback
        assert roots[1].fingerprint in store.bundle_fingerprints()

    def test_refresh_leaving_the_bundle_empty_is_rolled_back(self, debian, roots):
        store, module = debian
        module.distro_bundle = b""
        module.skip_in_bundle = {"vip.crt"}
        with pytest.raises(VipMtlsError) as info:
            store.manage("vip", [roots[0]], "present", fps(roots[0]))
        assert "empty" in info.value.msg and store.bundle in info.value.msg
        assert listing(store.anchor_dir) == []

    def test_missing_refresh_tool_puts_previous_files_back(self, debian, roots):
        store, module = debian
        store.manage("vip", [roots[0]], "present", fps(roots[0]))
        before = without_bundle(store)
        os.unlink(module.tool)
        with pytest.raises(VipMtlsError) as info:
            store.manage("vip", [roots[1]], "present", fps(roots[1]))
        assert "update-ca-certificates is not installed" in info.value.msg
        assert without_bundle(store) == before  # a refresh that cannot run is a failed refresh

    def test_bundle_fingerprints_digicert(self, debian):
        store, _module = debian
        with open(store.bundle, "wb") as handle:
            handle.write(pki.read(pki.DIGICERT_G2) + pki.read(pki.DIGICERT_G1))
        assert store.bundle_fingerprints() == {pki.DIGICERT_G2_SHA256, pki.DIGICERT_G1_SHA256}

    def test_bundle_fingerprints_without_bundle(self, debian):
        store, _module = debian
        os.unlink(store.bundle)
        assert store.bundle_fingerprints() == set()

    def test_anchor_tuple(self, roots):
        assert isinstance(roots[0], Anchor) and roots[0].fingerprint == der_fingerprint(roots[0].der)


class TestManageMany:
    """Several names in one call: one refresh for all of them (issue 6: the refresh is what costs)."""

    def test_three_names_one_refresh_then_idempotent(self, debian, roots):
        store, module = debian
        requests = [("r%d" % i, [a], "present", fps(a)) for i, a in enumerate(roots)]
        results = store.manage_many(requests)
        assert [r["changed"] for r in results] == [True, True, True]
        assert len(module.calls) == 1
        assert listing(store.anchor_dir) == ["r0.crt", "r1.crt", "r2.crt"]
        assert store.bundle_fingerprints() >= {a.fingerprint for a in roots}
        module.calls = []
        again = store.manage_many(requests)
        assert [r["changed"] for r in again] == [False, False, False] and module.calls == []

    def test_only_the_changed_name_reports_changed(self, debian, roots):
        store, module = debian
        store.manage_many([("r0", [roots[0]], "present", fps(roots[0])), ("r1", [roots[1]], "present", fps(roots[1]))])
        module.calls = []
        results = store.manage_many([("r0", [roots[0]], "present", fps(roots[0])),
                                     ("r1", [roots[1]], "absent", fps(roots[1])),
                                     ("r2", [roots[2]], "present", fps(roots[2]))])
        assert [r["changed"] for r in results] == [False, True, True]
        assert [r["refreshed"] for r in results] == [False, True, True]
        assert len(module.calls) == 1 and listing(store.anchor_dir) == ["r0.crt", "r2.crt"]
        assert results[1]["removed"] == [os.path.join(store.anchor_dir, "r1.crt")]

    def test_failed_refresh_puts_back_every_name(self, debian, roots):
        store, module = debian
        store.manage("r0", [roots[0]], "present", fps(roots[0]))
        before = without_bundle(store)
        module.results = [(1, "", "broken"), (0, "", "")]
        with pytest.raises(VipMtlsError, match="put back"):
            store.manage_many([("r0", [roots[0]], "absent", fps(roots[0])), ("r1", [roots[1]], "present", fps(roots[1])),
                               ("r2", [roots[2]], "present", fps(roots[2]))])
        assert without_bundle(store) == before

    def test_check_mode_reports_without_writing(self, debian, roots):
        store, module = debian
        module.check_mode = True
        results = store.manage_many([("r%d" % i, [a], "present", fps(a)) for i, a in enumerate(roots)])
        assert all(r["changed"] and not r["refreshed"] for r in results)
        assert listing(store.anchor_dir) == [] and module.calls == []
