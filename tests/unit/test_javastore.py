# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/javastore.py with THIS machine's real keytool (no keytool mocks):
keystores are made with keytool in tmp dirs, certificates with cryptography (pki.py)."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess

import pytest

import pki
from ansible_collections.vip.mtls.plugins.module_utils import javastore
from ansible_collections.vip.mtls.plugins.module_utils.anchors import fingerprint_set, make_anchors
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.module_utils.pem import der_fingerprint

KEYTOOL = shutil.which("keytool")
JAVA = shutil.which("java")
pytestmark = pytest.mark.skipif(not KEYTOOL or not JAVA, reason="needs a real java and keytool on PATH")

PASSWORD = "S3cret-Keystore-Pw"


class FakeModule(object):
    """The parts of AnsibleModule the backend uses; run_command really runs the command."""

    def __init__(self, check_mode=False, path=None):
        self.check_mode = check_mode
        self.path = path
        self.commands = []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return shutil.which(name, path=self.path)

    def run_command(self, args, environ_update=None, data=None, **kwargs):
        assert isinstance(args, list), "commands must be argument lists, never shell strings"
        self.commands.append(list(args))
        env = dict(os.environ)
        env.update(environ_update or {})
        proc = subprocess.run(args, input=data, env=env, capture_output=True, text=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr


def keytool(*args, password=PASSWORD):
    proc = subprocess.run([KEYTOOL] + list(args) + ["-storepass:env", "KT_PASS"],
                          env=dict(os.environ, KT_PASS=password), capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def import_cert(path, store_type, alias, cert, tmp_path):
    pem_file = tmp_path / ("%s.pem" % alias.replace(":", "_"))
    pem_file.write_bytes(pki.pem(cert))
    keytool("-importcert", "-noprompt", "-alias", alias, "-file", str(pem_file), "-keystore", str(path),
            "-storetype", store_type)


def listing(path, store_type="JKS", password=PASSWORD):
    """{alias: sha256 colon hex} as keytool itself lists the keystore."""
    out = keytool("-list", "-keystore", str(path), "-storetype", store_type, password=password)
    found = {}
    lines = out.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("Certificate fingerprint (SHA-256): "):
            alias = lines[index - 1].split(",", 1)[0]
            found[alias] = line.split(": ", 1)[1].strip()
    return found


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def certs():
    """Three independent roots (EC, fast)."""
    return [pki.make_cert("Java Test Root %d" % i, ca=True)[0] for i in range(3)]


@pytest.fixture(params=["JKS", "PKCS12"])
def keystore(request, tmp_path, certs):
    """A keystore of the given type holding one unrelated root under 'other-root'."""
    path = tmp_path / ("store.%s" % request.param.lower())
    import_cert(path, request.param, "other-root", certs[2], tmp_path)
    return path, request.param


def store(path, module=None, store_type="auto", password=PASSWORD, alias=None, java_home=None):
    params = dict(java_keystore=str(path) if path else None, java_keystore_type=store_type,
                  java_keystore_password=password, java_alias=alias, java_home=java_home)
    return javastore.java_store(module or FakeModule(), params)


def anchors_of(*certs):
    return make_anchors([pki.der(c) for c in certs])


def present(backend, name, *certs):
    return backend.manage(name, anchors_of(*certs), "present", fingerprint_set([], anchors_of(*certs)))


def absent(backend, name, *certs):
    return backend.manage(name, anchors_of(*certs), "absent", fingerprint_set([], anchors_of(*certs)))


class TestPresent:

    def test_add_then_idempotent(self, keystore, certs):
        path, store_type = keystore
        result = present(store(path), "VIP-Root", certs[0])
        fp = der_fingerprint(pki.der(certs[0]))
        assert result["changed"] is True and result["refreshed"] is False
        assert result["paths"] == ["%s#vip-root" % path]
        assert result["removed"] == [] and result["added"] == [fp]
        assert result["before"] == {} and result["after"] == {"vip-root": pki.der(certs[0])}
        assert listing(path, store_type) == {"other-root": der_fingerprint(pki.der(certs[2])), "vip-root": fp}

        before = digest(path)
        again = present(store(path), "VIP-Root", certs[0])
        assert again["changed"] is False and again["added"] == [] and again["removed"] == []
        assert again["paths"] == ["%s#vip-root" % path]
        assert again["before"] == again["after"] == {"vip-root": pki.der(certs[0])}
        assert digest(path) == before

    def test_several_certs_get_fingerprint_aliases(self, keystore, certs):
        path, store_type = keystore
        result = present(store(path, alias="vip"), "ignored-name", certs[0], certs[1])
        aliases = {"vip-%s" % der_fingerprint(pki.der(c)).replace(":", "")[:12].lower(): c for c in certs[:2]}
        assert sorted(result["paths"]) == sorted("%s#%s" % (path, a) for a in aliases)
        found = listing(path, store_type)
        for alias, cert in aliases.items():
            assert found[alias] == der_fingerprint(pki.der(cert))
        assert present(store(path, alias="vip"), "ignored-name", certs[0], certs[1])["changed"] is False

    def test_present_under_another_alias_is_not_added(self, keystore, certs):
        path, store_type = keystore
        before = digest(path)
        module = FakeModule()
        # certs[2] is in the keystore as 'other-root' (like debian:xxx.pem in Debian's cacerts).
        result = present(store(path, module), "vip-root", certs[2])
        assert result["changed"] is False
        assert result["paths"] == ["%s#other-root" % path]
        assert digest(path) == before
        assert not [c for c in module.commands if "-importcert" in c]

    def test_replace_our_alias_with_another_cert(self, keystore, certs):
        path, store_type = keystore
        present(store(path), "vip-root", certs[0])
        result = present(store(path), "vip-root", certs[1])
        assert result["changed"] is True
        assert result["before"] == {"vip-root": pki.der(certs[0])}
        assert result["after"] == {"vip-root": pki.der(certs[1])}
        assert result["added"] == [der_fingerprint(pki.der(certs[1]))]
        assert result["dropped"] == [der_fingerprint(pki.der(certs[0]))]
        assert listing(path, store_type) == {"other-root": der_fingerprint(pki.der(certs[2])),
                                             "vip-root": der_fingerprint(pki.der(certs[1]))}

    def test_our_stale_alias_goes_when_the_cert_is_elsewhere(self, keystore, certs):
        path, store_type = keystore
        present(store(path), "vip-root", certs[0])
        # Now the anchor for vip-root is certs[2], which the keystore trusts as 'other-root' already.
        result = present(store(path), "vip-root", certs[2])
        assert result["changed"] is True and result["paths"] == ["%s#other-root" % path]
        assert result["removed"] == ["%s#vip-root" % path]
        assert listing(path, store_type) == {"other-root": der_fingerprint(pki.der(certs[2]))}

    def test_alias_case_insensitive(self, keystore, certs):
        path, store_type = keystore
        present(store(path, alias="VIP-Root"), "x", certs[0])
        result = present(store(path, alias="vip-ROOT"), "x", certs[0])
        assert result["changed"] is False
        assert "vip-root" in listing(path, store_type)

    def test_check_mode_changes_nothing(self, keystore, certs):
        path, store_type = keystore
        before = digest(path)
        mtime = os.stat(path).st_mtime_ns
        module = FakeModule(check_mode=True)
        result = present(store(path, module), "vip-root", certs[0])
        assert result["changed"] is True and result["after"] == {"vip-root": pki.der(certs[0])}
        assert digest(path) == before and os.stat(path).st_mtime_ns == mtime
        assert not [c for c in module.commands if "-importcert" in c or "-delete" in c]
        assert not [f for f in os.listdir(path.parent) if f.startswith(".vip-mtls-")]

    def test_owner_and_mode_kept_and_no_temp_left(self, keystore, certs):
        path, store_type = keystore
        os.chmod(path, 0o640)
        present(store(path), "vip-root", certs[0])
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
        assert not [f for f in os.listdir(path.parent) if f.startswith(".vip-mtls-")]

    def test_symlink_kept_real_file_written(self, keystore, certs, tmp_path):
        path, store_type = keystore
        link = tmp_path / "link" / "cacerts"
        link.parent.mkdir()
        link.symlink_to(path)
        result = present(store(link), "vip-root", certs[0])
        assert result["paths"] == ["%s#vip-root" % link]
        assert os.path.islink(link) and os.readlink(link) == str(path)
        assert "vip-root" in listing(path, store_type)


class TestAbsent:

    def test_removes_only_ours(self, keystore, certs, tmp_path):
        path, store_type = keystore
        present(store(path), "vip-root", certs[0])
        # The same certificate also under a foreign alias, and a foreign alias that looks similar.
        import_cert(path, store_type, "vendor:vip-root.pem", certs[0], tmp_path)
        import_cert(path, store_type, "vip-rootx", certs[1], tmp_path)
        result = absent(store(path), "vip-root", certs[0])
        assert result["changed"] is True
        assert result["removed"] == ["%s#vip-root" % path]
        assert result["before"] == {"vip-root": pki.der(certs[0])} and result["after"] == {}
        assert sorted(listing(path, store_type)) == ["other-root", "vendor:vip-root.pem", "vip-rootx"]
        again = absent(store(path), "vip-root", certs[0])
        assert again["changed"] is False and again["removed"] == []

    def test_our_alias_with_another_cert_stays(self, keystore, certs):
        path, store_type = keystore
        present(store(path), "vip-root", certs[1])
        result = absent(store(path), "vip-root", certs[0])
        assert result["changed"] is False
        assert "vip-root" in listing(path, store_type)

    def test_by_fingerprint_only(self, keystore, certs):
        path, store_type = keystore
        present(store(path), "vip-root", certs[0], certs[1])
        pins = fingerprint_set([der_fingerprint(pki.der(certs[1])).replace(":", "").lower()])
        result = store(path).manage("vip-root", [], "absent", pins)
        assert result["changed"] is True and len(result["removed"]) == 1
        assert len([a for a in listing(path, store_type) if a.startswith("vip-root-")]) == 1

    def test_check_mode(self, keystore, certs):
        path, store_type = keystore
        present(store(path), "vip-root", certs[0])
        before = digest(path)
        result = absent(store(path, FakeModule(check_mode=True)), "vip-root", certs[0])
        assert result["changed"] is True and result["removed"] == ["%s#vip-root" % path]
        assert digest(path) == before


class TestTypes:

    @pytest.mark.parametrize("store_type", ["JKS", "PKCS12"])
    def test_explicit_type(self, keystore, certs, store_type):
        path, real_type = keystore
        if store_type == real_type:
            assert present(store(path, store_type=store_type), "vip-root", certs[0])["changed"] is True
            assert "vip-root" in listing(path, real_type)
        else:
            before = digest(path)
            with pytest.raises(VipMtlsError) as info:
                present(store(path, store_type=store_type), "vip-root", certs[0])
            assert "is a %s keystore" % real_type in info.value.msg
            assert digest(path) == before

    def test_auto_detects_and_keeps_format(self, keystore, certs):
        path, real_type = keystore
        module = FakeModule()
        present(store(path, module), "vip-root", certs[0])
        assert all(c[c.index("-storetype") + 1] == real_type for c in module.commands)
        head = path.read_bytes()[:4]
        assert (head == b"\xfe\xed\xfe\xed") == (real_type == "JKS")

    def test_detect_type(self):
        assert javastore.detect_type(b"\xfe\xed\xfe\xed") == "JKS"
        assert javastore.detect_type(b"\xce\xce\xce\xce") == "JCEKS"
        assert javastore.detect_type(b"\x30\x82\x02\x00") == "PKCS12"


class TestFailures:

    def test_wrong_password(self, keystore, certs):
        path, store_type = keystore
        before = digest(path)
        with pytest.raises(VipMtlsError) as info:
            present(store(path, password="not-the-password"), "vip-root", certs[0])
        assert "keystore password is wrong (java_keystore_password)" in info.value.msg
        assert "not-the-password" not in str(info.value) + repr(info.value.details)
        assert digest(path) == before

    def test_missing_keystore(self, tmp_path):
        with pytest.raises(VipMtlsError) as info:
            store(tmp_path / "nope.jks")
        assert "java_keystore=%s does not exist" % (tmp_path / "nope.jks") in info.value.msg

    def test_not_a_keystore(self, tmp_path, certs):
        path = tmp_path / "garbage.p12"
        path.write_bytes(b"\x30\x03\x02\x01\x00 not a keystore")
        before = digest(path)
        with pytest.raises(VipMtlsError) as info:
            present(store(path), "vip-root", certs[0])
        assert "keytool failed to read" in info.value.msg and PASSWORD not in info.value.msg
        assert digest(path) == before

    def test_keytool_failure_leaves_original(self, keystore, certs, monkeypatch):
        path, store_type = keystore
        before = digest(path)
        monkeypatch.setattr(javastore, "der_to_pem", lambda der: "not a certificate\n")
        with pytest.raises(VipMtlsError) as info:
            present(store(path), "vip-root", certs[0])
        assert "keytool failed to import alias vip-root" in info.value.msg
        assert "the keystore was not changed" in info.value.msg
        assert digest(path) == before
        assert not [f for f in os.listdir(path.parent) if f.startswith(".vip-mtls-")]

    def test_bad_alias(self, keystore, certs):
        path, _store_type = keystore
        with pytest.raises(VipMtlsError) as info:
            present(store(path, alias="bad alias"), "x", certs[0])
        assert "not a usable keystore alias" in info.value.msg

    def test_no_java_anywhere(self, tmp_path):
        with pytest.raises(VipMtlsError) as info:
            javastore.java_store(FakeModule(path=str(tmp_path)), dict(java_keystore_password="changeit"))
        assert "keytool was not found" in info.value.msg and "install" in info.value.msg
        assert "java_home" in info.value.msg

    def test_java_home_without_cacerts(self, tmp_path):
        home = tmp_path / "jre"
        (home / "bin").mkdir(parents=True)
        os.symlink(KEYTOOL, home / "bin" / "keytool")
        with pytest.raises(VipMtlsError) as info:
            javastore.java_store(FakeModule(), dict(java_home=str(home), java_keystore_password="changeit"))
        assert "has no cacerts" in info.value.msg and "lib/security/cacerts" in info.value.msg

    def test_java_home_not_a_directory(self, tmp_path):
        with pytest.raises(VipMtlsError) as info:
            javastore.java_store(FakeModule(), dict(java_home=str(tmp_path / "x"), java_keystore_password="c"))
        assert "is not a directory" in info.value.msg


class TestDiscovery:

    def test_default_cacerts_of_the_java_on_path(self):
        backend = javastore.java_store(FakeModule(), dict(java_keystore_password="changeit"))
        home = os.path.dirname(os.path.dirname(os.path.realpath(JAVA)))
        assert backend.keystore == os.path.join(home, "lib", "security", "cacerts")
        assert backend.keytool == os.path.join(home, "bin", "keytool")
        assert backend.label == "java %s" % backend.keystore

    def test_read_the_real_cacerts_in_check_mode(self, certs):
        """The machine's JRE cacerts (often a symlink) is read and a new root would be added."""
        module = FakeModule(check_mode=True)
        backend = javastore.java_store(module, dict(java_keystore_password="changeit"))
        real = os.path.realpath(backend.keystore)
        before = hashlib.sha256(open(real, "rb").read()).hexdigest()
        result = present(backend, "vip-root", certs[0])
        assert result["changed"] is True
        assert hashlib.sha256(open(real, "rb").read()).hexdigest() == before

    def test_jdk8_layout(self, tmp_path, keystore):
        path, _store_type = keystore
        home = tmp_path / "jdk8"
        (home / "jre" / "lib" / "security").mkdir(parents=True)
        shutil.copy(path, home / "jre" / "lib" / "security" / "cacerts")
        backend = javastore.java_store(FakeModule(), dict(java_home=str(home), java_keystore_password=PASSWORD))
        assert backend.keystore == str(home / "jre" / "lib" / "security" / "cacerts")
        assert backend.keytool == KEYTOOL or os.path.basename(backend.keytool) == "keytool"


def test_password_never_in_command_line_or_results(keystore, certs):
    path, store_type = keystore
    module = FakeModule()
    results = [present(store(path, module), "vip-root", certs[0]),
               present(store(path, module), "vip-root", certs[1]),
               absent(store(path, module), "vip-root", certs[1])]
    for command in module.commands:
        assert PASSWORD not in " ".join(command)
        assert "-storepass:env" in command
    assert PASSWORD not in repr(results)
    with pytest.raises(VipMtlsError) as info:
        present(store(path, module, password=PASSWORD + "x"), "vip-root", certs[0])
    assert PASSWORD not in str(info.value) + repr(info.value.details)


def test_listing_parser():
    pem = pki.pem_text([pki.der(pki.make_cert("P", ca=True)[0])])
    text = ("Keystore type: JKS\n\nYour keystore contains 2 entries\n\nAlias name: Debian:A.pem\n"
            "Creation date: x\nEntry type: trustedCertEntry\n\n%s\n\n*****\n\nAlias name: key\n"
            "Entry type: PrivateKeyEntry\nCertificate chain length: 1\nCertificate[1]:\n%s\n" % (pem, pem))
    entries = javastore.parse_listing(text)
    assert list(entries) == ["debian:a.pem", "key"]
    assert entries["key"] is not None and entries["debian:a.pem"] == entries["key"]


class TestDebianLeftovers:
    """update-ca-certificates never tells ca-certificates-java that a local anchor went away."""

    @pytest.mark.parametrize("linked", [False, True], ids=["stale", "still-in-system-store"])
    def test_absent_removes_the_stale_debian_copy_only(self, keystore, certs, tmp_path, linked):
        path, store_type = keystore
        import_cert(path, store_type, "debian:vip-root.pem", certs[0], tmp_path)
        import_cert(path, store_type, "debian:vip-root-other.pem", certs[0], tmp_path)  # not our name
        certs_dir = tmp_path / "etc-ssl-certs"
        certs_dir.mkdir()
        (certs_dir / "vip-root.crt").write_bytes(pki.pem(certs[0]))
        # Debian's link: dangling once the system store removed its anchor file.
        (certs_dir / "vip-root.pem").symlink_to(certs_dir / ("vip-root.crt" if linked else "gone.crt"))
        backend = store(path)
        backend.debian_certs_dir = str(certs_dir)
        result = absent(backend, "vip-root", certs[0])
        aliases = set(listing(path, store_type))
        assert "debian:vip-root-other.pem" in aliases and "other-root" in aliases
        if linked:
            assert result["changed"] is False and "debian:vip-root.pem" in aliases
        else:
            assert result["removed"] == ["%s#debian:vip-root.pem" % path]
            assert "debian:vip-root.pem" not in aliases
