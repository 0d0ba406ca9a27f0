# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Trust-store backends on the target (standard library only).

A backend needs from the Ansible module only: ``check_mode``, ``run_command`` and
``get_bin_path`` — unit tests pass a small fake with those three.
"""

from __future__ import annotations

import os
import re

from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.module_utils.fileutil import read_bytes, write_atomic
from ansible_collections.vip.mtls.plugins.module_utils.pem import (
    certificate_ders,
    der_fingerprint,
    der_to_pem,
    normalise_fingerprint,
)

OS_RELEASE = "/etc/os-release"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def parse_os_release(text):
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip("\"'")
    return values


def detect_os_family(text):
    """'debian' for Debian and Ubuntu-like systems; raises for families not supported yet."""
    values = parse_os_release(text)
    os_id = values.get("ID", "").lower()
    id_like = values.get("ID_LIKE", "").lower().split()
    if os_id == "debian" or "debian" in id_like or os_id == "ubuntu" or "ubuntu" in id_like:
        return "debian"
    raise VipMtlsError(
        "the system trust store of this OS is not supported yet (ID=%r, ID_LIKE=%r in %s); "
        "supported: Debian and Ubuntu families. Until then, put the root into an application "
        "bundle or keystore instead." % (values.get("ID", ""), values.get("ID_LIKE", ""), OS_RELEASE),
        os_id=os_id, os_id_like=" ".join(id_like),
    )


class DebianSystemStore(object):
    """/usr/local/share/ca-certificates/*.crt, refreshed by update-ca-certificates."""

    family = "debian"
    anchor_dir = "/usr/local/share/ca-certificates"
    bundle = "/etc/ssl/certs/ca-certificates.crt"
    refresh_tool = "update-ca-certificates"
    extension = ".crt"  # update-ca-certificates ignores files without it

    def __init__(self, module):
        self.module = module

    def refresh(self):
        tool = self.module.get_bin_path(self.refresh_tool, opt_dirs=["/usr/sbin", "/sbin"])
        if not tool:
            raise VipMtlsError("%s is not installed; install the ca-certificates package" % self.refresh_tool)
        rc, out, err = self.module.run_command([tool])
        return rc, (out + err).strip()

    def bundle_fingerprints(self):
        data = read_bytes(self.bundle, limit=64 * 1024 * 1024) or b""
        return {der_fingerprint(der) for der in certificate_ders(data)}


def system_store(module, os_release_path=OS_RELEASE):
    try:
        with open(os_release_path) as handle:
            text = handle.read()
    except OSError as exc:
        raise VipMtlsError("cannot read %s to detect the OS family (%s)" % (os_release_path, exc))
    detect_os_family(text)
    return DebianSystemStore(module)


def check_name(name):
    if not name or not _NAME.match(name) or ".." in name:
        raise VipMtlsError(
            "name=%r is not a plain file base name: use letters, digits, '.', '_' and '-' "
            "(for example digicert-global-root-g2)" % (name,)
        )


def anchor_files(name, ders, extension):
    """Wanted file name -> DER: NAME.crt for one certificate, NAME-<12 hex>.crt for several."""
    if len(ders) == 1:
        return {name + extension: ders[0]}
    files = {}
    for der in ders:
        short = der_fingerprint(der).replace(":", "")[:12].lower()
        files["%s-%s%s" % (name, short, extension)] = der
    return files


def managed_files(directory, name, extension):
    """The files this module manages for ``name`` that exist now."""
    pattern = re.compile(r"^%s(-[0-9a-f]{12})?%s$" % (re.escape(name), re.escape(extension)))
    try:
        entries = os.listdir(directory)
    except FileNotFoundError:
        return []
    return sorted(entry for entry in entries if pattern.match(entry))


def _current_der(path):
    ders = certificate_ders(read_bytes(path) or b"")
    return ders[0] if len(ders) == 1 else None


def manage_anchors(store, name, ders, state, pins=None):
    """Make the store hold exactly ``ders`` under ``name`` (or none, for absent).

    Returns the per-store result: changed, paths, refreshed, anchors and the diff.
    """
    check_name(name)
    wanted_pins = {normalise_fingerprint(pin) for pin in (pins or [])}
    wanted = anchor_files(name, ders, store.extension) if state == "present" else {}
    existing = managed_files(store.anchor_dir, name, store.extension)
    if state == "absent":
        # Only files holding a certificate named by fingerprint (pin or content) are removed, so a file
        # an administrator placed under the same name survives.
        wanted_pins |= {normalise_fingerprint(der_fingerprint(der)) for der in ders}
        if not wanted_pins:
            raise VipMtlsError("state=absent needs the certificate (src or content) or its fingerprint_sha256, "
                               "so that only that anchor is removed")
        existing = [f for f in existing if _pinned(os.path.join(store.anchor_dir, f), wanted_pins)]
    for filename in wanted:
        path = os.path.join(store.anchor_dir, filename)
        if os.path.lexists(path) and not (os.path.islink(path) or os.path.isfile(path)):
            raise VipMtlsError("%s exists and is not a regular file; remove it so the anchor can be written" % path)

    writes = {}
    for filename, der in wanted.items():
        if _current_der(os.path.join(store.anchor_dir, filename)) != der:
            writes[filename] = der
    removals = [f for f in existing if f not in wanted]

    before = {f: _describe_file(os.path.join(store.anchor_dir, f)) for f in existing}
    after = dict(before)
    for filename in removals:
        after.pop(filename, None)
    for filename, der in wanted.items():
        after[filename] = der_fingerprint(der)

    changed = bool(writes or removals)
    refreshed = False
    missing_from_bundle = []
    if state == "present" and not changed:
        # The files are right; make sure the refreshed bundle really carries them too.
        in_bundle = store.bundle_fingerprints()
        missing_from_bundle = [der_fingerprint(d) for d in wanted.values() if der_fingerprint(d) not in in_bundle]
        changed = bool(missing_from_bundle)

    if changed and not store.module.check_mode:
        _apply(store, writes, removals)
        refreshed = True
        if state == "present":
            _confirm_in_bundle(store, wanted)

    paths = [os.path.join(store.anchor_dir, f) for f in sorted(wanted)]
    return {
        "changed": changed,
        "paths": paths,
        "removed": [os.path.join(store.anchor_dir, f) for f in removals],
        "refreshed": refreshed,
        "anchors": [{"fingerprint_sha256": der_fingerprint(der), "path": os.path.join(store.anchor_dir, f)}
                    for f, der in sorted(wanted.items())],
        "diff": {
            "before_header": store.anchor_dir,
            "after_header": store.anchor_dir,
            "before": _diff_text(before),
            "after": _diff_text(after) if not missing_from_bundle else
            _diff_text(after) + "(refresh: %d anchor(s) missing from %s)\n" % (len(missing_from_bundle), store.bundle),
        },
    }


def _pinned(path, wanted_pins):
    der = _current_der(path)
    return der is not None and normalise_fingerprint(der_fingerprint(der)) in wanted_pins


def _describe_file(path):
    der = _current_der(path)
    return der_fingerprint(der) if der else "(not a single certificate)"


def _diff_text(files):
    return "".join("%s  %s\n" % (name, fp) for name, fp in sorted(files.items()))


def _apply(store, writes, removals):
    """Write and remove, refresh once; on a failed refresh put the old files back."""
    saved = {}
    for filename in list(writes) + removals:
        path = os.path.join(store.anchor_dir, filename)
        saved[path] = read_bytes(path)
    try:
        for filename, der in writes.items():
            write_atomic(os.path.join(store.anchor_dir, filename), der_to_pem(der).encode("ascii"),
                         0o644, 0, 0)
        for filename in removals:
            os.unlink(os.path.join(store.anchor_dir, filename))
        rc, output = store.refresh()
    except VipMtlsError:
        _restore(store, saved)  # e.g. the refresh tool is missing: nothing may stay half-done
        raise
    except OSError as exc:
        _restore(store, saved)
        raise VipMtlsError("could not change %s (%s); the previous files were put back" % (store.anchor_dir, exc))
    if rc != 0:
        _restore(store, saved)
        store.refresh()
        raise VipMtlsError("%s failed (rc=%d); the previous anchor files were put back and the store "
                           "refreshed again. Output: %s" % (store.refresh_tool, rc, output),
                           refresh_output=output)


def _restore(store, saved):
    for path, content in saved.items():
        try:
            if content is None:
                if os.path.lexists(path) and not os.path.isdir(path):
                    os.unlink(path)
            else:
                write_atomic(path, content, 0o644, 0, 0)
        except OSError:
            continue  # put back what can be put back; the caller reports the original failure


def _confirm_in_bundle(store, wanted):
    in_bundle = store.bundle_fingerprints()
    missing = [f for f, der in sorted(wanted.items()) if der_fingerprint(der) not in in_bundle]
    if missing:
        raise VipMtlsError(
            "%s ran, but %s does not contain %s; check the tool's configuration (%s)"
            % (store.refresh_tool, store.bundle, ", ".join(missing), "/etc/ca-certificates.conf"),
        )
