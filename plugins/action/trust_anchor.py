# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads and checks the anchor on the controller, then hands the module normalised PEM."""

from __future__ import annotations

from ansible_collections.vip.mtls.plugins.module_utils import certs
from ansible_collections.vip.mtls.plugins.module_utils.argspecs import TRUST_ANCHOR
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.plugin_utils.action_base import VipActionBase


class ActionModule(VipActionBase):
    MODULE = "vip.mtls.trust_anchor"
    ARGUMENT_SPEC = TRUST_ANCHOR

    def prepare(self, args, task_vars):
        module_args = {k: v for k, v in args.items() if k not in ("src", "remote_src", "validate_only")}
        if args["state"] == "absent" and not (args["src"] or args["content"]):
            return module_args, {}
        if bool(args["src"]) == bool(args["content"]):
            raise VipMtlsError("set exactly one of src and content (the certificate to trust)")
        if args["src"]:
            source = args["src"]
            data = self.read_source(source, args["remote_src"], task_vars)
        else:
            source = "content for %s" % args["name"]
            data = args["content"].encode("utf-8")
        anchors = certs.load_certificates(data, source)
        certs.check_pins(anchors, args["fingerprint_sha256"], source)
        warnings = []
        if args["state"] == "absent":
            # Removing needs only the fingerprints: an expired or retired anchor must still be removable.
            module_args["content"] = "".join(certs.to_pem(cert) for cert in anchors)
            return module_args, {}
        if not args["fingerprint_sha256"]:
            warnings.append("%s is not pinned: set fingerprint_sha256 (%s) so that a swapped file cannot "
                            "become a trusted root" % (source, ", ".join(certs.fingerprint(c) for c in anchors)))
        for cert in anchors:
            warnings.extend(certs.check_trust_anchor(cert, source, args["allow_intermediate"]))
        module_args["content"] = "".join(certs.to_pem(cert) for cert in anchors)
        described = {d["fingerprint_sha256"]: d for d in (certs.describe(c) for c in anchors)}
        public = {"anchors": [dict(described[fp], path=None) for fp in described]}
        return module_args, {"warnings": warnings, "described": described, "public": public}

    def finish(self, module_result, extra):
        described = extra.get("described", {})
        for anchor in module_result.get("anchors", []):
            info = described.get(anchor.get("fingerprint_sha256"), {})
            for key in ("subject", "not_after"):
                anchor[key] = info.get(key)
        return super().finish(module_result, extra)
