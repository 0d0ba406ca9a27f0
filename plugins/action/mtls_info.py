# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""mtls_info needs the controller only for its plan: plan_trust and plan_client_cert are read, checked
and rendered here exactly as trust_anchor's and client_cert's action plugins do, then handed to the
module as one no_log string, so one module call per host both pre-flights and plans."""

from __future__ import annotations

import json

from ansible_collections.vip.mtls.plugins.module_utils.argspecs import CLIENT_CERT, MTLS_INFO, TRUST_ANCHOR
from ansible_collections.vip.mtls.plugins.module_utils.plan import module_params
from ansible_collections.vip.mtls.plugins.plugin_utils.action_base import VipActionBase
from ansible_collections.vip.mtls.plugins.plugin_utils.inputs import prepare_client_cert, prepare_trust


class ActionModule(VipActionBase):
    MODULE = "vip.mtls.mtls_info"
    ARGUMENT_SPEC = MTLS_INFO

    def prepare(self, args, task_vars):
        module_args = {k: v for k, v in args.items() if k not in ("plan_trust", "plan_client_cert")}
        wanted, extra = {}, {"warnings": [], "public": {}}
        if args["plan_trust"]:
            trust_args = module_params(TRUST_ANCHOR, args["plan_trust"], "plan_trust")
            wanted["trust"], trust = prepare_trust(self, trust_args, task_vars)
            extra["warnings"].extend(trust.get("warnings", []))
            extra["described"] = trust.get("described", {})
        if args["plan_client_cert"]:
            cert_args = module_params(CLIENT_CERT, args["plan_client_cert"], "plan_client_cert")
            wanted["client_cert"], cert = prepare_client_cert(self, cert_args, task_vars)
            extra["warnings"].extend(cert.get("warnings", []))
            extra["public"] = cert.get("public", {})
        if wanted:
            module_args["_plan"] = json.dumps(wanted)
        return module_args, extra

    def finish(self, module_result, extra):
        plan = module_result.get("plan") or {}
        for anchor in (plan.get("trust") or {}).get("anchors", []):
            info = extra.get("described", {}).get(anchor.get("fingerprint_sha256"), {})
            for key in ("subject", "not_after"):
                anchor[key] = info.get(key)
        if "client_cert" in plan:
            plan["client_cert"].update(extra.get("public", {}))
        # The invocation echo would show the prepared plan (masked) and the plan options: keep it out.
        module_result.pop("invocation", None)
        return super().finish(module_result, extra)
