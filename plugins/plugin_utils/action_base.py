# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the action plugins share: reading ``src`` (controller, vault-aware, or target) and
turning the collection's one expected-failure exception into a failed result."""

from __future__ import annotations

import base64

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.vip.mtls.plugins.module_utils.certs import require_cryptography
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError


class VipActionBase(ActionBase):
    """Subclasses implement ``prepare(args, task_vars)``: validate on the controller and
    return (module_args, extra_result); the module runs afterwards unless validate_only."""

    TRANSFERS_FILES = False
    MODULE = None
    ARGUMENT_SPEC = None

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        try:
            require_cryptography()
            validation, args = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)
            module_args, extra = self.prepare(args, task_vars)
            if args.get("validate_only"):
                result.update(changed=False, validated=True, **extra.get("public", {}))
                result.setdefault("warnings", []).extend(extra.get("warnings", []))
                return result
            module_result = self._execute_module(module_name=self.MODULE, module_args=module_args,
                                                 task_vars=task_vars)
            result.update(self.finish(module_result, extra))
        except VipMtlsError as exc:
            result.update(failed=True, msg=exc.msg, **exc.details)
        except AnsibleError as exc:
            # Argument errors from validate_argument_spec already read well.
            result.update(failed=True, msg=to_text(exc.message if hasattr(exc, "message") else exc))
        return result

    def finish(self, module_result, extra):
        module_result.setdefault("warnings", []).extend(extra.get("warnings", []))
        return module_result

    def read_source(self, src, remote_src, task_vars):
        """Bytes of ``src``: from the controller (vault files decrypted) or from the target."""
        if remote_src:
            fetched = self._execute_module(module_name="ansible.builtin.slurp", module_args={"src": src},
                                           task_vars=task_vars)
            if fetched.get("failed"):
                raise VipMtlsError("cannot read %s on the target: %s" % (src, fetched.get("msg", "")))
            return base64.b64decode(fetched["content"])
        try:
            path = self._find_needle("files", src)
        except AnsibleError:
            raise VipMtlsError("src file %s was not found on the controller (searched the files/ "
                               "directories and the playbook directory)" % src)
        real = self._loader.get_real_file(path, decrypt=True)
        try:
            with open(real, "rb") as handle:
                return handle.read(8 * 1024 * 1024)
        finally:
            self._loader.cleanup_tmp_file(real)
