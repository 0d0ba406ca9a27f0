# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deploying the client certificate, key and chain on the target (standard library only).

Uses from the Ansible module only ``check_mode``.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat

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

KEY_LABELS = ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY")


def output_plan(params):
    """(kind, path, wanted PEM text, mode) for every output this run manages."""
    dest_dir = params["dest_dir"]
    check_absolute(dest_dir, "dest_dir")
    key_mode = parse_mode(params["key_mode"], "key_mode")
    cert_mode = parse_mode(params["cert_mode"], "cert_mode")
    if key_mode & 0o007:
        raise VipMtlsError("key_mode %04o would let every user on the host read the private key; use '0600' "
                           "(owner only) or '0640' (owner and group)" % key_mode)
    plan = [
        ("cert", params["cert_path"] or os.path.join(dest_dir, "client.crt"), params["_cert_pem"], cert_mode),
        ("key", params["key_path"] or os.path.join(dest_dir, "client.key"), params["_key_pem"], key_mode),
    ]
    if params["_chain_pem"]:
        plan.append(("chain", params["chain_path"] or os.path.join(dest_dir, "chain.crt"),
                     params["_chain_pem"], cert_mode))
    paths = [path for _kind, path, _pem, _mode in plan]
    for kind, path, _pem, _mode in plan:
        check_absolute(path, "%s_path" % kind)
    if len(set(paths)) != len(paths):
        raise VipMtlsError("cert_path, key_path and chain_path must be different files: %s" % paths)
    return plan


def preflight(plan, dest_dir, uid):
    """Everything that could stop a write is checked before the first one: nothing half-done."""
    check_trusted_directory(dest_dir, uid)
    for kind, path, _pem, _mode in plan:
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
        current = read_bytes(path)
        if current.strip() and not _meaning(kind, current):
            what = "private key" if kind == "key" else "certificate"
            raise VipMtlsError(
                "%s_path %s already exists and holds no PEM %s: refusing to replace a file this module did "
                "not write. Remove it, or choose another path" % (kind, path, what))


def _meaning(kind, data):
    """What makes two files the same output: the DER inside, not line breaks or encodings."""
    labels = KEY_LABELS if kind == "key" else ("CERTIFICATE",)
    return pem_blocks(data or b"", labels)


def _describe(kind, path, data, fingerprint):
    if data is None:
        return "%s: %s absent\n" % (kind, path)
    if kind == "key":
        return "%s: %s (private key for certificate %s)\n" % (kind, path, fingerprint) if fingerprint \
            else "%s: %s (another private key; not shown)\n" % (kind, path)
    fps = ", ".join(der_fingerprint(d) for d in _meaning(kind, data)) or "no certificate"
    return "%s: %s %s\n" % (kind, path, fps)


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


def deploy(module, params, cert_fingerprint):
    """Write each output whose meaning, mode or owner differs. Returns the module result."""
    if not params["_cert_pem"] or not params["_key_pem"]:
        raise VipMtlsError("src must be resolved by the vip.mtls.client_cert action plugin; "
                           "call the module by its full name vip.mtls.client_cert")
    uid = resolve_uid(params["owner"])
    gid = resolve_gid(params["group"])
    plan = output_plan(params)
    dir_mode = parse_mode(params["dir_mode"], "dir_mode")
    if dir_mode & 0o022:
        raise VipMtlsError("dir_mode %04o would let group or others replace the key and certificate; use "
                           "'0750' or '0700'" % dir_mode)
    preflight(plan, params["dest_dir"], uid)
    changed = ensure_directory(params["dest_dir"], dir_mode, uid, gid, module.check_mode)

    before, after, files = [], [], {}
    for kind, path, pem, mode in plan:
        files[kind] = path
        wanted = pem.encode("ascii")
        current = read_bytes(path)
        if os.path.islink(path):
            current = None  # a link is replaced by a file, never written through
        same_content = current is not None and _meaning(kind, current) == _meaning(kind, wanted)
        want_uid = uid if uid != -1 else os.geteuid()
        want_gid = gid if gid != -1 else os.getegid()
        same_attrs = current is not None and not attrs_differ(path, mode, want_uid, want_gid)
        before.append(_describe(kind, path, current, cert_fingerprint if same_content else None)
                      + _mode_owner(path))
        after.append(_describe(kind, path, wanted, cert_fingerprint)
                     + _attrs_text(mode, want_uid, want_gid))
        if same_content and same_attrs:
            continue
        changed = True
        if not module.check_mode:
            # Always a fresh file: narrowing the mode of a key file in place would leave a window.
            write_atomic(path, wanted, mode, want_uid, want_gid)

    return {
        "changed": changed,
        "files": files,
        "diff": {"before": "".join(before), "after": "".join(after)},
    }
