# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The operating system's trust store, per OS family (standard library only).

Each family keeps local anchors as PEM files in one directory and rebuilds its extracted bundle
with one command. Uses from the Ansible module only ``check_mode``, ``run_command`` and
``get_bin_path``; ``root`` lets tests run a family's logic against a fake root directory.
"""

from __future__ import annotations

import os

from ansible_collections.vip.mtls.plugins.module_utils.anchors import check_name, entry_names, entry_pattern
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.module_utils.fileutil import read_bytes, write_atomic
from ansible_collections.vip.mtls.plugins.module_utils.pem import (
    certificate_ders,
    der_fingerprint,
    der_to_pem,
    normalise_fingerprint,
)

OS_RELEASE = "/etc/os-release"

# family: (anchor directory, extracted PEM bundle, refresh command)
FAMILIES = {
    "debian": ("/usr/local/share/ca-certificates", "/etc/ssl/certs/ca-certificates.crt",
               ["update-ca-certificates"]),
    "alpine": ("/usr/local/share/ca-certificates", "/etc/ssl/certs/ca-certificates.crt",
               ["update-ca-certificates"]),
    "redhat": ("/etc/pki/ca-trust/source/anchors", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
               ["update-ca-trust", "extract"]),
    "suse": ("/etc/pki/trust/anchors", "/var/lib/ca-certificates/ca-bundle.pem",
             ["update-ca-certificates"]),
    "arch": ("/etc/ca-certificates/trust-source/anchors", "/etc/ca-certificates/extracted/tls-ca-bundle.pem",
             ["update-ca-trust", "extract"]),
}

# os-release ID or ID_LIKE word -> family; ID is looked up first, then each ID_LIKE word.
FAMILY_OF = {
    "debian": "debian", "ubuntu": "debian", "raspbian": "debian",
    "rhel": "redhat", "centos": "redhat", "fedora": "redhat", "rocky": "redhat", "almalinux": "redhat",
    "ol": "redhat", "amzn": "redhat", "scientific": "redhat",
    "suse": "suse", "opensuse": "suse", "sles": "suse", "sled": "suse", "opensuse-leap": "suse",
    "opensuse-tumbleweed": "suse",
    "alpine": "alpine",
    "arch": "arch", "archarm": "arch", "manjaro": "arch",
}

EXTENSION = ".crt"  # update-ca-certificates ignores files without it; the other tools accept it


def parse_os_release(text):
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip("\"'")
    return values


def detect_os_family(text):
    """The family key of FAMILIES for an /etc/os-release text; raises for unknown systems."""
    values = parse_os_release(text)
    os_id = values.get("ID", "").lower()
    id_like = values.get("ID_LIKE", "").lower().split()
    for word in [os_id] + id_like:
        if word in FAMILY_OF:
            return FAMILY_OF[word]
    raise VipMtlsError(
        "the system trust store of this OS is not known (ID=%r, ID_LIKE=%r in %s); known families: Debian/Ubuntu, "
        "RHEL/CentOS/Rocky/Alma/Oracle/Fedora/Amazon Linux, SUSE/openSUSE, Alpine, Arch. Point the module at "
        "the store your client reads instead: stores: [bundle] with bundles: [/path/to/ca-bundle.pem], or "
        "stores: [java] with java_keystore" % (values.get("ID", ""), values.get("ID_LIKE", ""), OS_RELEASE),
        os_id=os_id, os_id_like=" ".join(id_like),
    )


def system_store(module, root="/"):
    # os-release(5): /etc/os-release, falling back to /usr/lib/os-release.
    errors = []
    for candidate in (OS_RELEASE, "/usr/lib/os-release"):
        path = os.path.join(root, candidate.lstrip("/"))
        try:
            with open(path) as handle:
                return SystemStore(module, detect_os_family(handle.read()), root)
        except OSError as exc:
            errors.append("%s: %s" % (path, exc.strerror or exc))
    raise VipMtlsError("cannot read %s to detect the OS family (%s)" % (OS_RELEASE, "; ".join(errors)))


class SystemStore(object):
    """Local anchors as NAME.crt files in the family's directory; one refresh per change."""

    kind = "system"

    def __init__(self, module, family, root="/"):
        self.module = module
        self.family = family
        anchor_dir, bundle, refresh = FAMILIES[family]
        self.root = root
        self.anchor_dir = os.path.join(root, anchor_dir.lstrip("/"))
        self.bundle = os.path.join(root, bundle.lstrip("/"))
        self.refresh_command = refresh
        self.label = "system (%s) %s" % (family, anchor_dir)

    @property
    def refresh_tool(self):
        return self.refresh_command[0]

    def refresh(self):
        dirs = [os.path.join(self.root, d) for d in ("usr/sbin", "sbin", "usr/bin", "bin")]
        tool = self.module.get_bin_path(self.refresh_tool, opt_dirs=dirs)
        if not tool:
            raise VipMtlsError("%s is not installed; install the ca-certificates package" % self.refresh_tool)
        rc, out, err = self.module.run_command([tool] + self.refresh_command[1:])
        return rc, (out + err).strip()

    def bundle_fingerprints(self):
        data = read_bytes(self.bundle, limit=64 * 1024 * 1024) or b""
        return {der_fingerprint(der) for der in certificate_ders(data)}

    def manage(self, name, anchors, state, fingerprints):
        """Hold exactly ``anchors`` under ``name`` (present), or drop the files of ``name`` whose
        certificate is in ``fingerprints`` (absent, normalised hex)."""
        return self.manage_many([(name, anchors, state, fingerprints)])[0]

    def manage_many(self, requests):
        """``manage`` for several (name, anchors, state, fingerprints) at once: all files are
        written, then the store is refreshed once - the refresh is what costs."""
        plans = [self._plan(*request) for request in requests]
        changed = [bool(p["writes"] or p["removals"]) for p in plans]
        if not any(changed):
            # The files are right; make sure the extracted bundle really carries them too.
            in_bundle = self.bundle_fingerprints() if any(r[2] == "present" for r in requests) else set()
            for index, plan in enumerate(plans):
                plan["missing"] = [f for f, der in plan["wanted"].items() if der_fingerprint(der) not in in_bundle]
                changed[index] = bool(plan["missing"])
        applied = any(changed) and not self.module.check_mode
        if applied:
            writes, removals, wanted = {}, [], {}
            for plan in plans:
                writes.update(plan["writes"])
                removals.extend(plan["removals"])
                wanted.update(plan["wanted"])
            self._apply(writes, removals, wanted)
        return [{
            "changed": changed[index],
            "paths": [os.path.join(self.anchor_dir, f) for f in sorted(plan["wanted"])],
            "removed": [os.path.join(self.anchor_dir, f) for f in plan["removals"]],
            "refreshed": changed[index] and applied,
            "before": plan["before"],
            "after": plan["after"],
            "notes": ["%s is missing from %s: refresh" % (f, self.bundle) for f in plan.get("missing", [])],
        } for index, plan in enumerate(plans)]

    def _plan(self, name, anchors, state, fingerprints):
        """What ``manage`` would write and remove for one name, without changing anything."""
        check_name(name)
        wanted = {entry + EXTENSION: anchor.der for entry, anchor in entry_names(name, anchors).items()} \
            if state == "present" else {}
        existing = self.managed_files(name)
        if state == "absent":
            # Only files holding a named certificate go, so an administrator's own file of that name stays.
            existing = [f for f in existing if self._holds_one_of(f, fingerprints)]
        for filename in wanted:
            path = os.path.join(self.anchor_dir, filename)
            if os.path.lexists(path) and not (os.path.islink(path) or os.path.isfile(path)):
                raise VipMtlsError("%s exists and is not a regular file; remove it so the anchor can be written"
                                   % path)
        removals = [f for f in existing if f not in wanted]
        before = {f: self._current_der(f) for f in existing}
        after = {f: d for f, d in before.items() if f not in removals}
        after.update(wanted)
        return {"wanted": wanted, "writes": {f: der for f, der in wanted.items() if self._current_der(f) != der},
                "removals": removals, "before": before, "after": after}

    def managed_files(self, name):
        """The files this module names for ``name`` that exist now."""
        pattern = entry_pattern(name)
        try:
            entries = os.listdir(self.anchor_dir)
        except FileNotFoundError:
            return []
        return sorted(e for e in entries if e.endswith(EXTENSION) and pattern.match(e[:-len(EXTENSION)]))

    def _current_der(self, filename):
        ders = certificate_ders(read_bytes(os.path.join(self.anchor_dir, filename)) or b"")
        return ders[0] if len(ders) == 1 else None

    def _holds_one_of(self, filename, fingerprints):
        der = self._current_der(filename)
        return der is not None and normalise_fingerprint(der_fingerprint(der)) in fingerprints

    def _apply(self, writes, removals, wanted):
        """Write and remove, refresh once, confirm the bundle carries ``wanted``; on any failure put
        the old files back and refresh again, so the host keeps a working store."""
        saved = {}
        for filename in list(writes) + removals:
            path = os.path.join(self.anchor_dir, filename)
            saved[path] = read_bytes(path)
        try:
            if not os.path.isdir(self.anchor_dir):
                os.makedirs(self.anchor_dir, 0o755)
            for filename, der in writes.items():
                write_atomic(os.path.join(self.anchor_dir, filename), der_to_pem(der).encode("ascii"),
                             0o644, 0, 0)
            for filename in removals:
                os.unlink(os.path.join(self.anchor_dir, filename))
            rc, output = self.refresh()
        except VipMtlsError:
            _restore(saved)  # e.g. the refresh tool is missing: nothing may stay half-done
            raise
        except OSError as exc:
            _restore(saved)
            raise VipMtlsError("could not change %s (%s); the previous files were put back" % (self.anchor_dir, exc))
        problem = "failed (rc=%d)" % rc if rc != 0 else self._bundle_problem(wanted)
        if problem:
            _restore(saved)
            self.refresh()
            raise VipMtlsError("%s %s; the previous anchor files were put back and the store refreshed again. "
                               "Output: %s" % (self.refresh_tool, problem, output), refresh_output=output)

    def _bundle_problem(self, wanted):
        in_bundle = self.bundle_fingerprints()
        if not in_bundle:
            return "left %s empty" % self.bundle
        missing = [f for f, der in sorted(wanted.items()) if der_fingerprint(der) not in in_bundle]
        if missing:
            return "ran, but %s does not contain %s (check the tool's configuration)" % (
                self.bundle, ", ".join(missing))
        return None


def _restore(saved):
    for path, content in saved.items():
        try:
            if content is None:
                if os.path.lexists(path) and not os.path.isdir(path):
                    os.unlink(path)
            else:
                write_atomic(path, content, 0o644, 0, 0)
        except OSError:
            continue  # put back what can be put back; the caller reports the original failure
