# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper, not part of the collection: records the SHAPE of every vip.mtls module result."""

from __future__ import annotations

DOCUMENTATION = r"""
name: vip_mtls_results
type: aggregate
short_description: Record the shape of every vip.mtls module result (for tests/integration/test_docs.py)
description:
  - Appends one JSON line per result of a vip.mtls module (each loop item on its own) to the file named by
    the environment variable E(VIP_MTLS_RESULTS_LOG); does nothing when it is not set.
  - Only the shape is written (keys and the type of every value, recursively), never a value, so nothing
    secret can reach the file.
requirements:
  - enabled in callbacks_enabled (the integration tests' conftest.py does it)
"""

import json
import os

from ansible.plugins.callback import CallbackBase


def shape(value):
    """The type structure of a result value: {"t": type} with "k" (dict keys) or "e" (list elements)."""
    if value is None:
        return {"t": "null"}
    if isinstance(value, bool):
        return {"t": "bool"}
    if isinstance(value, int):
        return {"t": "int"}
    if isinstance(value, float):
        return {"t": "float"}
    if isinstance(value, str):
        return {"t": "str"}
    if isinstance(value, dict):
        return {"t": "dict", "k": {str(k): shape(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"t": "list", "e": [shape(v) for v in value]}
    return {"t": type(value).__name__}


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "vip_mtls_results"
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, result, status):
        path = os.environ.get("VIP_MTLS_RESULTS_LOG")
        task = result._task
        action = getattr(task, "resolved_action", None) or task.action
        if not path or not action or not action.startswith("vip.mtls."):
            return
        data = getattr(result, "result", None)
        if data is None:
            data = result._result
        if "results" in data and task.loop is not None:
            return  # a loop's summary: its items are recorded one by one
        line = json.dumps({
            "module": action.split(".", 2)[2],
            "status": status,
            "task": task.get_name(),
            "censored": "censored" in data,
            "result": shape(dict(data)),
        }, sort_keys=True)
        # One write per line on a file opened for appending: concurrent playbook runs do not mix lines.
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_item_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_item_on_failed(self, result):
        self._record(result, "failed")
