"""The execution environment definition (meta/execution-environment.yml) is accepted by ansible-builder v3:
`ansible-builder create` writes a build context holding the collection's Python and system requirements, and
ansible-builder's own introspection (what AWX / Automation Platform builds run) reads them from the collection.
No container is built (no registry here)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import yaml

from conftest import BUILD, ROOT, VENV_BIN, run


def _builder():
    exe = VENV_BIN / "ansible-builder"
    if not exe.exists():
        # Listed in requirements-test.txt; an older venv may predate that line.
        subprocess.run([str(VENV_BIN / "pip"), "install", "-q", "--disable-pip-version-check", "ansible-builder"],
                       check=True)
    return exe


def _lines(path):
    return [ln.split("#")[0].strip() for ln in path.read_text().splitlines() if ln.split("#")[0].strip()]


def test_definition_is_builder_v3():
    ee = yaml.safe_load((ROOT / "meta/execution-environment.yml").read_text())
    assert ee["version"] == 3
    assert ee["images"]["base_image"]["name"]
    assert ee["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    assert (ROOT / ee["dependencies"]["python"]).is_file() and (ROOT / ee["dependencies"]["system"]).is_file()


def test_ansible_builder_create(tmp_path):
    builder = _builder()
    # The file's paths are relative to the collection root (what introspection requires), so it is used from
    # there, as the comment in the file says: a copy next to requirements.txt and bindep.txt.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("requirements.txt", "bindep.txt"):
        shutil.copy(ROOT / name, src / name)
    shutil.copy(ROOT / "meta/execution-environment.yml", src / "execution-environment.yml")
    context = tmp_path / "context"
    result = run([str(builder), "create", "--file", str(src / "execution-environment.yml"),
                  "--context", str(context)], check=False, cwd=str(src))
    assert result.returncode == 0, result.stdout + result.stderr
    containerfile = context / "Containerfile"
    assert containerfile.is_file(), result.stdout
    assert "quay.io/ansible/awx-ee:latest" in containerfile.read_text()
    built = context / "_build"
    assert _lines(built / "requirements.txt") == _lines(ROOT / "requirements.txt")
    assert _lines(built / "bindep.txt") == _lines(ROOT / "bindep.txt")
    assert "cryptography>=41.0" in _lines(built / "requirements.txt")

    # What a build with vip.mtls as a galaxy dependency does: introspect the installed collections.
    collections = BUILD / "collections"
    if not (collections / "ansible_collections/vip/mtls/meta/execution-environment.yml").is_file():
        pytest.skip("the collection link .build/collections is missing (make setup)")
    introspect = built / "scripts" / "introspect.py"
    out = run([sys.executable, str(introspect), "introspect", str(collections)], check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    deps = yaml.safe_load(out.stdout)
    assert any(line.startswith("cryptography>=41.0") and "vip.mtls" in line for line in deps["python"]), out.stdout
    assert any(line.startswith("openssl") and "vip.mtls" in line for line in deps["system"]), out.stdout
