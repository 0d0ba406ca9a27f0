# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The supported ansible-core range is declared once (meta/runtime.yml requires_ansible) and every other place that
names its floor agrees: requirements.txt, the compat venv that tests the floor, and the README's Compatibility
section."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _floor():
    declared = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["requires_ansible"]
    match = re.fullmatch(r">=(\d+)\.(\d+)\.(\d+)", declared)
    assert match, "requires_ansible should be a plain floor, >=X.Y.Z: %r" % declared
    return tuple(int(n) for n in match.groups())


def test_requirements_txt_has_the_same_floor():
    floors = re.findall(r"^ansible-core\s*>=\s*(\d+)\.(\d+)(?:\.(\d+))?\s*$", (ROOT / "requirements.txt").read_text(),
                        re.M)
    assert [tuple(int(n or 0) for n in f) for f in floors] == [_floor()]


def test_compat_venv_installs_exactly_the_floor():
    pins = re.findall(r"^ansible-core==(\d+)\.(\d+)\.(\d+)\s*$",
                      (ROOT / "tests" / "compat" / "requirements-min.txt").read_text(), re.M)
    assert [tuple(int(n) for n in p) for p in pins] == [_floor()]


def test_readme_states_the_range():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Compatibility"):]
    section = section[:section.find("\n## ", 1)] if "\n## " in section[1:] else section
    assert "ansible-core %d.%d" % _floor()[:2] in section
