# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a host holds for mutual TLS, gathered read-only in one call (standard library only).

Used by the mtls_info module for audits and for the rollout's pre-flight. Nothing here writes:
the stores are only listed and read, the live check only connects.

Uses from the Ansible module only ``get_bin_path`` and ``run_command`` (the latter only for the
optional Java keystore listing, through javastore); ``root`` lets tests run against a fake root
directory, ``now`` fixes the clock and ``check``/``resolve`` replace the live check and name resolution.
"""

from __future__ import annotations

import datetime
import grp
import os
import platform
import pwd
import socket
import stat
import sys

from ansible_collections.vip.mtls.plugins.module_utils.argspecs import CHECK_OPTIONS
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.module_utils.fileutil import read_bytes
from ansible_collections.vip.mtls.plugins.module_utils.pem import certificate_ders, der_fingerprint, normalise_fingerprint
from ansible_collections.vip.mtls.plugins.module_utils.systemstore import EXTENSION, system_store
from ansible_collections.vip.mtls.plugins.module_utils.tls_wire import describe_der

G2_FINGERPRINT = "CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F"
G1_FINGERPRINT = "43:48:A0:E9:44:4C:78:CB:26:5E:05:8D:5E:89:44:B4:D8:4F:96:62:BD:26:DB:25:7F:89:34:A4:43:C7:01:61"
DEFAULT_ROOTS = [
    {"name": "digicert-global-root-g2", "fingerprint_sha256": G2_FINGERPRINT},
    {"name": "digicert-global-root-ca", "fingerprint_sha256": G1_FINGERPRINT},
]
BUNDLE_LIMIT = 64 * 1024 * 1024


def _colon(value):
    compact = normalise_fingerprint(value).upper()
    return ":".join(compact[i:i + 2] for i in range(0, 64, 2))


def _owner_info(path):
    """mode (octal string), owner, group of ``path`` without following a symlink; None when absent."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    try:
        owner = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        owner = str(st.st_uid)
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    return {"mode": "%04o" % stat.S_IMODE(st.st_mode), "owner": owner, "group": group,
            "type": "file" if stat.S_ISREG(st.st_mode) else "link" if stat.S_ISLNK(st.st_mode)
            else "directory" if stat.S_ISDIR(st.st_mode) else "other",
            "others_can_read": bool(st.st_mode & stat.S_IROTH)}


def days_until(not_after, now):
    """Whole days from ``now`` to the ISO 8601 ``not_after`` (negative once expired); None if unknown."""
    if not not_after:
        return None
    try:
        moment = datetime.datetime.fromisoformat(not_after)
    except ValueError:
        return None
    return int((moment - now).total_seconds() // 86400)


def _describe(der, now, warn_days=None):
    desc = describe_der(der)
    desc["days_remaining"] = days_until(desc["not_after"], now)
    if warn_days is not None:
        days = desc["days_remaining"]
        desc["expired"] = days is not None and days < 0
        desc["expiring"] = days is not None and 0 <= days < warn_days
    return desc


def system_store_info(module, root, now):
    """The OS store: local anchor files (every *.crt in the anchor directory) and the bundle's fingerprints."""
    info = {"family": None, "anchor_dir": None, "bundle": None, "anchors": [], "bundle_certificates": None,
            "error": None}
    fingerprints = None
    try:
        store = system_store(module, root)
    except VipMtlsError as exc:
        info["error"] = exc.msg
        return info, fingerprints
    info.update(family=store.family, anchor_dir=_unroot(store.anchor_dir, root), bundle=_unroot(store.bundle, root))
    try:
        entries = sorted(os.listdir(store.anchor_dir))
    except FileNotFoundError:
        entries = []
    except OSError as exc:
        info["error"] = "cannot list %s (%s)" % (info["anchor_dir"], exc.strerror or exc)
        entries = []
    for entry in entries:
        if not entry.endswith(EXTENSION):
            continue
        path = os.path.join(store.anchor_dir, entry)
        ders = certificate_ders(read_bytes(path) or b"")
        for der in ders:
            desc = _describe(der, now)
            info["anchors"].append({"name": entry[:-len(EXTENSION)], "path": _unroot(path, root),
                                    "fingerprint_sha256": desc["fingerprint_sha256"], "subject": desc["subject"],
                                    "not_after": desc["not_after"], "days_remaining": desc["days_remaining"]})
    data = read_bytes(store.bundle, limit=BUNDLE_LIMIT)
    if data is None:
        info["error"] = info["error"] or "the extracted bundle %s is missing" % info["bundle"]
    else:
        fingerprints = {der_fingerprint(der) for der in certificate_ders(data)}
        info["bundle_certificates"] = len(fingerprints)
    return info, fingerprints


def _unroot(path, root):
    if root in ("/", "") or not path.startswith(root):
        return path
    return "/" + os.path.relpath(path, root)


def bundle_info(path, root="/"):
    real = os.path.join(root, path.lstrip("/")) if root not in ("/", "") else path
    info = {"path": path, "exists": False, "certificates": None, "error": None}
    try:
        with open(real, "rb") as handle:
            data = handle.read(BUNDLE_LIMIT)
    except FileNotFoundError:
        return info, set()
    except OSError as exc:
        info.update(exists=True, error="cannot read %s (%s)" % (path, exc.strerror or exc))
        return info, set()
    fingerprints = {der_fingerprint(der) for der in certificate_ders(data)}
    info.update(exists=True, certificates=len(fingerprints))
    return info, fingerprints


def java_info(module, params):
    """Fingerprints in a Java keystore (keytool -list, read-only); (info, fingerprints or None)."""
    from ansible_collections.vip.mtls.plugins.module_utils.javastore import java_store  # keytool only when asked
    info = {"keystore": None, "entries": None, "error": None}
    try:
        store = java_store(module, params)
        info["keystore"] = store.keystore
        entries = store.list_entries(store.keystore, store.store_type(store.keystore))
    except VipMtlsError as exc:
        info["error"] = exc.msg
        return info, None
    fingerprints = {der_fingerprint(der) for der in entries.values() if der}
    info["entries"] = len(entries)
    return info, fingerprints


def client_cert_info(cert_path, key_path, now, warn_days, root="/"):
    real_cert = os.path.join(root, cert_path.lstrip("/")) if root not in ("/", "") else cert_path
    cert = {"path": cert_path, "exists": False, "subject": None, "issuer": None, "not_after": None,
            "days_remaining": None, "expired": None, "expiring": None, "fingerprint_sha256": None,
            "mode": None, "owner": None, "group": None, "error": None}
    attrs = _owner_info(real_cert)
    if attrs is not None:
        cert.update(exists=True, mode=attrs["mode"], owner=attrs["owner"], group=attrs["group"])
        try:
            data = read_bytes(real_cert)
        except OSError as exc:
            data = None
            cert["error"] = "cannot read %s (%s)" % (cert_path, exc.strerror or exc)
        ders = certificate_ders(data or b"")
        if ders:
            desc = _describe(ders[0], now, warn_days)
            cert.update({k: desc[k] for k in ("subject", "issuer", "not_after", "days_remaining", "expired",
                                              "expiring", "fingerprint_sha256")})
        elif not cert["error"]:
            cert["error"] = "%s holds no PEM certificate" % cert_path
    key = None
    if key_path:
        real_key = os.path.join(root, key_path.lstrip("/")) if root not in ("/", "") else key_path
        key = {"path": key_path, "exists": False, "mode": None, "owner": None, "group": None,
               "others_can_read": None}
        attrs = _owner_info(real_key)
        if attrs is not None:
            key.update(exists=True, mode=attrs["mode"], owner=attrs["owner"], group=attrs["group"],
                       others_can_read=attrs["others_can_read"])
    return cert, key


def roots_info(roots, system_fingerprints, system_anchors, bundles, java_fingerprints):
    """For each wanted root: in the system bundle, which local anchor files hold it, each bundle, Java."""
    result = []
    for root in roots:
        fingerprint = _colon(root["fingerprint_sha256"])
        result.append({
            "name": root.get("name") or fingerprint[:23],
            "fingerprint_sha256": fingerprint,
            "in_system_bundle": None if system_fingerprints is None else fingerprint in system_fingerprints,
            "anchor_files": [a["path"] for a in system_anchors if a["fingerprint_sha256"] == fingerprint],
            "in_bundles": {path: fingerprint in prints for path, prints in bundles},
            "in_java": None if java_fingerprints is None else fingerprint in java_fingerprints,
        })
    return result


def writable_info(path, root="/"):
    """Whether ``path`` (a directory) can be created or written: the path itself when it exists, else
    its nearest existing ancestor."""
    real = os.path.join(root, path.lstrip("/")) if root not in ("/", "") else path
    probe = real
    while not os.path.lexists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    shown = _unroot(probe, root)
    if not os.path.isdir(probe):
        return {"path": path, "checked": shown, "ok": False,
                "detail": "%s exists and is not a directory" % shown}
    if not os.access(probe, os.W_OK | os.X_OK):
        try:
            read_only = bool(os.statvfs(probe).f_flag & os.ST_RDONLY)
        except (OSError, AttributeError):
            read_only = False
        why = "is on a read-only file system" if read_only else "is not writable by %s" % _whoami()
        return {"path": path, "checked": shown, "ok": False, "detail": "%s %s" % (shown, why)}
    return {"path": path, "checked": shown, "ok": True, "detail": None}


def _whoami():
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return "uid %d" % os.geteuid()


def resolve_info(name, resolve=None):
    resolve = resolve or socket.getaddrinfo
    try:
        addresses = sorted({item[4][0] for item in resolve(name, None, 0, socket.SOCK_STREAM)})
    except (socket.gaierror, UnicodeError, OSError) as exc:
        return {"name": name, "ok": False, "addresses": [], "detail": str(exc)}
    return {"name": name, "ok": True, "addresses": addresses, "detail": None}


def preflight_problems(writable, resolved, store):
    problems = ["%s cannot be written: %s" % (w["path"], w["detail"]) for w in writable if not w["ok"]]
    problems += ["%s does not resolve (%s): check the host's resolver, or set a proxy" % (r["name"], r["detail"])
                 for r in resolved if not r["ok"]]
    if store is not None and not store.get("family"):
        problems.append(store["error"])
    return problems


def gather(module, params, root="/", now=None, check=None, resolve=None):
    """Everything mtls_info returns (changed excluded). ``params`` are the module's parameters."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    result = {"python": {"version": platform.python_version(), "executable": sys.executable}}

    store, system_fingerprints = system_store_info(module, root, now)
    if store["anchor_dir"]:
        store["anchor_dir_writable"] = writable_info(store["anchor_dir"], root)["ok"]
    result["system_store"] = store

    bundles = []
    result["bundles"] = []
    for path in params.get("bundles") or []:
        info, prints = bundle_info(path, root)
        result["bundles"].append(info)
        bundles.append((path, prints))

    java_fingerprints = None
    result["java"] = None
    if params.get("java"):
        result["java"], java_fingerprints = java_info(module, params)

    roots = params.get("roots") or DEFAULT_ROOTS
    result["roots"] = roots_info(roots, system_fingerprints, store["anchors"], bundles, java_fingerprints)
    by_fingerprint = {r["fingerprint_sha256"]: r for r in result["roots"]}
    for key, fingerprint in (("g2_present", G2_FINGERPRINT), ("g1_present", G1_FINGERPRINT)):
        known = by_fingerprint.get(fingerprint)
        result[key] = (known["in_system_bundle"] if known else
                       (None if system_fingerprints is None else fingerprint in system_fingerprints))

    cert, key = (None, None)
    if params.get("client_cert"):
        cert, key = client_cert_info(params["client_cert"], params.get("client_key"), now,
                                     params.get("warn_days", 30), root)
    result["client_cert"], result["client_key"] = cert, key

    result["checks"] = []
    for url in params.get("urls") or []:
        result["checks"].append(run_check(url, params, cert, check))
    result["checks_ok"] = all(c["ok"] for c in result["checks"]) if result["checks"] else None

    writable = [writable_info(path, root) for path in params.get("preflight_writable") or []]
    if params.get("preflight_system_store") and store["anchor_dir"]:
        writable.append(writable_info(store["anchor_dir"], root))
    resolved = [resolve_info(name, resolve) for name in params.get("preflight_resolve") or []]
    problems = preflight_problems(writable, resolved,
                                  store if params.get("preflight_system_store") else None)
    result["preflight"] = {"writable": writable, "resolved": resolved, "problems": problems,
                           "ok": not problems}
    return result


def run_check(url, params, cert, check=None):
    """The live check (tls_probe.check) with the client certificate when there is one; a request that
    cannot be a probe becomes a failed result (reason usage_error) instead of failing the whole gather."""
    if check is None:
        from ansible_collections.vip.mtls.plugins.module_utils.tls_probe import check  # noqa: F811
    options = {name: params.get(name) for name in CHECK_OPTIONS if params.get(name) is not None}
    if cert is not None and cert["exists"]:
        options["client_cert"] = params["client_cert"]
        if params.get("client_key"):
            options["client_key"] = params["client_key"]
    try:
        result = check(url, **options)
    except VipMtlsError as exc:
        result = {"ok": False, "reason": "usage_error", "stage": "local", "hint": exc.msg, "detail": exc.msg,
                  "anchor": None, "warnings": []}
    result = dict(result)
    result.pop("warnings", None)
    result["url"] = url
    result["client_cert_sent"] = "client_cert" in options
    return result
