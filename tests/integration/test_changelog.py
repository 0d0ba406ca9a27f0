"""The next release's notes, rendered by antsibull-changelog from the fragments in a copy of the repository
(tests/changelog_preview.sh, also `make changelog-preview`): complete, and the checkout left as it was."""

from __future__ import annotations

import os
import re

import yaml

from conftest import ROOT, VENV_BIN, run

FRAGMENTS = ROOT / "changelogs" / "fragments"
# Ansible's documentation markup (O(option), V(value), C(code), RV(return value), ...): antsibull-changelog
# writes it into the RST verbatim, so fragments use RST literals (``text``) instead.
MARKUP = re.compile(r"(?<![\w.])(?:RV|O|V|C|E|M|P|I|B|U|L)\([^)\s][^)]*\)")


def rst_section(text, title):
    """Bullet items of one RST section (title underlined with dashes) of the newest release."""
    match = re.search(r"^%s\n-+\n\n(.*?)(?:\n\n\S|\Z)" % re.escape(title), text, re.MULTILINE | re.DOTALL)
    return re.findall(r"^- (\S+) - (.*)$", match.group(1), re.MULTILINE) if match else []


def test_release_notes_preview(tmp_path):
    before = run(["git", "status", "--porcelain", "--untracked-files=all", "--", "changelogs", "CHANGELOG.rst"],
                 cwd=str(ROOT)).stdout
    env = dict(os.environ, PATH="%s:%s" % (VENV_BIN, os.environ.get("PATH", "/usr/bin:/bin")))
    proc = run(["bash", str(ROOT / "tests" / "changelog_preview.sh"), str(tmp_path)], env=env, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    notes = (tmp_path / "CHANGELOG.rst").read_text()
    changes = yaml.safe_load((tmp_path / "changelog.yaml").read_text())
    after = run(["git", "status", "--porcelain", "--untracked-files=all", "--", "changelogs", "CHANGELOG.rst"],
                cwd=str(ROOT)).stdout
    assert after == before, "the preview changed the checkout:\n%s\n%s" % (before, after)

    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    version = str(galaxy["version"])
    assert re.search(r"^v%s\n=+$" % re.escape(version), notes, re.MULTILINE), notes[:500]
    release = changes["releases"][version]

    modules = {p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if not p.name.startswith("_")}
    roles = {p.name for p in (ROOT / "roles").iterdir() if (p / "tasks" / "main.yml").is_file()}
    playbooks = {p.stem for p in (ROOT / "playbooks").glob("*.yml")}
    listed = {kind: dict(rst_section(notes, "New " + kind)) for kind in ("Modules", "Roles", "Playbooks")}
    # Every module, role and playbook is new in some release; a preview of the first release lists them all.
    if version == "0.1.0":
        assert set(listed["Modules"]) == {"vip.mtls." + m for m in modules}, listed["Modules"]
        assert set(listed["Roles"]) == {"vip.mtls." + r for r in roles}, listed["Roles"]
        assert set(listed["Playbooks"]) == {"vip.mtls." + p for p in playbooks}, listed["Playbooks"]
        assert release.get("changes", {}).get("release_summary"), "the first release needs a release summary"
    for role, description in listed["Roles"].items():
        spec = yaml.safe_load((ROOT / "roles" / role.split(".")[-1] / "meta" / "argument_specs.yml").read_text())
        assert description == spec["argument_specs"]["main"]["short_description"], role

    # Each fragment's entries made it into the release (when this preview made the release).
    released = release.get("changes", {})
    for fragment in sorted(FRAGMENTS.glob("*.yml")):
        data = yaml.safe_load(fragment.read_text())
        for section, entries in data.items():
            if section == "trivial" or section.startswith("add "):
                continue
            for entry in [entries] if isinstance(entries, str) else entries:
                found = released.get(section)
                assert found and (entry == found or entry in found), (
                    "%s: a %s entry is not in the notes of %s (already released? then bump galaxy.yml's version)"
                    % (fragment.name, section, version))


def test_fragments_use_no_ansible_markup():
    offenders = []
    for fragment in sorted(FRAGMENTS.glob("*.y*ml")):
        for number, line in enumerate(fragment.read_text().splitlines(), 1):
            if MARKUP.search(line):
                offenders.append("%s:%d: %s" % (fragment.name, number, line.strip()))
    assert not offenders, "use ``literal`` instead of O()/V()/C()... in fragments:\n" + "\n".join(offenders)
    assert MARKUP.search("a huge O(timeout) value") and MARKUP.search("C(REASON: HINT)")
    assert not MARKUP.search("a PKCS#12 (.p12) file, RC2(40) and ``timeout``")
