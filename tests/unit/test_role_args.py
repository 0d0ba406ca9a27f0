# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles write each module's options once, as a dict in vars/main.yml (the vip_mtls pre-flight hands the
same dicts to mtls_info as plan_trust / plan_client_cert), and the tasks pass them on key by key (a templated
`args:` would make ansible-core warn on every run). This keeps the two in step: a key added to a dict but not
to its task would be checked in the pre-flight and then silently not applied."""

from __future__ import annotations

import os
import re

import pytest
import yaml

ROLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "roles")

# (vars file, dict variable, task file, module, keys the task may leave out)
CASES = [
    ("vip_trust", "__vip_trust_args", "vip_trust/tasks/main.yml", "vip.mtls.trust_anchor", set()),
    ("vip_trust", "__vip_trust_args", "vip_trust/tasks/validate.yml", "vip.mtls.trust_anchor", set()),
    ("vip_client_cert", "__vip_client_cert_args", "vip_client_cert/tasks/deploy.yml", "vip.mtls.client_cert", set()),
    ("vip_client_cert", "__vip_client_cert_args", "vip_mtls/tasks/rotate.yml", "vip.mtls.client_cert",
     {"dest_dir", "cert_path", "key_path", "chain_path",  # the staging directory's own paths
      "state", "backup", "combined_path", "pkcs12_path", "pkcs12_passphrase", "pkcs12_compat", "keystore_path",
      "keystore_type", "keystore_password", "keystore_alias"}),
    ("vip_verify", "__vip_verify_check_args", "vip_verify/tasks/main.yml", "vip.mtls.mtls_check", set()),
    ("vip_verify", "__vip_verify_check_args", "vip_mtls/tasks/rotate.yml", "vip.mtls.mtls_check", set()),
]


def dict_keys(role, variable):
    with open(os.path.join(ROLES, role, "vars", "main.yml")) as handle:
        template = yaml.safe_load(handle)[variable]
    # the dict literal's keys, plus the keys added with combine({'key': ...})
    keys = set(re.findall(r"'([a-z0-9_]+)':", template))
    if variable == "__vip_trust_args":  # the keys of each anchor item are not options of the call
        keys -= {"name", "src", "content", "fingerprint_sha256", "allow_intermediate", "state"}
    return keys


def tasks_of(path):
    def walk(tasks):
        for task in tasks or []:
            yield task
            for key in ("block", "rescue", "always"):
                yield from walk(task.get(key))
    with open(os.path.join(ROLES, path)) as handle:
        return list(walk(yaml.safe_load(handle)))


@pytest.mark.parametrize("role, variable, path, module, optional", CASES, ids=[c[2] + ":" + c[3] for c in CASES])
def test_task_passes_every_key_of_the_dict(role, variable, path, module, optional):
    calls = [t[module] for t in tasks_of(path) if module in t]
    assert calls, "%s calls no %s" % (path, module)
    wanted = dict_keys(role, variable) - optional
    assert wanted, variable
    for options in calls:
        from_dict = {k for k, v in options.items() if isinstance(v, str) and (variable + ".") in v}
        missing = wanted - from_dict
        assert not missing, "%s passes no %s from %s" % (path, sorted(missing), variable)
        for key in from_dict:
            assert "%s.%s " % (variable, key) in options[key] or "%s.%s}" % (variable, key) in options[key], \
                "%s: option %s reads another key of %s" % (path, key, variable)


def test_no_templated_task_args():
    for role in os.listdir(ROLES):
        for base, _dirs, files in os.walk(os.path.join(ROLES, role)):
            for name in files:
                if name.endswith(".yml"):
                    with open(os.path.join(base, name)) as handle:
                        assert not re.search(r"^\s*args:\s*[\"']?\{\{", handle.read(), re.M), os.path.join(base, name)
