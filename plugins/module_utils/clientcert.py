# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing the client certificate's outputs on the target (standard library only).

The controller renders every output (see outputs.py); this file decides which ones differ from
what is on disk and writes those, each atomically, never more readable than asked. Uses from the
Ansible module ``check_mode``, ``get_bin_path``, ``run_command`` (JKS conversion only) and the
SELinux helpers ``selinux_context``/``set_context_if_different``.
"""

from __future__ import annotations

import base64
import grp
import hashlib
import json
import os
import pwd
import re
import shutil
import stat
import tempfile
import time

from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.module_utils.fileutil import (
    attrs_differ,
    check_absolute,
    check_trusted_directory,
    ensure_directory,
    parse_mode,
    read_bytes,
    resolve_gid,
    resolve_uid,
    write_atomic,
)
from ansible_collections.vip.mtls.plugins.module_utils.pem import der_fingerprint, pem_blocks
from ansible_collections.vip.mtls.plugins.module_utils.tls_wire import describe_der

KEY_LABELS = ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY")
CERT_LABELS = ("CERTIFICATE",)
STATE_FILE = ".vip-mtls-outputs.json"  # tokens of encrypted outputs, which cannot be compared by content
JKS_MAGIC = b"\xfe\xed\xfe\xed"


def check_modes(params):
    key_mode, cert_mode, dir_mode = (_plain_mode(params, option) for option in ("key_mode", "cert_mode", "dir_mode"))
    if not key_mode & 0o400:
        raise VipMtlsError("key_mode %04o: the owner could not read the private key; use '0600' or '0640'" % key_mode)
    if key_mode & 0o007:
        raise VipMtlsError("key_mode %04o would let every user on the host read the private key; use '0600' "
                           "(owner only) or '0640' (owner and group)" % key_mode)
    if dir_mode & 0o022:
        raise VipMtlsError("dir_mode %04o would let group or others replace the key and certificate; use "
                           "'0750' or '0700'" % dir_mode)
    return key_mode, cert_mode, dir_mode


def _plain_mode(params, option):
    """A file mode without setuid, setgid or sticky bits, which these files never need. They appear when a mode
    is written without quotes: YAML reads key_mode: 640 as the decimal number 640, which is octal 1200."""
    value = params[option]
    mode = parse_mode(value, option)
    if mode & 0o7000:
        hint = ""
        if isinstance(value, int) and re.match(r"^[0-7]{3,4}$", str(value)):
            hint = " - YAML read %s: %s as a decimal number; write it quoted, %s: '0%s'" % (
                option, value, option, str(value)[-3:])
        raise VipMtlsError("%s %04o sets setuid, setgid or sticky bits, which a certificate or key file never "
                           "needs%s" % (option, mode, hint))
    return mode


def check_outputs(outputs, dest_dir):
    check_absolute(dest_dir, "dest_dir")
    paths = [o["path"] for o in outputs]
    for output in outputs:
        check_absolute(output["path"], "%s_path" % output["kind"])
    if len(set(paths)) != len(paths):
        raise VipMtlsError("every output needs its own file; these paths repeat: %s"
                           % sorted({p for p in paths if paths.count(p) > 1}))


def _labels(output):
    if output["kind"] in ("cert", "chain"):
        return CERT_LABELS
    if output["kind"] == "key":
        return KEY_LABELS
    return CERT_LABELS + KEY_LABELS


def _meaning(output, data):
    """What makes two PEM files the same output: the DER inside, not line breaks or encodings."""
    return pem_blocks(data or b"", _labels(output))


def _looks_ours(output, data):
    """Could this module have written ``data`` for this output? Guards against overwriting a
    system file named by mistake (cert_path: /etc/shadow)."""
    if not data.strip():
        return True
    if output["kind"] in ("pkcs12", "keystore"):
        return data[:1] == b"\x30" or data.startswith(JKS_MAGIC)
    return bool(_meaning(output, data))


def preflight(outputs, dest_dir, uid):
    """Everything that could stop a write is checked before the first one: nothing half-done."""
    check_trusted_directory(dest_dir, uid)
    for output in outputs:
        path, kind = output["path"], output["kind"]
        parent = os.path.dirname(path)
        if parent.rstrip("/") != dest_dir.rstrip("/"):
            if not os.path.isdir(parent):
                raise VipMtlsError("the directory of %s does not exist; create it or use a path in dest_dir" % path)
            check_trusted_directory(parent, uid)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(st.st_mode):
            continue  # replaced by a file, never written through
        if not stat.S_ISREG(st.st_mode):
            raise VipMtlsError("%s_path %s exists and is not a regular file; remove it or choose another path"
                               % (kind, path))
        if not _looks_ours(output, read_bytes(path)):
            raise VipMtlsError(
                "%s_path %s already exists and does not hold what this module writes there: refusing to replace "
                "a file this module did not write. Remove it, or choose another path" % (kind, path))


class OutputState(object):
    """dest_dir/.vip-mtls-outputs.json: per path, the sha256 of what was written and its token."""

    def __init__(self, dest_dir):
        self.path = os.path.join(dest_dir, STATE_FILE)
        self.entries = {}
        data = read_bytes(self.path)
        if data:
            try:
                self.entries = json.loads(data.decode("utf-8"))
            except ValueError:
                self.entries = {}  # unreadable: every token output is rewritten once
        self.dirty = False

    def matches(self, path, token, data):
        entry = self.entries.get(path) or {}
        return bool(data) and entry.get("token") == token and entry.get("sha256") == _sha256(data)

    def record(self, path, token):
        data = read_bytes(path)
        self.entries[path] = {"token": token, "sha256": _sha256(data or b"")}
        self.dirty = True

    def forget(self, path):
        if self.entries.pop(path, None) is not None:
            self.dirty = True

    def save(self):
        if self.dirty:
            write_atomic(self.path, json.dumps(self.entries, indent=1, sort_keys=True).encode("utf-8"), 0o600,
                         os.geteuid(), os.getegid())


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def deploy(module, params):
    """Write each output whose meaning, mode or owner differs (state=present), or remove them all."""
    outputs = params["_outputs"] or []
    if not outputs:
        raise VipMtlsError("src must be resolved by the vip.mtls.client_cert action plugin; "
                           "call the module by its full name vip.mtls.client_cert")
    dest_dir = params["dest_dir"]
    check_outputs(outputs, dest_dir)
    key_mode, cert_mode, dir_mode = check_modes(params)
    uid = resolve_uid(params["owner"])
    gid = resolve_gid(params["group"])
    want_uid = uid if uid != -1 else os.geteuid()
    want_gid = gid if gid != -1 else os.getegid()
    preflight(outputs, dest_dir, uid)
    if params["state"] == "absent":
        return remove(module, outputs, dest_dir)

    previous = _previous_certificate(outputs)
    changed = ensure_directory(dest_dir, dir_mode, uid, gid, module.check_mode)
    state = OutputState(dest_dir)
    before, after, files, backups = [], [], {}, []
    for output in outputs:
        path = output["path"]
        mode = key_mode if output["secret"] else cert_mode
        files[output["kind"]] = path
        wanted = base64.b64decode(output["content"])
        current = None if os.path.islink(path) else read_bytes(path)
        if output["compare"] == "pem":
            same = current is not None and _meaning(output, current) == _meaning(output, wanted)
        else:
            same = current is not None and state.matches(path, output["token"], current)
        same_attrs = current is not None and not attrs_differ(path, mode, want_uid, want_gid)
        before.append(_describe(output, path, current, same) + _mode_owner(path))
        after.append(_describe(output, path, wanted, True) + _attrs_text(mode, want_uid, want_gid))
        if same and same_attrs:
            continue
        changed = True
        if module.check_mode:
            continue
        if params["backup"] and current is not None and not same:
            backups.append(_backup(path, current))
        _write(module, output, wanted, mode, want_uid, want_gid)
        if output["compare"] == "token":
            state.record(path, output["token"])
    if not module.check_mode:
        state.save()
    return {
        "changed": changed,
        "files": files,
        "backups": backups,
        "previous_not_after": previous["not_after"],
        "previous_fingerprint_sha256": previous["fingerprint_sha256"],
        "diff": {"before": "".join(before), "after": "".join(after)},
    }


def _write(module, output, data, mode, uid, gid):
    """A fresh file every time: narrowing the mode of a key file in place would leave a window."""
    context = _selinux_context(module, output["path"])
    if output.get("convert") == "jks":
        data = _to_jks(module, output, data)
    write_atomic(output["path"], data, mode, uid, gid,
                 before_rename=lambda tmp: _apply_selinux_context(module, tmp, context))


def _to_jks(module, output, pkcs12_data):
    """JKS cannot be written with Python's standard library: keytool converts the PKCS#12,
    in a private temporary directory, the store password passed in the environment."""
    keytool = module.get_bin_path("keytool", opt_dirs=["/usr/lib/jvm/default-java/bin"])
    if not keytool:
        raise VipMtlsError("keystore_type JKS needs keytool on the host (install a Java runtime) or use PKCS12")
    workdir = tempfile.mkdtemp(prefix=".vip-mtls-jks-", dir=os.path.dirname(output["path"]))
    old_umask = os.umask(0o077)
    try:
        source = os.path.join(workdir, "in.p12")
        target = os.path.join(workdir, "out.jks")
        with open(source, "wb") as handle:
            handle.write(pkcs12_data)
        rc, out, err = module.run_command(
            [keytool, "-importkeystore", "-noprompt", "-srckeystore", source, "-srcstoretype", "PKCS12",
             "-srcstorepass:env", "VIP_MTLS_STOREPASS", "-destkeystore", target, "-deststoretype", "JKS",
             "-deststorepass:env", "VIP_MTLS_STOREPASS", "-destkeypass:env", "VIP_MTLS_STOREPASS",
             "-srcalias", output["alias"], "-destalias", output["alias"]],
            environ_update={"VIP_MTLS_STOREPASS": output["password"]})
        if rc != 0:
            raise VipMtlsError("keytool could not write the JKS keystore (rc=%d): %s" % (rc, (out + err).strip()))
        with open(target, "rb") as handle:
            return handle.read()
    finally:
        os.umask(old_umask)
        shutil.rmtree(workdir, ignore_errors=True)


def _selinux_context(module, path):
    """The SELinux context of the file being replaced, so the new file keeps it; None elsewhere."""
    if not hasattr(module, "selinux_enabled") or not module.selinux_enabled() or not os.path.exists(path):
        return None
    return module.selinux_context(path)


def _apply_selinux_context(module, tmp_path, context):
    if context:
        module.set_context_if_different(tmp_path, context, False)


def _backup(path, data):
    """PATH.YYYYmmdd-HHMMSS~ with the same mode and owner as the file it saves."""
    st = os.lstat(path)
    stamp = "%s.%s" % (path, time.strftime("%Y%m%d-%H%M%S"))
    backup_path, count = stamp + "~", 0
    while os.path.lexists(backup_path):  # two runs within one second keep both backups
        count += 1
        backup_path = "%s.%d~" % (stamp, count)
    write_atomic(backup_path, data, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
    return backup_path


def remove(module, outputs, dest_dir):
    """state=absent: every output that exists goes (the preflight checked they are ours)."""
    state = OutputState(dest_dir)
    removed = [o["path"] for o in outputs if os.path.lexists(o["path"])]
    if os.path.lexists(state.path):
        removed.append(state.path)
    if not module.check_mode:
        for path in removed:
            os.unlink(path)
    return {
        "changed": bool(removed),
        "files": {},
        "removed": removed,
        "diff": {"before": "".join("%s present\n" % p for p in removed), "after": ""},
    }


def _previous_certificate(outputs):
    """not_after and fingerprint of the certificate at cert_path before this run (None if none)."""
    cert = next((o for o in outputs if o["kind"] == "cert"), None)
    ders = pem_blocks(read_bytes(cert["path"]) or b"", CERT_LABELS) if cert else []
    if not ders:
        return {"not_after": None, "fingerprint_sha256": None}
    described = describe_der(ders[0])
    return {"not_after": described["not_after"], "fingerprint_sha256": described["fingerprint_sha256"]}


def _describe(output, path, data, same):
    kind = output["kind"]
    if data is None:
        return "%s: %s absent\n" % (kind, path)
    if output["compare"] == "token" or kind == "key":
        return "%s: %s (%s)\n" % (kind, path, "the wanted content" if same else "other content; not shown")
    fps = [der_fingerprint(d) for d in pem_blocks(data, CERT_LABELS)]
    extra = " + private key" if kind == "combined" else ""
    return "%s: %s %s%s\n" % (kind, path, ", ".join(fps) or "no certificate", extra)


def _attrs_text(mode, uid, gid):
    return "  mode %04o owner %s group %s\n" % (mode, _name(pwd.getpwuid, uid), _name(grp.getgrgid, gid))


def _name(lookup, number):
    try:
        return "%s(%d)" % (lookup(number)[0], number)
    except KeyError:
        return str(number)


def _mode_owner(path):
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return ""
    return _attrs_text(stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
