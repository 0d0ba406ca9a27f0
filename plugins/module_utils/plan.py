# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What trust_anchor and client_cert would change on this host, told by their own code in check mode
(standard library only). The rollout's pre-flight (mtls_info with plan_trust / plan_client_cert) uses it
to skip the calls that have nothing to do: the same logic decides, so the skip cannot disagree with
what the module would have done."""

from __future__ import annotations

import json

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.vip.mtls.plugins.module_utils.argspecs import (
    CLIENT_CERT,
    CLIENT_CERT_INTERNAL,
    TRUST_ANCHOR,
)
from ansible_collections.vip.mtls.plugins.module_utils.clientcert import deploy
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.module_utils.truststore import manage_trust


class CheckOnly(object):
    """The Ansible module as the store and file code sees it, but always in check mode."""

    check_mode = True

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        return getattr(self._module, name)


def module_params(spec, args, what):
    """``args`` as the module would see them: validated against its spec, defaults filled in."""
    result = ArgumentSpecValidator(spec).validate(args)
    if result.error_messages:
        # Ansible's message for an unknown key starts with the key alone ("pasphrase. Supported parameters
        # include: ..."): say what it is.
        messages = [("unsupported option " if type(error).__name__ == "UnsupportedError" else "") + message
                    for error, message in zip(result.errors, result.error_messages)]
        raise VipMtlsError("%s: %s" % (what, "; ".join(messages)))
    return result.validated_parameters


def plan(module, wanted):
    """{'trust': {...}, 'client_cert': {...}} for the prepared module arguments in ``wanted``."""
    checker = CheckOnly(module)
    out = {}
    if "trust" in wanted:
        params = module_params(TRUST_ANCHOR, wanted["trust"], "plan_trust")
        result = manage_trust(checker, params)
        out["trust"] = {"changed": result["changed"], "anchors": result["anchors"], "stores": result["stores"]}
    if "client_cert" in wanted:
        params = module_params(dict(CLIENT_CERT, **CLIENT_CERT_INTERNAL), wanted["client_cert"], "plan_client_cert")
        params["_outputs"] = json.loads(params["_outputs"] or "[]")
        result = deploy(checker, params)
        out["client_cert"] = {key: result.get(key) for key in
                              ("changed", "files", "previous_not_after", "previous_fingerprint_sha256")}
    return out
