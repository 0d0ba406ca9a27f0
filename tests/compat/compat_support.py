"""What the compatibility tests (make test-compat) share: the integration suite's helpers and fixtures, loaded from
tests/integration/conftest.py under a name of their own (a module, not a conftest.py, so that one pytest run can
hold the unit, compat and integration tests, whose conftest modules would otherwise shadow each other)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

# The collection, importable as ansible_collections.vip.mtls (the working tree, as in tests/unit).
_COLLECTIONS = str(Path(__file__).resolve().parents[2] / ".build" / "collections")
if _COLLECTIONS not in sys.path:
    sys.path.insert(0, _COLLECTIONS)

_spec = importlib.util.spec_from_file_location(
    "vip_mtls_integration_conftest", Path(__file__).resolve().parents[1] / "integration" / "conftest.py")
it = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(it)

OLDEST_IMAGE = os.environ.get("VIP_MTLS_OLDEST_IMAGE", "localhost/vip-mtls-host:bullseye")
OLDEST_PYTHON = (3, 9)  # Debian 11's python3
PREFIX = it.PREFIX + "-compat"

standin = it.standin  # fixture: the nginx stand-in, shared with (or left running for) another test run
