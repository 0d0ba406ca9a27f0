# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation checks that need no host: EXAMPLES use real options with valid values, RETURN samples have
the documented types, and the comparison of results with RETURN (used on real results by
tests/integration/test_docs.py) finds what it must find."""

from __future__ import annotations

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

import module_docs
from ansible_collections.vip.mtls.plugins.module_utils import argspecs

SPECS = {
    "trust_anchor": argspecs.TRUST_ANCHOR,
    "client_cert": argspecs.CLIENT_CERT,
    "mtls_check": argspecs.MTLS_CHECK,
    "mtls_info": argspecs.MTLS_INFO,
}


@pytest.mark.parametrize("module", module_docs.MODULES)
def test_examples_use_real_options_with_valid_values(module):
    tasks = yaml.safe_load(module_docs.load(module)[1])
    calls = [task["vip.mtls." + module] or {} for task in tasks if "vip.mtls." + module in task]
    assert calls, "no example of %s calls it" % module
    for args in calls:
        result = ArgumentSpecValidator(SPECS[module]).validate(args)
        assert not result.error_messages, (module, args, result.error_messages)


@pytest.mark.parametrize("module", module_docs.MODULES)
def test_return_samples_have_the_documented_types(module):
    assert module_docs.sample_problems(module_docs.load(module)[2]) == []


@pytest.mark.parametrize("module", module_docs.MODULES)
def test_every_documented_return_value_has_a_type_and_a_description(module):
    def walk(docs, prefix=""):
        for key, spec in docs.items():
            assert spec.get("type") and module_docs.description(spec), (module, prefix + key)
            if spec.get("type") == "list":
                assert spec.get("elements"), "%s: list %s%s names no elements type" % (module, prefix, key)
            walk(spec.get("contains") or {}, prefix + key + ".")
    walk(module_docs.load(module)[2])


# --- the comparison itself, on made-up shapes -------------------------------------------------------------

RETURN = yaml.safe_load("""
name: {description: A name., returned: always, type: str}
count: {description: How many; null when unknown., returned: success, type: int}
when_asked: {description: Only sometimes., returned: when asked, type: bool}
items:
  description: Things.
  returned: always
  type: list
  elements: dict
  contains:
    path: {description: Where., type: str}
    size: {description: "Bytes, or null.", type: int}
""")


def S(kind, **more):
    """A shape as the recording callback writes it."""
    return dict(t=kind, **more)


def result(**keys):
    return S("dict", k=keys)


def good(**override):
    keys = dict(name=S("str"), count=S("int"), changed=S("bool"),
                items=S("list", e=[result(path=S("str"), size=S("null"))]))
    keys.update(override)
    return result(**{k: v for k, v in keys.items() if v is not None})


def test_a_matching_result_has_no_problems_and_shows_what_was_seen():
    problems, observed = module_docs.compare(good(), RETURN)
    assert problems == []
    assert ("items[].size", False) in observed and ("items[].path", True) in observed and ("name", True) in observed


@pytest.mark.parametrize("override, expected", [
    (dict(extra=S("str")), "extra: returned but not documented"),
    (dict(name=S("int")), "name: is int, documented as str"),
    (dict(name=S("null")), "name: is null, but its description never says it can be"),
    (dict(count=None), "count: documented as returned success but missing"),
    (dict(items=S("list", e=[result(path=S("str"), size=S("int"), mode=S("str"))])),
     "items[].mode: returned but not documented under items[]"),
    (dict(items=S("list", e=[result(size=S("int"))])), "items[].path: documented but missing"),
    (dict(items=S("list", e=[result(path=S("bool"), size=S("int"))])), "items[].path: is bool, documented as str"),
    (dict(count=S("bool")), "count: is bool, documented as int"),
])
def test_each_kind_of_difference_is_found(override, expected):
    problems, _observed = module_docs.compare(good(**override), RETURN)
    assert [p for p in problems if expected in p], problems


def test_failed_results_need_not_hold_every_key_but_their_types_are_checked():
    problems, _observed = module_docs.compare(result(msg=S("str"), name=S("int")), RETURN, status="failed")
    assert problems == ["name: is int, documented as str"]


def test_documented_paths_cover_nested_keys():
    assert module_docs.documented_paths(RETURN) == {"name", "count", "when_asked", "items", "items[]",
                                                    "items[].path", "items[].size"}


def test_a_wrong_sample_is_found():
    docs = yaml.safe_load("""
    n: {description: N., type: int, sample: "12"}
    l: {description: L., type: list, elements: str, sample: [1]}
    d: {description: D., type: dict, contains: {a: {description: A., type: str}}, sample: {a: x, b: y}}
    """)
    assert sorted(module_docs.sample_problems(docs)) == [
        "d: sample key b is not documented under contains", "l[]: sample 1 is not a str", "n: sample '12' is not a int"]
