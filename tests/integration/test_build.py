"""The collection builds, installs from its tarball, and ansible-doc renders every module and role."""

from __future__ import annotations

import re
import tarfile

from conftest import ROOT, VENV_BIN, run

MODULES = ("trust_anchor", "client_cert", "mtls_check", "mtls_info")
ROLES = ("vip_trust", "vip_client_cert", "vip_verify", "vip_mtls", "vip_audit")


def test_build_install_and_ansible_doc(tmp_path):
    # A clean environment: an inherited ANSIBLE_COLLECTIONS_PATH would make install skip the tarball.
    installed = tmp_path / "collections"
    env = {"ANSIBLE_COLLECTIONS_PATH": str(installed), "PATH": "/usr/bin:/bin", "ANSIBLE_NOCOLOR": "1",
           "HOME": str(tmp_path)}
    run([str(VENV_BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path), str(ROOT)],
        env=env)
    tarball = tmp_path / "vip-mtls-0.1.0.tar.gz"
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    assert "roles/vip_trust/files/digicert-global-root-g2.crt" in names
    assert not [n for n in names if n.startswith((".build", ".venv", "demo/"))], names

    run([str(VENV_BIN / "ansible-galaxy"), "collection", "install", "--offline", "-p", str(installed),
         str(tarball)], env=env)
    assert (installed / "ansible_collections/vip/mtls/plugins/modules/trust_anchor.py").is_file()
    for module in MODULES:
        doc = run([str(VENV_BIN / "ansible-doc"), "vip.mtls." + module], env=env)
        assert "vip.mtls." + module in doc.stdout and "EXAMPLES" in doc.stdout, doc.stdout[:500]
    for role in ROLES:
        doc = run([str(VENV_BIN / "ansible-doc"), "-t", "role", "vip.mtls." + role], env=env)
        assert re.search(r"ENTRY POINT: \W*main\b", doc.stdout), doc.stdout[:500]


def test_changelog_fragments_are_valid():
    """Every change has a fragment in changelogs/fragments/; antsibull-changelog must accept them all."""
    lint = run([str(VENV_BIN / "antsibull-changelog"), "lint"], check=False, cwd=str(ROOT))
    assert lint.returncode == 0 and not lint.stdout.strip(), lint.stdout + lint.stderr
