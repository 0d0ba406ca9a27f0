# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Opens the client certificate on the controller, validates it and renders every output,
so the module on the host needs no cryptography."""

from __future__ import annotations

from ansible_collections.vip.mtls.plugins.module_utils.argspecs import CLIENT_CERT
from ansible_collections.vip.mtls.plugins.plugin_utils.action_base import VipActionBase
from ansible_collections.vip.mtls.plugins.plugin_utils.inputs import prepare_client_cert


class ActionModule(VipActionBase):
    MODULE = "vip.mtls.client_cert"
    ARGUMENT_SPEC = CLIENT_CERT

    def prepare(self, args, task_vars):
        return prepare_client_cert(self, args, task_vars)

    def finish(self, module_result, extra):
        module_result.update(extra.get("public", {}))
        # The module's invocation echo would carry the internal arguments: keep only public ones.
        module_result.pop("invocation", None)
        return super().finish(module_result, extra)
