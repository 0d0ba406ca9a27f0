# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Opens the PKCS#12 (or PEM) on the controller, validates it, hands the module PEM."""

from __future__ import annotations

from ansible_collections.vip.mtls.plugins.module_utils import certs
from ansible_collections.vip.mtls.plugins.module_utils.argspecs import CLIENT_CERT
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.plugin_utils.action_base import VipActionBase

_PUBLIC = ("subject", "issuer", "serial", "not_before", "not_after", "fingerprint_sha256")


class ActionModule(VipActionBase):
    MODULE = "vip.mtls.client_cert"
    ARGUMENT_SPEC = CLIENT_CERT

    def prepare(self, args, task_vars):
        if not args["src"]:
            raise VipMtlsError("src is required: the PKCS#12 (.p12/.pfx) or PEM file from VIP Manager")
        data = self.read_source(args["src"], args["remote_src"], task_vars)
        key, cert, chain = certs.load_client_bundle(data, args["src"], args["passphrase"])
        days, warnings = certs.check_client_certificate(cert, args["src"], args["warn_days"],
                                                        args["min_days_valid"])
        public = {k: v for k, v in certs.describe(cert).items() if k in _PUBLIC}
        public["days_remaining"] = days
        module_args = {k: v for k, v in args.items()
                       if k not in ("src", "remote_src", "passphrase", "validate_only")}
        module_args.update(
            _cert_pem=certs.to_pem(cert),
            _key_pem=certs.key_to_pem(key),
            _chain_pem="".join(certs.to_pem(c) for c in chain),
            _cert_fingerprint=public["fingerprint_sha256"],
        )
        return module_args, {"warnings": warnings, "public": public}

    def finish(self, module_result, extra):
        module_result.update(extra.get("public", {}))
        # The module's invocation echo would carry the internal arguments: keep only public ones.
        module_result.pop("invocation", None)
        return super().finish(module_result, extra)
