# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads and checks every anchor on the controller, then hands the module normalised PEM."""

from __future__ import annotations

from ansible_collections.vip.mtls.plugins.module_utils import certs
from ansible_collections.vip.mtls.plugins.module_utils.argspecs import ANCHOR, TRUST_ANCHOR
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.plugin_utils.action_base import VipActionBase

_PER_ANCHOR = tuple(ANCHOR)


class ActionModule(VipActionBase):
    MODULE = "vip.mtls.trust_anchor"
    ARGUMENT_SPEC = TRUST_ANCHOR

    def prepare(self, args, task_vars):
        return prepare_trust(self, args, task_vars)

    def finish(self, module_result, extra):
        described = extra.get("described", {})
        for anchor in module_result.get("anchors", []):
            info = described.get(anchor.get("fingerprint_sha256"), {})
            for key in ("subject", "not_after"):
                anchor[key] = info.get(key)
        return super().finish(module_result, extra)


def prepare_trust(action, args, task_vars):
    """(module_args, extra) for trust_anchor's validated ``args``: every anchor read (through
    ``action.read_source``), parsed, pinned and checked before the host is contacted."""
    module_args = {k: v for k, v in args.items() if k not in ("validate_only",) + _PER_ANCHOR + ("anchors",)}
    if args["anchors"]:
        if args["name"] or args["src"] or args["content"]:
            raise VipMtlsError("set either anchors (a list) or name with src/content (one anchor), not both")
        items = args["anchors"]
    elif args["name"]:
        items = [args]
    else:
        raise VipMtlsError("name is required (the anchor's file base name), or anchors: a list of anchors")
    warnings, described, prepared = [], {}, []
    for item in items:
        module_item, item_warnings, item_described = _prepare_anchor(action, item, task_vars)
        prepared.append(module_item)
        warnings.extend(item_warnings)
        described.update(item_described)
    if args["anchors"]:
        module_args["anchors"] = prepared
    else:
        module_args.update(prepared[0])
    public = {"anchors": [dict(d, path=None) for d in described.values()]}
    return module_args, {"warnings": warnings, "described": described, "public": public}


def _prepare_anchor(action, item, task_vars):
    """(module item, warnings, {fingerprint: description}) for one anchor."""
    module_item = {"name": item["name"], "state": item["state"], "fingerprint_sha256": item["fingerprint_sha256"]}
    if item["state"] == "absent" and not (item["src"] or item["content"]):
        return module_item, [], {}
    if bool(item["src"]) == bool(item["content"]):
        raise VipMtlsError("set exactly one of src and content (the certificate to trust) for %s" % item["name"])
    if item["src"]:
        source = item["src"]
        data = action.read_source(source, item["remote_src"], task_vars)
    else:
        source = "content for %s" % item["name"]
        data = item["content"].encode("utf-8")
    anchors = certs.load_certificates(data, source)
    certs.check_pins(anchors, item["fingerprint_sha256"], source)
    module_item["content"] = "".join(certs.to_pem(cert) for cert in anchors)
    if item["state"] == "absent":
        # Removing needs only the fingerprints: an expired or retired anchor must still be removable.
        return module_item, [], {}
    warnings = []
    if not item["fingerprint_sha256"]:
        warnings.append("%s is not pinned: set fingerprint_sha256 (%s) so that a swapped file cannot "
                        "become a trusted root" % (source, ", ".join(certs.fingerprint(c) for c in anchors)))
    for cert in anchors:
        warnings.extend(certs.check_trust_anchor(cert, source, item["allow_intermediate"]))
    described = {d["fingerprint_sha256"]: dict(d, name=item["name"]) for d in (certs.describe(c) for c in anchors)}
    return module_item, warnings, described
