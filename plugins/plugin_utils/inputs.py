# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller half of trust_anchor and client_cert: read, check and render every input before a
host is contacted. Used by their action plugins and by mtls_info's (the pre-flight's plan)."""

from __future__ import annotations

import json

from ansible_collections.vip.mtls.plugins.module_utils import certs, outputs
from ansible_collections.vip.mtls.plugins.module_utils.argspecs import ANCHOR, CLIENT_CERT_CONTROLLER_ONLY
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError

_PER_ANCHOR = tuple(ANCHOR)
_PUBLIC = ("subject", "issuer", "serial", "not_before", "not_after", "fingerprint_sha256")


def prepare_trust(action, args, task_vars):
    """(module_args, extra) for trust_anchor's validated ``args``: every anchor read (through
    ``action.read_source``), parsed, pinned and checked before the host is contacted."""
    module_args = {k: v for k, v in args.items() if k not in ("validate_only",) + _PER_ANCHOR + ("anchors",)}
    if args["anchors"]:
        if args["name"] or args["src"] or args["content"]:
            raise VipMtlsError("set either anchors (a list) or name with src/content (one anchor), not both")
        items = args["anchors"]
        names = [item["name"] for item in items]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise VipMtlsError("anchor name %s is listed more than once in anchors; give every anchor its own name"
                               % ", ".join(twice))
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
        raise VipMtlsError("set exactly one of src and content (the certificate to trust) for anchor %r"
                           % item["name"])
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
    described = {d["fingerprint_sha256"]: dict(d, name=item["name"], state=item["state"])
                 for d in (certs.describe(c) for c in anchors)}
    return module_item, warnings, described


def prepare_client_cert(action, args, task_vars):
    """(module_args, extra) for client_cert's validated ``args``: the input read (through
    ``action.read_source``), opened, checked and rendered into every output on the controller."""
    module_args = {k: v for k, v in args.items() if k not in CLIENT_CERT_CONTROLLER_ONLY}
    if args["state"] == "absent":
        module_args["_outputs"] = json.dumps(outputs.planned_outputs(args))
        return module_args, {}
    key, cert, chain, source = _load_inputs(action, args, task_vars)
    days, warnings = certs.check_client_certificate(
        cert, source, args["warn_days"], args["min_days_valid"], issuers=chain,
        issuer_pins=args["issuer_fingerprint_sha256"])
    public = {k: v for k, v in certs.describe(cert).items() if k in _PUBLIC}
    public["days_remaining"] = days
    module_args["_outputs"] = json.dumps(outputs.render_outputs(key, cert, chain, args))
    return module_args, {"warnings": warnings, "public": public}


def _load_inputs(action, args, task_vars):
    """(key, cert, chain, source name) from src, or from cert_src and key_src."""
    if args["src"] and (args["cert_src"] or args["key_src"]):
        raise VipMtlsError("set either src (one PKCS#12 or PEM file) or cert_src and key_src, not both")
    if args["src"]:
        data = action.read_source(args["src"], args["remote_src"], task_vars)
        key, cert, chain = certs.load_client_bundle(data, args["src"], args["passphrase"])
        return key, cert, chain, args["src"]
    if args["cert_src"] and args["key_src"]:
        cert_data = action.read_source(args["cert_src"], args["remote_src"], task_vars)
        key_data = action.read_source(args["key_src"], args["remote_src"], task_vars)
        key, cert, chain = certs.load_separate_pem(cert_data, args["cert_src"], key_data, args["key_src"],
                                                   args["key_passphrase"] or args["passphrase"])
        return key, cert, chain, args["cert_src"]
    raise VipMtlsError("src is required (the PKCS#12 or PEM file from VIP Manager), or cert_src and key_src "
                       "together (separate PEM files)")
