# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/truststore.py: the orchestrator (manage_trust, summarise)
with fake stores, and the host lock across real processes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time

import pytest

import pki
from ansible_collections.vip.mtls.plugins.module_utils import systemstore, truststore
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.module_utils.pem import der_to_pem, normalise_fingerprint

from test_systemstore import DEB, DEBIAN, fake_root

# The directory this run imports ansible_collections from (.build/collections, or ansible-test's tree).
COLLECTIONS = os.path.abspath(os.path.join(os.path.dirname(truststore.__file__), *[".."] * 5))


@pytest.fixture(scope="module")
def certs():
    return [pki.make_cert("Orchestra Root %d" % i, ca=True)[0] for i in range(3)]


@pytest.fixture(scope="module")
def ders(certs):
    return [pki.der(c) for c in certs]


def fingerprint(der):
    from ansible_collections.vip.mtls.plugins.module_utils.pem import der_fingerprint
    return der_fingerprint(der)


def params(content="", name="vip", state="present", pins=None, stores=("system",)):
    return {"name": name, "state": state, "content": content, "fingerprint_sha256": list(pins or []),
            "stores": list(stores)}


def pem_of(*ders):
    return "".join(der_to_pem(d) for d in ders)


class FakeStore(object):
    """A backend as anchors.py describes it: kind, label and manage()."""

    def __init__(self, kind, label, result=None, error=None):
        self.kind = kind
        self.label = label
        self.result = result
        self.error = error
        self.calls = []

    def manage(self, name, anchors, state, fingerprints):
        self.calls.append((name, list(anchors), state, set(fingerprints)))
        if self.error:
            raise self.error
        if self.result is not None:
            return dict(self.result)
        after = {"%s-%s" % (name, a.fingerprint[:2]): a.der for a in anchors} if state == "present" else {}
        return {"changed": bool(after), "paths": ["/%s/%s" % (self.kind, n) for n in sorted(after)],
                "removed": [], "refreshed": bool(after), "before": {}, "after": after}


def result(changed=False, paths=(), removed=(), refreshed=False, before=None, after=None, notes=None):
    out = {"changed": changed, "paths": list(paths), "removed": list(removed), "refreshed": refreshed,
           "before": before or {}, "after": after or {}}
    if notes is not None:
        out["notes"] = notes
    return out


@pytest.fixture(autouse=True)
def lock_dir(tmp_path, monkeypatch):
    """Every test locks in its own directory, never in the machine's /run/lock."""
    directory = tmp_path / "lock"
    directory.mkdir()
    monkeypatch.setattr(truststore, "LOCK_DIRS", (str(directory),))
    return directory


class TestManageTrust:

    def test_every_store_gets_the_anchors_and_results_are_aggregated(self, ders):
        system = FakeStore("system", "system (debian)", result(True, ["/s/vip.crt"], refreshed=True,
                                                               after={"vip.crt": ders[0]}))
        bundle_a = FakeStore("bundle", "bundle /a.pem", result(False, ["/a.pem"]))
        bundle_b = FakeStore("bundle", "bundle /b.pem", result(True, ["/b.pem"], removed=["/b.old"]))
        out = truststore.manage_trust(None, params(pem_of(ders[0])), stores=[system, bundle_a, bundle_b])
        for store in (system, bundle_a, bundle_b):
            (name, anchors, state, fps), = store.calls
            assert name == "vip" and state == "present"
            assert [a.der for a in anchors] == [ders[0]]
            assert fps == {normalise_fingerprint(fingerprint(ders[0]))}
        assert out["changed"] is True and out["refreshed"] is True
        assert out["stores"] == {
            "system": {"changed": True, "paths": ["/s/vip.crt"], "removed": [], "refreshed": True},
            "bundle": {"changed": True, "paths": ["/a.pem", "/b.pem"], "removed": ["/b.old"], "refreshed": False},
        }
        assert out["anchors"] == [{"name": "vip", "state": "present", "fingerprint_sha256": fingerprint(ders[0]), "path": "/s/vip.crt"}]

    def test_nothing_changed_anywhere(self, ders):
        stores = [FakeStore("system", "s", result()), FakeStore("java", "j", result())]
        out = truststore.manage_trust(None, params(pem_of(ders[0])), stores=stores)
        assert out["changed"] is False and out["refreshed"] is False
        assert out["diff"] == {"before": "", "after": ""}

    def test_without_system_store_anchor_paths_are_none(self, ders):
        out = truststore.manage_trust(None, params(pem_of(ders[0])), stores=[FakeStore("bundle", "b")])
        assert out["anchors"] == [{"name": "vip", "state": "present", "fingerprint_sha256": fingerprint(ders[0]),
                                  "path": None}]

    def test_a_failing_store_fails_the_run(self, ders):
        later = FakeStore("bundle", "b")
        stores = [FakeStore("system", "s", error=VipMtlsError("refresh failed")), later]
        with pytest.raises(VipMtlsError, match="refresh failed"):
            truststore.manage_trust(None, params(pem_of(ders[0])), stores=stores)
        assert later.calls == []

    def test_absent_without_fingerprints_fails_before_any_store(self):
        store = FakeStore("system", "s")
        with pytest.raises(VipMtlsError) as info:
            truststore.manage_trust(None, params("", state="absent"), stores=[store])
        assert "needs the certificate" in info.value.msg and "fingerprint_sha256" in info.value.msg
        assert store.calls == []

    def test_absent_with_content_that_holds_no_certificate_fails(self):
        store = FakeStore("system", "s")
        with pytest.raises(VipMtlsError, match="needs the certificate"):
            truststore.manage_trust(None, params("not a certificate", state="absent"), stores=[store])
        assert store.calls == []

    def test_absent_by_pin_only(self, ders):
        store = FakeStore("system", "s", result(True, removed=["/s/vip.crt"], refreshed=True,
                                                before={"vip.crt": ders[0]}))
        pin = fingerprint(ders[0]).replace(":", "").lower()
        out = truststore.manage_trust(None, params("", state="absent", pins=[pin]), stores=[store])
        (_name, anchors, state, fps), = store.calls
        assert anchors == [] and state == "absent" and fps == {pin}
        assert out["changed"] is True and out["anchors"] == []
        assert out["stores"]["system"]["removed"] == ["/s/vip.crt"]
        assert fingerprint(ders[0]) in out["diff"]["before"] and out["diff"]["after"] == ""

    def test_absent_with_content_and_pin_names_both(self, ders):
        store = FakeStore("system", "s", result())
        truststore.manage_trust(None, params(pem_of(ders[0]), state="absent", pins=[fingerprint(ders[1])]),
                                stores=[store])
        assert store.calls[0][3] == {normalise_fingerprint(fingerprint(d)) for d in ders[:2]}

    def test_present_without_a_certificate_fails(self):
        store = FakeStore("system", "s")
        with pytest.raises(VipMtlsError, match="no PEM certificate"):
            truststore.manage_trust(None, params("-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n"),
                                    stores=[store])
        assert store.calls == []

    def test_pins_are_checked_again_before_any_store(self, ders):
        store = FakeStore("system", "s")
        with pytest.raises(VipMtlsError) as info:
            truststore.manage_trust(None, params(pem_of(ders[0], ders[1]), pins=[fingerprint(ders[0])]),
                                    stores=[store])
        assert fingerprint(ders[1]) in info.value.msg and "fingerprint_sha256" in info.value.msg
        assert store.calls == []

    def test_pins_in_any_form_match(self, ders):
        store = FakeStore("system", "s")
        pins = [fingerprint(ders[0]).lower(), fingerprint(ders[1]).replace(":", "")]
        out = truststore.manage_trust(None, params(pem_of(ders[0], ders[1]), pins=pins), stores=[store])
        assert out["changed"] is True

    def test_malformed_pin_fails(self, ders):
        with pytest.raises(VipMtlsError, match="not a SHA-256 fingerprint"):
            truststore.manage_trust(None, params(pem_of(ders[0]), pins=["AB:CD"]), stores=[FakeStore("s", "s")])

    @pytest.mark.parametrize("name", ["../etc/passwd", "a/b", ""])
    def test_bad_name_fails_before_any_store(self, ders, name):
        store = FakeStore("system", "s")
        with pytest.raises(VipMtlsError, match="not a plain file base name"):
            truststore.manage_trust(None, params(pem_of(ders[0]), name=name), stores=[store])
        assert store.calls == []

    def test_stores_run_under_the_host_lock(self, ders, lock_dir):
        seen = []

        class Probe(FakeStore):
            def manage(self, *args):
                seen.append(try_lock_in_other_process(lock_dir, wait=0))
                return super().manage(*args)

        truststore.manage_trust(None, params(pem_of(ders[0])), stores=[Probe("system", "s"), Probe("bundle", "b")])
        assert [s.returncode for s in seen] == [3, 3], seen  # held by this run during every store
        assert try_lock_in_other_process(lock_dir, wait=0).returncode == 0  # and released afterwards


class TestDiff:

    def test_lines_name_store_entry_subject_and_fingerprint_never_pem(self, certs, ders):
        store = FakeStore("system", "system (debian) /usr/local/share/ca-certificates",
                          result(True, ["/x/vip.crt"], refreshed=True, before={"vip.crt": ders[1]},
                                 after={"vip.crt": ders[0]}, notes=["vip.crt is missing from /b: refresh"]))
        out = truststore.manage_trust(None, params(pem_of(ders[0])), stores=[store])
        before, after = out["diff"]["before"], out["diff"]["after"]
        assert "system (debian) /usr/local/share/ca-certificates: vip.crt" in before
        assert "CN=Orchestra Root 1" in before and fingerprint(ders[1]) in before
        assert "CN=Orchestra Root 0" in after and fingerprint(ders[0]) in after
        assert "vip.crt is missing from /b: refresh" in after
        everything = json.dumps(out)
        assert "BEGIN" not in everything
        for der in ders[:2]:
            body = der_to_pem(der).splitlines()[1:-1]
            assert not [line for line in body if line in everything]
        assert len(before.splitlines()) == 1 and len(after.splitlines()) == 2

    def test_unparsable_entry_is_named_not_shown(self):
        out = truststore.summarise([], [(FakeStore("system", "s"), None, result(before={"vip.crt": None}))])
        assert out["diff"]["before"] == "s: vip.crt  (not a single certificate)\n"

    def test_several_stores_each_get_lines(self, ders):
        results = [(FakeStore("system", "sys"), None, result(True, after={"vip.crt": ders[0]})),
                   (FakeStore("bundle", "bundle /a.pem"), None, result(True, after={"/a.pem": ders[0]}))]
        after = truststore.summarise([], results)["diff"]["after"]
        assert after.count(fingerprint(ders[0])) == 2 and "sys: vip.crt" in after and "bundle /a.pem: /a.pem" in after


class TestWithTheRealSystemStore:

    def test_each_anchor_gets_its_own_path(self, tmp_path, ders):
        root, module = fake_root(tmp_path, DEBIAN, DEB)
        store = systemstore.system_store(module, root=str(root))
        # Input order differs from the order of the file names (sorted by fingerprint).
        order = sorted(ders, key=fingerprint, reverse=True)
        out = truststore.manage_trust(module, params(pem_of(*order)), stores=[store])
        assert out["changed"] is True
        assert [a["fingerprint_sha256"] for a in out["anchors"]] == [fingerprint(d) for d in order]
        for anchor in out["anchors"]:
            short = anchor["fingerprint_sha256"].replace(":", "")[:12].lower()
            assert anchor["path"] == os.path.join(module.anchor_dir, "vip-%s.crt" % short)
            assert os.path.isfile(anchor["path"])
        again = truststore.manage_trust(module, params(pem_of(*reversed(order))), stores=[store])
        assert again["changed"] is False
        assert {a["path"] for a in again["anchors"]} == {a["path"] for a in out["anchors"]}

    def test_check_mode_diff_then_real_run(self, tmp_path, ders):
        root, module = fake_root(tmp_path, DEBIAN, DEB)
        store = systemstore.system_store(module, root=str(root))
        module.check_mode = True
        planned = truststore.manage_trust(module, params(pem_of(ders[0])), stores=[store])
        assert planned["changed"] is True and planned["refreshed"] is False and module.calls == []
        assert not os.path.exists(module.anchor_dir)
        module.check_mode = False
        done = truststore.manage_trust(module, params(pem_of(ders[0])), stores=[store])
        assert done["diff"] == planned["diff"]
        assert done["changed"] is True and done["refreshed"] is True


# --- the host lock, across processes ------------------------------------------------------------

HOLDER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, %(collections)r)
    from ansible_collections.vip.mtls.plugins.module_utils import truststore
    from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
    truststore.LOCK_DIRS = (%(lock_dir)r,)
    try:
        with truststore.host_lock(wait=float(sys.argv[1])):
            print("locked %%f" %% time.time(), flush=True)
            if sys.argv[2] == "hold":
                sys.stdin.readline()  # hold the lock until the test writes a line
            print("releasing %%f" %% time.time(), flush=True)
    except VipMtlsError as exc:
        print(exc.msg, flush=True)
        sys.exit(3)
""")


def lock_process(lock_dir, wait, mode):
    script = HOLDER % {"collections": COLLECTIONS, "lock_dir": str(lock_dir)}
    return subprocess.Popen([sys.executable, "-c", script, str(wait), mode], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def try_lock_in_other_process(lock_dir, wait):
    proc = lock_process(lock_dir, wait, "once")
    out, err = proc.communicate(timeout=30)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture
def holder(lock_dir):
    """A process holding the host lock until its stdin gets a line."""
    proc = lock_process(lock_dir, 5, "hold")
    line = proc.stdout.readline()
    assert line.startswith("locked"), (line, proc.stderr.read() if proc.poll() is not None else "")
    yield proc
    if proc.poll() is None:
        proc.stdin.write("\n")
        proc.stdin.flush()
        proc.communicate(timeout=10)


def release(proc):
    proc.stdin.write("\n")
    proc.stdin.flush()
    released_at = time.time()
    return released_at


class TestHostLock:

    def test_second_process_waits_until_the_first_releases(self, holder, lock_dir):
        waiter = lock_process(lock_dir, 20, "once")
        time.sleep(1.0)
        assert waiter.poll() is None  # still waiting for the lock
        released_at = release(holder)
        out, err = waiter.communicate(timeout=20)
        assert waiter.returncode == 0, (out, err)
        locked_at = float(re.search(r"locked (\S+)", out).group(1))
        releasing_at = float(re.search(r"releasing (\S+)", holder.communicate(timeout=10)[0]).group(1))
        assert locked_at >= releasing_at  # never both at once
        assert locked_at >= released_at - 0.05

    def test_short_wait_times_out_with_a_clear_message(self, holder, lock_dir):
        started = time.monotonic()
        with pytest.raises(VipMtlsError) as info:
            with truststore.host_lock(wait=0.5):
                pytest.fail("got the lock another process holds")
        elapsed = time.monotonic() - started
        assert 0.5 <= elapsed < 5
        msg = info.value.msg
        path = os.path.join(str(lock_dir), truststore.LOCK_NAME)
        assert "another vip.mtls.trust_anchor run held %s" % path in msg and "try again" in msg

    def test_manage_trust_waits_for_the_lock_too(self, holder, lock_dir, ders, monkeypatch):
        store = FakeStore("system", "s")
        # host_lock's default wait (LOCK_WAIT, 120 s) is bound at definition: shorten it for the test.
        monkeypatch.setattr(truststore, "host_lock", _with_wait(truststore.host_lock, 0.3))
        with pytest.raises(VipMtlsError, match="another vip.mtls.trust_anchor run"):
            truststore.manage_trust(None, params(pem_of(ders[0])), stores=[store])
        assert store.calls == []

    def test_lock_is_released_when_the_body_fails(self, lock_dir):
        with pytest.raises(RuntimeError):
            with truststore.host_lock(wait=0):
                raise RuntimeError("store exploded")
        assert try_lock_in_other_process(lock_dir, wait=0).returncode == 0

    def test_other_process_times_out_while_held(self, holder, lock_dir):
        other = try_lock_in_other_process(lock_dir, wait=0.3)
        assert other.returncode == 3 and "another vip.mtls.trust_anchor run" in other.stdout

    def test_first_writable_directory_is_used(self, tmp_path, monkeypatch):
        missing = str(tmp_path / "missing")
        usable = tmp_path / "usable"
        usable.mkdir()
        monkeypatch.setattr(truststore, "LOCK_DIRS", (missing, str(usable)))
        with truststore.host_lock(wait=0):
            assert (usable / truststore.LOCK_NAME).exists()
        assert stat_mode(usable / truststore.LOCK_NAME) == 0o600

    def test_no_writable_directory(self, tmp_path, monkeypatch):
        monkeypatch.setattr(truststore, "LOCK_DIRS", (str(tmp_path / "a"), str(tmp_path / "b")))
        with pytest.raises(VipMtlsError) as info:
            with truststore.host_lock(wait=0):
                pass
        assert "no writable directory for the lock file" in info.value.msg and str(tmp_path / "b") in info.value.msg

    def test_symlink_at_the_lock_path_is_not_followed(self, lock_dir, tmp_path):
        target = tmp_path / "victim"
        target.write_text("keep")
        os.symlink(str(target), str(lock_dir / truststore.LOCK_NAME))
        with pytest.raises(VipMtlsError) as info:
            with truststore.host_lock(wait=0):
                pass
        assert str(lock_dir / truststore.LOCK_NAME) in info.value.msg
        assert target.read_text() == "keep"


def _with_wait(host_lock, wait):
    def patched(wait_=wait):
        return host_lock(wait=wait_)
    return patched


def stat_mode(path):
    return os.stat(str(path)).st_mode & 0o777


class TestAnchorList:
    """The list form (anchors: [...]): every item checked before any store, all items to each store."""

    def items(self, ders):
        return [{"name": "r%d" % i, "content": pem_of(d), "state": "present", "fingerprint_sha256": []}
                for i, d in enumerate(ders)]

    def test_each_store_gets_every_item_and_anchors_name_them(self, ders):
        store = FakeStore("system", "s")
        out = truststore.manage_trust(None, {"name": None, "content": None, "anchors": self.items(ders),
                                             "stores": ["system"]}, stores=[store])
        assert [c[0] for c in store.calls] == ["r0", "r1", "r2"]
        assert [(a["name"], a["fingerprint_sha256"]) for a in out["anchors"]] == [
            ("r%d" % i, fingerprint(d)) for i, d in enumerate(ders)]
        assert out["changed"] is True

    def test_many_capable_store_is_called_once(self, ders):
        class Many(FakeStore):
            def manage_many(self, requests):
                self.calls.append([r.name for r in requests])
                return [result(True, refreshed=True) for _r in requests]
        store = Many("system", "s")
        truststore.manage_trust(None, {"anchors": self.items(ders), "stores": ["system"]}, stores=[store])
        assert store.calls == [["r0", "r1", "r2"]]

    @pytest.mark.parametrize("change, message", [
        ({"name": "vip"}, "not both"),
        ({"java_alias": "x"}, "java_alias"),
    ])
    def test_list_with_single_form_options_fails(self, ders, change, message):
        store = FakeStore("system", "s")
        with pytest.raises(VipMtlsError, match=message):
            truststore.manage_trust(None, dict({"anchors": self.items(ders)}, **change), stores=[store])
        assert store.calls == []

    def test_duplicate_name_fails_before_any_store(self, ders):
        items = self.items(ders)
        items[2]["name"] = "r0"
        store = FakeStore("system", "s")
        with pytest.raises(VipMtlsError, match="listed twice"):
            truststore.manage_trust(None, {"anchors": items}, stores=[store])
        assert store.calls == []

    def test_a_bad_last_item_fails_before_any_store(self, ders):
        items = self.items(ders)
        items[2]["content"] = "no certificate"
        store = FakeStore("system", "s")
        with pytest.raises(VipMtlsError, match="r2 holds no PEM certificate"):
            truststore.manage_trust(None, {"anchors": items}, stores=[store])
        assert store.calls == []
