# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every output of vip.mtls.client_cert, rendered on the controller (outputs.py) and written by the module
(clientcert.py): what each file holds, read back with cryptography, openssl and the real keytool; idempotence
of every output across fresh renders (new salts); what a changed setting rewrites; backup; state=absent;
previous_not_after after a rotation; tampered encrypted outputs."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import stat
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

import pki
from ansible_collections.vip.mtls.plugins.module_utils import certs, clientcert, outputs
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.module_utils.pem import pem_blocks
from test_clientcert import FakeModule, make_args, make_params, mode_of, output_bytes, run

KEYTOOL = shutil.which("keytool", path=os.environ.get("PATH", "") + os.pathsep + "/usr/lib/jvm/default-java/bin")
OPENSSL = shutil.which("openssl")
needs_keytool = pytest.mark.skipif(not KEYTOOL, reason="keytool (a Java runtime) is not installed")
needs_openssl = pytest.mark.skipif(not OPENSSL, reason="the openssl command is not installed")

P12_PASS = "p12-pass word"
STORE_PASS = "store-pass"
KEY_PASS = "key-out-pass"


@pytest.fixture(scope="module")
def chain():
    return pki.Chain()


@pytest.fixture
def dest(tmp_path):
    return str(tmp_path / "etc" / "vip-mtls")


def every_output(dest_dir, keystore_type="PKCS12", **overrides):
    """Arguments asking for every output kind at once."""
    args = dict(
        combined_path=os.path.join(dest_dir, "client-all.pem"),
        pkcs12_path=os.path.join(dest_dir, "client.p12"),
        pkcs12_passphrase=P12_PASS,
        keystore_path=os.path.join(dest_dir, "client.jks" if keystore_type == "JKS" else "keystore.p12"),
        keystore_type=keystore_type,
        keystore_password=STORE_PASS,
        keystore_alias="vip-client",
    )
    args.update(overrides)
    return args


def snapshot(result):
    """(bytes, inode, mode, uid, gid) of every output file."""
    found = {}
    for kind, path in result["files"].items():
        st = os.lstat(path)
        found[kind] = (pki.read(path), st.st_ino, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
    return found


def keytool_list(path, password, store_type=None):
    command = [KEYTOOL, "-list", "-keystore", path, "-storepass:env", "VIP_TEST_STOREPASS"]
    if store_type:
        command += ["-storetype", store_type]
    proc = subprocess.run(command, env=dict(os.environ, VIP_TEST_STOREPASS=password), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=120, check=False)
    return proc.returncode, proc.stdout


def openssl_info(path, password):
    proc = subprocess.run([OPENSSL, "pkcs12", "-info", "-noout", "-in", path, "-passin", "env:VIP_TEST_PASS"],
                          env=dict(os.environ, VIP_TEST_PASS=password), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=60, check=False)
    return proc.returncode, proc.stdout


# --- what each output holds ---------------------------------------------------------------------------

def test_combined_pem_is_certificate_then_key(chain, dest):
    path = os.path.join(dest, "client-all.pem")
    result = run(make_params(chain, dest, combined_path=path))
    assert result["files"]["combined"] == path
    assert mode_of(path) == 0o600  # holds key material: key_mode
    data = pki.read(path)
    assert data.index(b"-----BEGIN CERTIFICATE-----") < data.index(b"-----BEGIN PRIVATE KEY-----")
    assert data.count(b"-----BEGIN CERTIFICATE-----") == 1  # the chain has its own file
    key, cert, chain_certs = certs.load_client_bundle(data, path)
    assert certs.fingerprint(cert) == certs.fingerprint(chain.leaf) and chain_certs == []
    assert certs.key_matches(chain.leaf, key)


def test_combined_pem_with_encrypted_key(chain, dest):
    path = os.path.join(dest, "client-all.pem")
    run(make_params(chain, dest, combined_path=path, key_output_passphrase=KEY_PASS))
    data = pki.read(path)
    assert data.index(b"-----BEGIN CERTIFICATE-----") < data.index(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    key, _cert, _chain = certs.load_client_bundle(data, path, KEY_PASS)
    assert certs.key_matches(chain.leaf, key)


def test_encrypted_key_output_opens_with_the_passphrase_only(chain, dest):
    result = run(make_params(chain, dest, key_output_passphrase=KEY_PASS))
    path = result["files"]["key"]
    data = pki.read(path)
    assert data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----") and mode_of(path) == 0o600
    assert certs.key_matches(chain.leaf, serialization.load_pem_private_key(data, KEY_PASS.encode()))
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(data, None)
    with pytest.raises(ValueError):
        serialization.load_pem_private_key(data, b"wrong")


@pytest.mark.parametrize("alias", ["vip-client", "my alias"])
def test_pkcs12_opens_with_the_passphrase_and_alias(chain, dest, alias):
    path = os.path.join(dest, "client.p12")
    result = run(make_params(chain, dest, pkcs12_path=path, pkcs12_passphrase=P12_PASS, keystore_alias=alias))
    assert result["files"]["pkcs12"] == path and mode_of(path) == 0o600
    data = pki.read(path)
    loaded = pkcs12.load_pkcs12(data, P12_PASS.encode())
    assert certs.key_matches(chain.leaf, loaded.key)
    assert certs.fingerprint(loaded.cert.certificate) == certs.fingerprint(chain.leaf)
    assert loaded.cert.friendly_name == alias.encode()
    assert [certs.fingerprint(c.certificate) for c in loaded.additional_certs] == [certs.fingerprint(chain.inter)]
    with pytest.raises(ValueError):
        pkcs12.load_pkcs12(data, b"wrong")
    # the collection's own loader reads it back too
    assert certs.fingerprint(certs.load_client_bundle(data, path, P12_PASS)[1]) == certs.fingerprint(chain.leaf)


@needs_openssl
@pytest.mark.parametrize("compat, expected, refused", [
    (False, ["PBES2, PBKDF2, AES-256-CBC"], ["3-KeyTripleDES", "RC2"]),
    (True, ["MAC: sha1, ", "PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC",
            "Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC"], ["AES", "PBES2", "sha256"]),
])
def test_pkcs12_encryption_modern_or_compat(chain, dest, compat, expected, refused):
    path = os.path.join(dest, "client.p12")
    run(make_params(chain, dest, pkcs12_path=path, pkcs12_passphrase=P12_PASS, pkcs12_compat=compat))
    rc, text = openssl_info(path, P12_PASS)
    assert rc == 0, text
    for fragment in expected:
        assert fragment in text, text
    for fragment in refused:
        assert fragment not in text, text
    assert pkcs12.load_pkcs12(pki.read(path), P12_PASS.encode()).key is not None


@needs_keytool
def test_keystore_pkcs12_lists_the_alias_as_private_key_entry(chain, dest):
    path = os.path.join(dest, "keystore.p12")
    run(make_params(chain, dest, keystore_path=path, keystore_password=STORE_PASS, keystore_alias="svc-client"))
    assert mode_of(path) == 0o600
    rc, text = keytool_list(path, STORE_PASS, "PKCS12")
    assert rc == 0, text
    assert "Keystore type: PKCS12" in text
    assert "svc-client," in text and "PrivateKeyEntry" in text


@needs_keytool
def test_keystore_jks_written_by_keytool(chain, dest):
    path = os.path.join(dest, "client.jks")
    params = make_params(chain, dest, keystore_path=path, keystore_type="JKS", keystore_password=STORE_PASS,
                         keystore_alias="svc-client")
    module = FakeModule()
    result = run(params, module=module)
    assert result["files"]["keystore"] == path and mode_of(path) == 0o600
    assert pki.read(path)[:4] == clientcert.JKS_MAGIC
    rc, text = keytool_list(path, STORE_PASS)
    assert rc == 0, text
    assert "Keystore type: JKS" in text
    assert "svc-client," in text and "PrivateKeyEntry" in text
    # the store password went to keytool in its environment, never on its command line
    [(argv, env)] = module.commands
    assert STORE_PASS not in " ".join(argv) and env == {"VIP_MTLS_STOREPASS": STORE_PASS}
    assert sorted(os.listdir(dest)) == sorted(["client.crt", "client.key", "chain.crt", "client.jks",
                                               clientcert.STATE_FILE])  # keytool's work dir is gone


# --- idempotence, and what a change rewrites --------------------------------------------------------------

@pytest.mark.parametrize("keystore_type, key_pass", [("PKCS12", None), ("PKCS12", KEY_PASS), ("JKS", KEY_PASS)])
def test_every_output_idempotent_across_fresh_renders(chain, dest, keystore_type, key_pass):
    if keystore_type == "JKS" and not KEYTOOL:
        pytest.skip("keytool (a Java runtime) is not installed")
    args = every_output(dest, keystore_type, key_output_passphrase=key_pass)
    first_params = make_params(chain, dest, **args)
    first = run(first_params)
    assert first["changed"] is True
    assert set(first["files"]) == {"cert", "key", "chain", "combined", "pkcs12", "keystore"}
    before = snapshot(first)

    second_params = make_params(chain, dest, **args)
    # a fresh render really differs (random salts): the module must not compare the bytes
    for kind in ("pkcs12", "keystore") + (("key", "combined") if key_pass else ()):
        assert output_bytes(first_params, kind) != output_bytes(second_params, kind), kind
    module = FakeModule()
    second = run(second_params, module=module)
    assert second["changed"] is False, second["diff"]
    assert second["diff"]["before"] == second["diff"]["after"]
    assert snapshot(second) == before
    assert module.commands == []  # no keytool run for an unchanged JKS
    assert run(make_params(chain, dest, **args), check_mode=True)["changed"] is False


def _changed_kinds(before, after):
    return sorted(kind for kind in after if before.get(kind) != after[kind])


@pytest.mark.parametrize("change, rewritten", [
    ({"pkcs12_passphrase": "other p12 pass"}, ["pkcs12"]),
    ({"keystore_password": "other-store-pass"}, ["keystore"]),
    ({"keystore_alias": "other-alias"}, ["keystore", "pkcs12"]),  # one alias for both PKCS#12 outputs
    ({"key_output_passphrase": KEY_PASS}, ["combined", "key"]),
    ({"pkcs12_compat": True}, ["keystore", "pkcs12"]),  # both are PKCS#12 files
])
def test_a_changed_setting_rewrites_only_its_outputs(chain, dest, change, rewritten):
    args = every_output(dest)
    before = snapshot(run(make_params(chain, dest, **args)))
    result = run(make_params(chain, dest, **dict(args, **change)))
    assert result["changed"] is True
    after = snapshot(result)
    assert _changed_kinds(before, after) == rewritten
    # and the new settings are in force
    if "pkcs12_passphrase" in change:
        pkcs12.load_pkcs12(after["pkcs12"][0], change["pkcs12_passphrase"].encode())
    if "keystore_alias" in change:
        assert pkcs12.load_pkcs12(after["keystore"][0], STORE_PASS.encode()).cert.friendly_name == b"other-alias"
    again = run(make_params(chain, dest, **dict(args, **change)))
    assert again["changed"] is False


@needs_openssl
def test_pkcs12_compat_also_applies_to_an_existing_pkcs12_keystore(chain, dest):
    """Turning pkcs12_compat on must re-encrypt a PKCS12 keystore already on disk (old Java reads it)."""
    args = every_output(dest)
    run(make_params(chain, dest, **args))
    assert "AES-256-CBC" in openssl_info(args["keystore_path"], STORE_PASS)[1]
    run(make_params(chain, dest, **dict(args, pkcs12_compat=True)))
    rc, text = openssl_info(args["keystore_path"], STORE_PASS)
    assert rc == 0 and "AES" not in text and "pbeWithSHA1And3-KeyTripleDES-CBC" in text, text


@needs_keytool
def test_jks_keystore_rewritten_for_its_password_not_for_pkcs12_compat(chain, dest):
    args = every_output(dest, "JKS")
    before = snapshot(run(make_params(chain, dest, **args)))
    # keytool writes a JKS the same whichever PKCS#12 it converted: no needless rewrite
    args["pkcs12_compat"] = True
    middle = snapshot(run(make_params(chain, dest, **args)))
    assert _changed_kinds(before, middle) == ["pkcs12"]
    after = snapshot(run(make_params(chain, dest, **{**args, "keystore_password": "new-store-pass"})))
    assert _changed_kinds(middle, after) == ["keystore"]
    assert keytool_list(args["keystore_path"], "new-store-pass")[0] == 0
    assert keytool_list(args["keystore_path"], STORE_PASS)[0] != 0


def test_mode_change_of_an_encrypted_output_is_fixed(chain, dest):
    args = every_output(dest)
    run(make_params(chain, dest, **args))
    os.chmod(args["pkcs12_path"], 0o644)
    result = run(make_params(chain, dest, **args))
    assert result["changed"] is True and mode_of(args["pkcs12_path"]) == 0o600
    assert run(make_params(chain, dest, **args))["changed"] is False


@pytest.mark.parametrize("kind", ["pkcs12", "keystore", "key", "combined"])
def test_tampered_encrypted_output_is_rewritten(chain, dest, kind):
    args = every_output(dest, key_output_passphrase=KEY_PASS)
    first = run(make_params(chain, dest, **args))
    before = snapshot(first)
    path = first["files"][kind]
    data = bytearray(pki.read(path))
    if kind in ("pkcs12", "keystore"):
        data[len(data) // 2] ^= 0x01  # one bit, same length, same mode and owner
    else:
        # still a well-formed PEM (a PEM with broken base64 is not recognised as ours and is refused):
        # one base64 character of the key body replaced by another
        lines = bytes(data).split(b"\n")
        middle = [i for i, line in enumerate(lines) if line and not line.startswith(b"-----")][-2]
        lines[middle] = (b"B" if lines[middle][:1] != b"B" else b"C") + lines[middle][1:]
        data = bytearray(b"\n".join(lines))
    with open(path, "r+b") as handle:
        handle.write(bytes(data))
    result = run(make_params(chain, dest, **args))
    assert result["changed"] is True
    assert _changed_kinds(before, snapshot(result)) == [kind]
    fixed = pki.read(path)
    assert fixed != bytes(data)
    if kind in ("pkcs12", "keystore"):
        password = P12_PASS if kind == "pkcs12" else STORE_PASS
        assert certs.key_matches(chain.leaf, pkcs12.load_pkcs12(fixed, password.encode()).key)
    else:
        assert certs.load_client_bundle(pki.read(first["files"]["cert"]) + fixed, path, KEY_PASS)
    assert run(make_params(chain, dest, **args))["changed"] is False


@pytest.mark.parametrize("damage", ["missing", "garbage", "other tokens"])
def test_lost_state_file_rewrites_encrypted_outputs_once(chain, dest, damage):
    args = every_output(dest)
    before = snapshot(run(make_params(chain, dest, **args)))
    state = os.path.join(dest, clientcert.STATE_FILE)
    if damage == "missing":
        os.unlink(state)
    elif damage == "garbage":
        with open(state, "w") as handle:
            handle.write("{not json")
    else:
        entries = json.loads(pki.read(state))
        for entry in entries.values():
            entry["token"] = "0" * 64
        with open(state, "w") as handle:
            json.dump(entries, handle)
    result = run(make_params(chain, dest, **args))
    assert result["changed"] is True
    assert _changed_kinds(before, snapshot(result)) == ["keystore", "pkcs12"]
    assert run(make_params(chain, dest, **args))["changed"] is False


# --- backup, state=absent, rotation ---------------------------------------------------------------------------

def renewed(chain, days=730):
    """A renewed client certificate: same key, same issuer, later notAfter."""
    cert, _key = pki.make_cert("Test client", key=chain.leaf_key, issuer=chain.inter, issuer_key=chain.inter_key,
                               not_after=pki.NOW + days * pki.DAY)

    class Renewed(object):
        leaf, leaf_key, inter = cert, chain.leaf_key, chain.inter
    return Renewed


def test_backup_keeps_each_replaced_file_with_its_mode_and_owner(chain, dest):
    args = every_output(dest, owner="nobody", group="65534", key_mode="0640", backup=True)
    first = run(make_params(chain, dest, **args))
    old = snapshot(first)
    assert first["backups"] == []  # nothing was replaced
    new = renewed(chain)
    result = run(make_params(new, dest, **args))
    assert result["changed"] is True
    # the key is the same key in the same form: not replaced, not backed up
    replaced = {"cert", "combined", "pkcs12", "keystore"}
    assert _changed_kinds(old, snapshot(result)) == sorted(replaced)
    assert len(result["backups"]) == len(replaced)
    for kind in replaced:
        path = first["files"][kind]
        [backup] = [b for b in result["backups"] if b.startswith(path + ".")]
        assert backup.endswith("~")
        data, _ino, mode, uid, gid = old[kind]
        st = os.lstat(backup)
        assert pki.read(backup) == data
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (mode, uid, gid) == \
            ((0o640 if kind != "cert" else 0o644), 65534, 65534)
    assert run(make_params(new, dest, **args))["backups"] == []


def test_backup_false_keeps_nothing(chain, dest):
    args = every_output(dest)
    run(make_params(chain, dest, **args))
    result = run(make_params(renewed(chain), dest, **args))
    assert result["backups"] == []
    assert not [n for n in os.listdir(dest) if n.endswith("~")]


def test_state_absent_removes_every_output_and_the_state_file(chain, dest):
    args = every_output(dest, key_output_passphrase=KEY_PASS)
    present = run(make_params(chain, dest, **args))
    paths = sorted(present["files"].values())
    state = os.path.join(dest, clientcert.STATE_FILE)
    assert os.path.exists(state)

    check = run(make_params(chain, dest, state="absent", **args), check_mode=True)
    assert check["changed"] is True and sorted(check["removed"]) == sorted(paths + [state])
    assert all(os.path.exists(p) for p in paths)

    result = run(make_params(chain, dest, state="absent", **args))
    assert result["changed"] is True
    assert sorted(result["removed"]) == sorted(paths + [state])
    assert os.path.isdir(dest) and os.listdir(dest) == []
    assert result["diff"]["after"] == ""
    assert run(make_params(chain, dest, state="absent", **args))["changed"] is False


def test_state_absent_needs_no_certificate(dest):
    """planned_outputs: the controller renders nothing for state=absent, every path the arguments name."""
    args = make_args(dest, state="absent", pkcs12_path=os.path.join(dest, "c.p12"))
    planned = outputs.planned_outputs(args)
    assert [(o["kind"], o["path"], o["content"]) for o in planned] == [
        ("cert", os.path.join(dest, "client.crt"), None), ("key", os.path.join(dest, "client.key"), None),
        ("chain", os.path.join(dest, "chain.crt"), None), ("pkcs12", os.path.join(dest, "c.p12"), None)]


def test_previous_not_after_across_a_rotation(chain, dest):
    args = every_output(dest)
    assert run(make_params(chain, dest, **args))["previous_not_after"] is None  # a fresh host
    old_not_after = certs.describe(chain.leaf)["not_after"]
    assert run(make_params(chain, dest, **args))["previous_not_after"] == old_not_after

    new = renewed(chain)
    result = run(make_params(new, dest, **args))
    assert result["changed"] is True
    assert result["previous_not_after"] == old_not_after
    new_not_after = certs.describe(new.leaf)["not_after"]
    assert new_not_after > old_not_after
    # the rotation replaced every output that holds the certificate, in this one run
    data = pki.read(result["files"]["cert"])
    assert pem_blocks(data, ("CERTIFICATE",)) == [pki.der(new.leaf)]
    assert certs.fingerprint(pkcs12.load_pkcs12(pki.read(args["pkcs12_path"]), P12_PASS.encode())
                             .cert.certificate) == certs.fingerprint(new.leaf)
    assert certs.fingerprint(pkcs12.load_pkcs12(pki.read(args["keystore_path"]), STORE_PASS.encode())
                             .cert.certificate) == certs.fingerprint(new.leaf)
    assert certs.fingerprint(new.leaf) in result["diff"]["after"]
    assert certs.fingerprint(chain.leaf) in result["diff"]["before"]
    again = run(make_params(new, dest, **args))
    assert again["changed"] is False and again["previous_not_after"] == new_not_after
    datetime.datetime.fromisoformat(again["previous_not_after"])  # ISO 8601


def test_rotation_to_a_new_key_replaces_the_key_too(chain, dest):
    args = every_output(dest)
    before = snapshot(run(make_params(chain, dest, **args)))
    other = pki.Chain(prefix="Renewed")
    after = snapshot(run(make_params(other, dest, **args)))
    assert _changed_kinds(before, after) == ["cert", "chain", "combined", "key", "keystore", "pkcs12"]


# --- the controller side of the outputs -----------------------------------------------------------------------

@pytest.mark.parametrize("missing, option", [
    ({"pkcs12_path": "/x/c.p12"}, "pkcs12_passphrase"),
    ({"keystore_path": "/x/c.jks"}, "keystore_password"),
])
def test_passwords_required_for_pkcs12_outputs(chain, missing, option):
    with pytest.raises(VipMtlsError, match="%s is required" % option):
        outputs.render_outputs(chain.leaf_key, chain.leaf, [chain.inter], make_args("/x", **missing))


def test_tokens_depend_on_the_meaning_not_the_salt(chain):
    args = make_args("/x", **every_output("/x", key_output_passphrase=KEY_PASS))
    first = outputs.render_outputs(chain.leaf_key, chain.leaf, [chain.inter], args)
    second = outputs.render_outputs(chain.leaf_key, chain.leaf, [chain.inter], args)
    assert [o["token"] for o in first] == [o["token"] for o in second]
    assert [o["compare"] for o in first] == ["pem", "token", "pem", "token", "token", "token"]
    tokens = [o["token"] for o in first if o["token"]]
    assert len(set(tokens)) == len(tokens)
    text = repr(first)
    for secret in (P12_PASS, STORE_PASS, KEY_PASS):
        assert secret not in text
