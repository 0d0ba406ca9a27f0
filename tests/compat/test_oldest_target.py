"""The oldest target tested: Debian bullseye (Python 3.9). make test-compat runs this file, and
tests/integration/test_rollout.py (a full rollout with the live check, check mode, refused inputs and each
mtls_check failure), on bullseye hosts with the project's venv (the newest ansible-core installed here)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from compat_support import OLDEST_IMAGE, OLDEST_PYTHON, PREFIX, it

ROOT = Path(__file__).resolve().parents[2]


def _target_files():
    """The files AnsiballZ ships to targets, found as tests/unit/test_target_python.py finds them."""
    spec = importlib.util.spec_from_file_location("vip_mtls_target_python", ROOT / "tests/unit/test_target_python.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return sorted(module.TARGET)


@pytest.fixture(scope="module")
def oldest(tmp_path_factory):
    yield from it.host_group(PREFIX + "-old", 1, OLDEST_IMAGE, tmp_path_factory, app_user=None)


def test_the_oldest_target_runs_the_python_we_claim(oldest):
    host = oldest["hosts"][0]
    version = it.podman_exec(host, "python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])").stdout
    assert version.strip() == "%d.%d" % OLDEST_PYTHON
    assert "bullseye" in it.podman_exec(host, "cat", "/etc/os-release").stdout


def test_every_target_file_compiles_on_the_oldest_python(oldest):
    """Also the files a test run may not reach (info.py imports javastore and tls_probe only when asked)."""
    host = oldest["hosts"][0]
    files = _target_files()
    assert len(files) > 10
    it.podman_exec(host, "rm", "-rf", "/tmp/vip-target")
    it.podman_exec(host, "mkdir", "-p", "/tmp/vip-target")
    for path in files:
        it.run(["podman", "cp", str(path), "%s:/tmp/vip-target/%s-%s" % (host, path.parent.name, path.name)])
    proc = it.podman_exec(host, "python3", "-m", "compileall", "-q", "/tmp/vip-target", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    compiled = it.podman_exec(host, "sh", "-c", "ls /tmp/vip-target/__pycache__ | grep -c 'cpython-39.pyc$'").stdout
    assert int(compiled) == len(files)


def test_compile_check_can_fail(oldest, tmp_path):
    """The same check rejects a file that needs Python 3.10 (structural pattern matching)."""
    host = oldest["hosts"][0]
    sample = tmp_path / "newer.py"
    sample.write_text("match 1:\n    case 1:\n        pass\n")
    it.podman_exec(host, "mkdir", "-p", "/tmp/vip-newer")
    it.run(["podman", "cp", str(sample), "%s:/tmp/vip-newer/newer.py" % host])
    assert it.podman_exec(host, "python3", "-m", "compileall", "-q", "/tmp/vip-newer", check=False).returncode != 0
