# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vip.mtls.trust_anchor on the target: put the anchors into every store asked for, under one lock.

Standard library only. The stores (system, java, bundle) are backends with one ``manage`` call
each (see anchors.py); this file picks them, runs them and turns their results into the module's.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections import namedtuple
from contextlib import contextmanager

from ansible_collections.vip.mtls.plugins.module_utils.anchors import check_name, fingerprint_set, make_anchors
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.module_utils.pem import certificate_ders, normalise_fingerprint
from ansible_collections.vip.mtls.plugins.module_utils.systemstore import system_store
from ansible_collections.vip.mtls.plugins.module_utils.tls_wire import describe_der

LOCK_DIRS = ("/run/lock", "/var/lock", "/run", "/tmp")
LOCK_NAME = "vip-mtls-trust.lock"
LOCK_WAIT = 120  # seconds; a refresh with a Java keystore hook can take a while


def build_stores(module, params):
    """The backends for ``stores``, in order; each checks its own settings when built."""
    stores = []
    for kind in dict.fromkeys(params["stores"]):
        if kind == "system":
            stores.append(system_store(module))
        elif kind == "java":
            from ansible_collections.vip.mtls.plugins.module_utils.javastore import java_store
            stores.append(java_store(module, params))
        elif kind == "bundle":
            from ansible_collections.vip.mtls.plugins.module_utils.bundlestore import bundle_stores
            stores.extend(bundle_stores(module, params))
    return stores


# One anchor set to hold (present) or drop (absent) under one name; fingerprints are normalised hex.
Request = namedtuple("Request", "name anchors state fingerprints")


def build_requests(params):
    """The requests of one call: the single form (name, content, ...) or each item of ``anchors``."""
    if params.get("anchors"):
        if params.get("name") or params.get("content"):
            raise VipMtlsError("set either anchors (a list) or name with src/content (one anchor), not both")
        if params.get("java_alias"):
            raise VipMtlsError("java_alias names one anchor; with anchors (a list) each item's name is its alias")
        items = params["anchors"]
    elif params.get("name") is not None:
        items = [params]
    else:
        raise VipMtlsError("name is required (the anchor's file base name), or anchors: a list of anchors")
    requests, seen = [], set()
    for item in items:
        request = _request(item["name"], item.get("content"), item.get("state") or "present",
                           item.get("fingerprint_sha256"))
        if request.name in seen:
            raise VipMtlsError("anchor name %s is listed twice; give every anchor its own name" % request.name)
        seen.add(request.name)
        requests.append(request)
    return requests


def _request(name, content, state, pins):
    check_name(name)
    anchors = make_anchors(certificate_ders(content or ""))
    if state == "present" and not anchors:
        raise VipMtlsError("content of %s holds no PEM certificate" % name)
    pin_set = fingerprint_set(pins)
    if state == "present" and pin_set:
        # The action plugin enforced the pins already; a direct caller gets the same rule.
        for anchor in anchors:
            if normalise_fingerprint(anchor.fingerprint) not in pin_set:
                raise VipMtlsError("certificate %s matches none of fingerprint_sha256" % anchor.fingerprint)
    fingerprints = fingerprint_set(pins, anchors)
    if state == "absent" and not fingerprints:
        raise VipMtlsError("state=absent of %s needs the certificate (src or content) or its fingerprint_sha256, "
                           "so that only that anchor is removed" % name)
    return Request(name, anchors, state, fingerprints)


def manage_trust(module, params, stores=None):
    """The module's result for trust_anchor's params (content already normalised PEM).

    All anchors of one call go to each store together: the system store writes them all and
    refreshes once (``manage_many``); the other stores take them one by one."""
    requests = build_requests(params)
    stores = stores if stores is not None else build_stores(module, params)
    results = []
    with host_lock():
        for store in stores:
            many = getattr(store, "manage_many", None)
            outcomes = many(requests) if many else [store.manage(*request) for request in requests]
            results.extend((store, request, outcome) for request, outcome in zip(requests, outcomes))
    return summarise(requests, results)


def summarise(requests, results):
    stores = {}
    for store, _request, result in results:
        entry = stores.setdefault(store.kind, {"changed": False, "paths": [], "removed": [], "refreshed": False})
        entry["changed"] = entry["changed"] or result["changed"]
        entry["refreshed"] = entry["refreshed"] or result["refreshed"]
        entry["paths"].extend(result["paths"])
        entry["removed"].extend(result["removed"])
    anchors = []
    for request in requests:
        system_paths = [p for store, r, result in results if r is request and store.kind == "system"
                        for p in result["paths"]]
        paths = _anchor_paths(request.anchors, system_paths)
        anchors.extend({"name": request.name, "state": request.state, "fingerprint_sha256": a.fingerprint,
                        "path": paths.get(a.fingerprint)} for a in request.anchors)
    before, after = [], []
    for store, _request, result in results:
        before.extend(_diff_lines(store, result["before"]))
        after.extend(_diff_lines(store, result["after"]))
        after.extend("%s: %s\n" % (store.label, note) for note in result.get("notes", []))
    return {
        "changed": any(r["changed"] for _s, _r, r in results),
        "refreshed": any(r["refreshed"] for _s, _r, r in results),
        "anchors": anchors,
        "stores": stores,
        "diff": {"before": "".join(before), "after": "".join(after)},
    }


def _anchor_paths(anchors, paths):
    """Fingerprint -> its file among ``paths`` (NAME.crt for one anchor, NAME-<12 hex>.crt for several;
    the store lists them by file name, not in the order of the anchors)."""
    if len(anchors) == 1:
        return {anchors[0].fingerprint: paths[0]} if paths else {}
    found = {}
    for anchor in anchors:
        tag = "-" + anchor.fingerprint.replace(":", "")[:12].lower()
        found[anchor.fingerprint] = next(
            (p for p in paths if os.path.splitext(os.path.basename(p))[0].endswith(tag)), None)
    return found


def _diff_lines(store, entries):
    """One line per anchor: where, what (subject) and which (fingerprint); never whole files."""
    lines = []
    for entry, der in sorted(entries.items()):
        if der is None:
            lines.append("%s: %s  (not a single certificate)\n" % (store.label, entry))
            continue
        info = describe_der(der)
        lines.append("%s: %s  %s  %s\n" % (store.label, entry, info.get("subject") or "?", info["fingerprint_sha256"]))
    return lines


@contextmanager
def host_lock(wait=LOCK_WAIT):
    """One trust_anchor run at a time per host, so two rollouts cannot interleave store writes."""
    directory = next((d for d in LOCK_DIRS if os.path.isdir(d) and os.access(d, os.W_OK)), None)
    if directory is None:
        raise VipMtlsError("no writable directory for the lock file among %s" % ", ".join(LOCK_DIRS))
    path = os.path.join(directory, LOCK_NAME)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as exc:  # e.g. a symbolic link planted at the path: never followed
        raise VipMtlsError("cannot open the lock file %s (%s); remove it if it is not a regular file"
                           % (path, exc.strerror or exc))
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                    raise VipMtlsError("another vip.mtls.trust_anchor run held %s for over %d s; try again when "
                                       "it has finished" % (path, wait))
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # closing releases the lock
