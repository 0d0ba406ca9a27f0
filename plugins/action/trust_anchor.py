# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads and checks every anchor on the controller, then hands the module normalised PEM."""

from __future__ import annotations

from ansible_collections.vip.mtls.plugins.module_utils.argspecs import TRUST_ANCHOR
from ansible_collections.vip.mtls.plugins.plugin_utils.action_base import VipActionBase
from ansible_collections.vip.mtls.plugins.plugin_utils.inputs import prepare_trust


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
