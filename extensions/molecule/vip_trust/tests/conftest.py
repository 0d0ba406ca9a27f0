"""The shared verifier helpers (extensions/molecule/resources/tests/vipmol.py) and their `node` fixture."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources" / "tests"))

from vipmol import node  # noqa: E402,F401 - a fixture; pylint: disable=unused-import,wrong-import-position
