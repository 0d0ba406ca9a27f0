# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/plan.py: the pre-flight's "what would change", which lets the
rollout skip trust_anchor and client_cert calls. It must never write, and must agree with the modules."""

from __future__ import annotations

import json
import os

import pytest

import pki
from ansible_collections.vip.mtls.plugins.module_utils import outputs, plan, systemstore, truststore
from ansible_collections.vip.mtls.plugins.module_utils.argspecs import CLIENT_CERT_CONTROLLER_ONLY
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.module_utils.pem import der_to_pem

from test_clientcert import FakeModule as CertModule, make_args, mode_of, run
from test_systemstore import DEB, DEBIAN, fake_root, listing


def cert_wanted(chain, dest_dir, **overrides):
    """plan_client_cert as mtls_info's action plugin hands it over: module arguments plus _outputs (JSON)."""
    args = make_args(dest_dir, **overrides)
    wanted = {k: v for k, v in args.items() if k not in CLIENT_CERT_CONTROLLER_ONLY}
    wanted["_outputs"] = json.dumps(outputs.render_outputs(chain.leaf_key, chain.leaf, [chain.inter], args))
    return wanted


def deploy_params(wanted):
    params = plan.module_params(dict(plan.CLIENT_CERT, **plan.CLIENT_CERT_INTERNAL), wanted, "x")
    params["_outputs"] = json.loads(params["_outputs"])
    return params


@pytest.fixture(scope="module")
def chain():
    return pki.Chain()


class TestClientCertPlan:

    def test_fresh_host_would_change_and_nothing_is_written(self, chain, tmp_path):
        dest = str(tmp_path / "etc" / "vip-mtls")
        out = plan.plan(CertModule(check_mode=False), {"client_cert": cert_wanted(chain, dest)})
        assert out["client_cert"]["changed"] is True
        assert out["client_cert"]["previous_fingerprint_sha256"] is None
        assert not os.path.exists(dest)  # check mode although the module itself is not in check mode

    def test_after_a_deploy_nothing_would_change_until_a_file_drifts(self, chain, tmp_path):
        dest = str(tmp_path / "vip")
        wanted = cert_wanted(chain, dest)
        run(deploy_params(wanted))
        again = cert_wanted(chain, dest)  # a fresh render, as on the next run
        assert plan.plan(CertModule(), {"client_cert": again})["client_cert"]["changed"] is False
        os.chmod(os.path.join(dest, "client.key"), 0o640)
        drifted = plan.plan(CertModule(), {"client_cert": again})["client_cert"]
        assert drifted["changed"] is True and mode_of(os.path.join(dest, "client.key")) == 0o640
        assert drifted["previous_fingerprint_sha256"] is not None
        assert run(deploy_params(again))["changed"] is True  # the module agrees

    def test_bad_owner_fails_like_the_module_before_anything_changes(self, chain, tmp_path):
        dest = str(tmp_path / "vip")
        with pytest.raises(VipMtlsError, match="no-such-user-x"):
            plan.plan(CertModule(), {"client_cert": cert_wanted(chain, dest, owner="no-such-user-x")})
        assert not os.path.exists(dest)

    def test_arguments_are_validated_as_the_module_would(self, chain, tmp_path):
        wanted = cert_wanted(chain, str(tmp_path / "vip"), key_mode="0600")
        wanted["state"] = "sideways"
        with pytest.raises(VipMtlsError, match="plan_client_cert: .*state"):
            plan.plan(CertModule(), {"client_cert": wanted})


class TestTrustPlan:

    @pytest.fixture
    def debian(self, tmp_path, monkeypatch):
        root, module = fake_root(tmp_path, DEBIAN, DEB)
        lock = tmp_path / "lock"
        lock.mkdir()
        monkeypatch.setattr(truststore, "LOCK_DIRS", (str(lock),))
        monkeypatch.setattr(truststore, "system_store",
                            lambda m: systemstore.SystemStore(m, "debian", root=str(root)))
        return module

    def wanted(self, ders, absent=()):
        items = [{"name": "r%d" % i, "content": der_to_pem(d)} for i, d in enumerate(ders)]
        items += [{"name": name, "fingerprint_sha256": [fp], "state": "absent"} for name, fp in absent]
        return {"anchors": items, "stores": ["system"]}

    def test_plan_then_install_then_nothing_to_do(self, debian):
        ders = [pki.der(pki.make_cert("Plan Root %d" % i, ca=True)[0]) for i in range(2)]
        first = plan.plan(debian, {"trust": self.wanted(ders)})["trust"]
        assert first["changed"] is True and listing(debian.anchor_dir) == [] and debian.calls == []
        assert [a["name"] for a in first["anchors"]] == ["r0", "r1"]
        truststore.manage_trust(debian, plan.module_params(plan.TRUST_ANCHOR, self.wanted(ders), "x"))
        assert len(debian.calls) == 1  # both anchors, one refresh
        assert plan.plan(debian, {"trust": self.wanted(ders)})["trust"]["changed"] is False
        # dropping one of them is a change again
        fp = first["anchors"][1]["fingerprint_sha256"]
        assert plan.plan(debian, {"trust": self.wanted(ders[:1], absent=[("r1", fp)])})["trust"]["changed"] is True
        assert listing(debian.anchor_dir) == ["r0.crt", "r1.crt"]


def test_an_unknown_option_is_called_unsupported():
    with pytest.raises(VipMtlsError, match=r"plan_client_cert: unsupported option pasphrase\. Supported parameters"):
        plan.module_params(plan.CLIENT_CERT, {"src": "x.p12", "pasphrase": "secret"}, "plan_client_cert")


def test_duplicate_anchor_names_fail_on_the_controller_before_any_file_is_read():
    from ansible_collections.vip.mtls.plugins.plugin_utils.inputs import prepare_trust

    class NoReading(object):
        def read_source(self, *args):
            raise AssertionError("read a file although the names were wrong")

    items = [{"name": "dup", "src": "a.crt"}, {"name": "dup", "src": "b.crt"}]
    args = plan.module_params(plan.TRUST_ANCHOR, {"anchors": items}, "x")
    with pytest.raises(VipMtlsError, match="anchor name dup is listed more than once"):
        prepare_trust(NoReading(), args, {})
