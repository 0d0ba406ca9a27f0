# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Opens the client certificate on the controller, validates it and renders every output,
so the module on the host needs no cryptography."""

from __future__ import annotations

import json

from ansible_collections.vip.mtls.plugins.module_utils import certs, outputs
from ansible_collections.vip.mtls.plugins.module_utils.argspecs import CLIENT_CERT, CLIENT_CERT_CONTROLLER_ONLY
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.plugin_utils.action_base import VipActionBase

_PUBLIC = ("subject", "issuer", "serial", "not_before", "not_after", "fingerprint_sha256")


class ActionModule(VipActionBase):
    MODULE = "vip.mtls.client_cert"
    ARGUMENT_SPEC = CLIENT_CERT

    def prepare(self, args, task_vars):
        module_args = {k: v for k, v in args.items() if k not in CLIENT_CERT_CONTROLLER_ONLY}
        if args["state"] == "absent":
            module_args["_outputs"] = json.dumps(outputs.planned_outputs(args))
            return module_args, {}
        key, cert, chain, source = self.load_inputs(args, task_vars)
        days, warnings = certs.check_client_certificate(
            cert, source, args["warn_days"], args["min_days_valid"], issuers=chain,
            issuer_pins=args["issuer_fingerprint_sha256"])
        public = {k: v for k, v in certs.describe(cert).items() if k in _PUBLIC}
        public["days_remaining"] = days
        module_args["_outputs"] = json.dumps(outputs.render_outputs(key, cert, chain, args))
        return module_args, {"warnings": warnings, "public": public}

    def load_inputs(self, args, task_vars):
        """(key, cert, chain, source name) from src, or from cert_src and key_src."""
        if args["src"] and (args["cert_src"] or args["key_src"]):
            raise VipMtlsError("set either src (one PKCS#12 or PEM file) or cert_src and key_src, not both")
        if args["src"]:
            data = self.read_source(args["src"], args["remote_src"], task_vars)
            key, cert, chain = certs.load_client_bundle(data, args["src"], args["passphrase"])
            return key, cert, chain, args["src"]
        if args["cert_src"] and args["key_src"]:
            cert_data = self.read_source(args["cert_src"], args["remote_src"], task_vars)
            key_data = self.read_source(args["key_src"], args["remote_src"], task_vars)
            key, cert, chain = certs.load_separate_pem(cert_data, args["cert_src"], key_data, args["key_src"],
                                                       args["key_passphrase"] or args["passphrase"])
            return key, cert, chain, args["cert_src"]
        raise VipMtlsError("src is required (the PKCS#12 or PEM file from VIP Manager), or cert_src and key_src "
                           "together (separate PEM files)")

    def finish(self, module_result, extra):
        module_result.update(extra.get("public", {}))
        # The module's invocation echo would carry the internal arguments: keep only public ones.
        module_result.pop("invocation", None)
        return super().finish(module_result, extra)
