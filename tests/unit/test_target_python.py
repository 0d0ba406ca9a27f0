# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What runs on the targets stays inside the Python standard library and inside the oldest Python claimed for
targets (README, Compatibility); the controller code inside the oldest controller Python.

The target code is found, not listed: every module in plugins/modules and, transitively, every module_utils file
they import (also inside functions), as AnsiballZ would ship them. The oldest Python is checked statically with
vermin (no such interpreter here); Debian bullseye's 3.9 compiles and runs the same files for real in
tests/compat/test_oldest_target.py.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "plugins" / "modules"
MODULE_UTILS = ROOT / "plugins" / "module_utils"
OWN = "ansible_collections.vip.mtls.plugins.module_utils."
# The oldest target Python the code may need (README, Compatibility; meta/runtime.yml comment).
TARGET_PYTHON_MIN = "3.7"
# The oldest controller Python of the oldest ansible-core supported (2.16: 3.10), for everything in plugins/.
CONTROLLER_PYTHON_MIN = "3.10"
# Controller-only module_utils: they import cryptography. A module that imported one would need it on targets.
CONTROLLER_ONLY = {"certs", "outputs", "crypto_support"}
# Third-party packages a target file may import only where it survives their absence (try ... except ImportError).
OPTIONAL = {"cryptography"}


def _imports(tree):
    """(module name, node, optional) for every import in the tree; optional when inside a try whose handlers catch
    ImportError (or ModuleNotFoundError)."""
    found = []

    def catches_import_error(handler):
        names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        return any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError") for n in names)

    def visit(node, optional):
        if isinstance(node, ast.Try):
            guarded = optional or any(h.type is not None and catches_import_error(h) for h in node.handlers)
            for child in node.body:
                visit(child, guarded)
            for child in node.handlers + node.orelse + node.finalbody:
                visit(child, optional)
            return
        if isinstance(node, ast.Import):
            found.extend((alias.name, node, optional) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                found.append(("." * node.level + (node.module or ""), node, optional))
            elif node.module == "ansible_collections.vip.mtls.plugins.module_utils":
                found.extend((OWN + alias.name, node, optional) for alias in node.names)
            else:
                found.append((node.module, node, optional))
        for child in ast.iter_child_nodes(node):
            visit(child, optional)

    visit(tree, False)
    return found


def target_files():
    """{path: [(imported name, node, optional)]} for the modules and every module_utils file they reach."""
    todo = sorted(p for p in MODULES.glob("*.py") if p.name != "__init__.py")
    seen = {}
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen[path] = _imports(ast.parse(path.read_text(), str(path)))
        for name, _node, _optional in seen[path]:
            if name.startswith(OWN):
                todo.append(MODULE_UTILS / (name[len(OWN):].split(".")[0] + ".py"))
    return seen


TARGET = target_files()


def test_the_closure_is_found():
    names = {p.name for p in TARGET}
    # Every module, and the module_utils reached only from inside functions (info.py's lazy imports).
    assert {"trust_anchor.py", "client_cert.py", "mtls_check.py", "mtls_info.py"} <= names
    assert {"tls_probe.py", "javastore.py", "truststore.py", "clientcert.py", "pem.py"} <= names


def test_no_controller_only_module_utils_on_targets():
    shipped = {p.stem for p in TARGET if p.parent == MODULE_UTILS}
    assert not shipped & CONTROLLER_ONLY, "target modules import controller-only module_utils"
    # ...and those really are the ones that bring cryptography in.
    for stem in CONTROLLER_ONLY:
        names = {name for name, _node, _optional in _imports(ast.parse((MODULE_UTILS / (stem + ".py")).read_text()))}
        assert "cryptography" in {n.split(".")[0] for n in names} or OWN + "crypto_support" in names, stem


@pytest.mark.parametrize("path", sorted(TARGET), ids=lambda p: "%s/%s" % (p.parent.name, p.name))
def test_target_code_imports_only_the_standard_library(path):
    problems = []
    for name, node, optional in TARGET[path]:
        top = name.split(".")[0]
        if name.startswith(".") or top == "__future__" or top in sys.stdlib_module_names:
            continue
        if name == "ansible.module_utils" or name.startswith("ansible.module_utils."):
            continue  # shipped inside the module by AnsiballZ
        if name.startswith(OWN) and (MODULE_UTILS / (name[len(OWN):].split(".")[0] + ".py")).exists():
            continue
        if top in OPTIONAL and optional:
            continue
        problems.append("line %d: %s%s" % (node.lineno, name, " (not guarded by except ImportError)"
                                           if top in OPTIONAL else ""))
    assert not problems, "%s imports beyond the standard library: %s" % (path.name, "; ".join(problems))


def test_a_non_stdlib_import_is_caught():
    """The check above can fail: an unguarded cryptography import, and a third-party one, are reported."""
    tree = ast.parse("import os\nimport yaml\nfrom cryptography import x509\n"
                     "try:\n    import cryptography\nexcept ImportError:\n    pass\n")
    names = [(n, o) for n, _node, o in _imports(tree)]
    assert names == [("os", False), ("yaml", False), ("cryptography", False), ("cryptography", True)]


def _vermin(*args, minimum=TARGET_PYTHON_MIN):
    return subprocess.run([str(Path(sys.executable).parent / "vermin"), "--no-tips", "--violations",
                           "-t=%s-" % minimum, *args], capture_output=True, text=True, check=False)


def test_target_code_needs_nothing_newer_than_the_oldest_target_python():
    proc = _vermin(*[str(p) for p in sorted(TARGET)])
    assert proc.returncode == 0, "target code needs a Python newer than %s:\n%s%s" % (
        TARGET_PYTHON_MIN, proc.stdout, proc.stderr)


def test_controller_code_needs_nothing_newer_than_the_oldest_controller_python():
    """Action plugins and controller-only module_utils run in ansible-core 2.16's oldest Python, 3.10."""
    proc = _vermin(str(ROOT / "plugins"), minimum=CONTROLLER_PYTHON_MIN)
    assert proc.returncode == 0, "controller code needs a Python newer than %s:\n%s%s" % (
        CONTROLLER_PYTHON_MIN, proc.stdout, proc.stderr)


def test_vermin_catches_newer_python(tmp_path):
    """The check above can fail: 3.8's assignment expression and 3.9's str.removeprefix are reported."""
    sample = tmp_path / "newer.py"
    sample.write_text("import os\nif (n := len(os.sep)) > 0:\n    print('x'.removeprefix('y'))\n")
    proc = _vermin(str(sample))
    assert proc.returncode != 0
    assert "removeprefix" in proc.stdout and "3.9" in proc.stdout
