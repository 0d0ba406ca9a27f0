# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The modules' documentation as data, and the comparison of a real result with RETURN.

Used by tests/unit/test_module_docs.py (static checks, and the comparison itself) and by
tests/integration/test_docs.py (EXAMPLES run on a host; every recorded result compared with RETURN).

A result is compared as a SHAPE (see tests/integration/callback_plugins/vip_mtls_results.py):
{"t": "str"|"int"|"float"|"bool"|"null"|"dict"|"list", "k": {key: shape} for dicts, "e": [shape] for lists}.
"""

from __future__ import annotations

import ast
import os
import re

import yaml

MODULES = ("trust_anchor", "client_cert", "mtls_check", "mtls_info")
MODULES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "plugins", "modules")

# Keys Ansible itself adds to, or every module may put in, a result; documented nowhere by modules.
COMMON_KEYS = frozenset((
    "changed", "failed", "msg", "invocation", "warnings", "deprecations", "diff", "skipped", "skip_reason",
    "exception", "censored", "item", "ansible_loop_var", "ansible_index_var", "_ansible_no_log",
    "_ansible_verbose_always", "_ansible_item_label", "attempts", "failed_when_result",
    "failed_when_suppressed_exception",
))
# A documented value may be null only when its description says so.
_SAYS_NULL = re.compile(r"\bnull\b", re.IGNORECASE)
_PY_TYPES = {"str": ("str",), "int": ("int",), "float": ("float",), "bool": ("bool",), "list": ("list",),
             "dict": ("dict",)}


def module_path(name):
    return os.path.normpath(os.path.join(MODULES_DIR, name + ".py"))


def load(name):
    """(DOCUMENTATION, EXAMPLES as text, RETURN) of a module, read without importing it."""
    with open(module_path(name), "rb") as handle:
        tree = ast.parse(handle.read())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in ("DOCUMENTATION", "EXAMPLES", "RETURN"):
                found[node.targets[0].id] = node.value.value
    return yaml.safe_load(found["DOCUMENTATION"]), found["EXAMPLES"], yaml.safe_load(found["RETURN"]) or {}


def description(spec):
    text = spec.get("description", "")
    return " ".join(text) if isinstance(text, list) else str(text)


def is_present_always(spec, status):
    """Whether a documented key must be in a result of this status ("ok" or "failed")."""
    returned = str(spec.get("returned", "always")).strip().lower()
    if status == "ok":
        return returned in ("always", "success")
    return False  # a failure may stop before the module built its result; only types are checked


def compare(result_shape, returndocs, status="ok", where="", extra_contains=None):
    """Problems (strings) of one result against RETURN; observed documented paths are yielded too.

    Returns (problems, observed) where observed is a set of (path, non_null) for the coverage check.
    extra_contains maps a documented path (e.g. "checks[]") to a contains mapping the docs state in words.
    """
    problems, observed = [], set()
    extra_contains = extra_contains or {}
    keys = result_shape.get("k", {})
    for key, shape in sorted(keys.items()):
        if key.startswith("_ansible_"):
            continue
        if key not in returndocs:
            if key not in COMMON_KEYS:
                problems.append("%s%s: returned but not documented in RETURN" % (where, key))
            continue
        _value(shape, returndocs[key], key, problems, observed, where, extra_contains)
    for key, spec in returndocs.items():
        if key not in keys and is_present_always(spec, status):
            problems.append("%s%s: documented as returned %s but missing from a successful result"
                            % (where, key, spec.get("returned", "always")))
    return problems, observed


def _value(shape, spec, path, problems, observed, where, extra_contains):
    kind = shape["t"]
    observed.add((path, kind != "null"))
    doc_type = spec.get("type", "raw")
    if kind == "null":
        if not _SAYS_NULL.search(description(spec)):
            problems.append("%s%s: is null, but its description never says it can be" % (where, path))
        return
    if doc_type in ("raw", "any"):
        return
    if kind not in _PY_TYPES.get(doc_type, (doc_type,)):
        problems.append("%s%s: is %s, documented as %s" % (where, path, kind, doc_type))
        return
    if kind == "dict":
        contains = extra_contains.get(path, spec.get("contains"))
        if contains:
            _dict(shape, contains, path, problems, observed, where, extra_contains)
    elif kind == "list":
        elements = spec.get("elements")
        item_spec = {"type": elements or "raw", "description": description(spec)}
        contains = extra_contains.get(path + "[]", spec.get("contains"))
        if contains:
            item_spec["contains"] = contains
        if elements is None and shape.get("e"):
            problems.append("%s%s: a list whose documentation names no elements type" % (where, path))
        for item in shape.get("e", []):
            _value(item, item_spec, path + "[]", problems, observed, where, extra_contains)


def _dict(shape, contains, path, problems, observed, where, extra_contains):
    keys = shape.get("k", {})
    for key, sub in sorted(keys.items()):
        if key not in contains:
            problems.append("%s%s.%s: returned but not documented under %s" % (where, path, key, path))
            continue
        _value(sub, contains[key], "%s.%s" % (path, key), problems, observed, where, extra_contains)
    for key, spec in contains.items():
        if key not in keys and str(spec.get("returned", "always")).strip().lower() in ("always", "success"):
            problems.append("%s%s.%s: documented but missing" % (where, path, key))


def documented_paths(returndocs, extra_contains=None, prefix=""):
    """Every documented path, in the notation of compare() ("a", "a.b", "a[]", "a[].b")."""
    extra_contains = extra_contains or {}
    paths = set()
    for key, spec in returndocs.items():
        path = prefix + key
        paths.add(path)
        contains = None
        if spec.get("type") == "list":
            contains = extra_contains.get(path + "[]", spec.get("contains"))
            if spec.get("elements"):
                paths.add(path + "[]")
            if contains:
                paths |= documented_paths(contains, extra_contains, path + "[].")
        elif spec.get("type") == "dict":
            contains = extra_contains.get(path, spec.get("contains"))
            if contains:
                paths |= documented_paths(contains, extra_contains, path + ".")
    return paths


def sample_problems(returndocs, prefix=""):
    """Samples whose type contradicts the documented type (a sample is documentation too)."""
    problems = []
    for key, spec in returndocs.items():
        path = prefix + key
        if "sample" in spec and spec["sample"] is not None:
            problems.extend(_sample_problems(spec["sample"], spec, path))
        if spec.get("contains"):
            problems.extend(sample_problems(spec["contains"], path + "."))
    return problems


def _sample_problems(sample, spec, path):
    doc_type = spec.get("type", "raw")
    checks = {"str": str, "int": int, "float": (int, float), "bool": bool, "list": list, "dict": dict}
    expected = checks.get(doc_type)
    if expected is None:
        return []
    if doc_type == "int" and isinstance(sample, bool) or not isinstance(sample, expected):
        return ["%s: sample %r is not a %s" % (path, sample, doc_type)]
    problems = []
    if doc_type == "list" and spec.get("elements") in checks:
        for item in sample:
            problems.extend(_sample_problems(item, {"type": spec["elements"], "contains": spec.get("contains")},
                                             path + "[]"))
    if isinstance(sample, dict) and spec.get("contains"):
        for key, value in sample.items():
            if key not in spec["contains"]:
                problems.append("%s: sample key %s is not documented under contains" % (path, key))
            elif value is not None:
                problems.extend(_sample_problems(value, spec["contains"][key], "%s.%s" % (path, key)))
    return problems
