# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make ``ansible_collections.vip.mtls`` importable from the working tree, and the helpers beside the tests
(``pki``, ``tls_servers``) importable by their plain names under both plain pytest and ``ansible-test units``
(which imports test files as packages, so their directory is not on sys.path by itself).

.build/collections/ansible_collections/vip/mtls is a link to the repository root (see Makefile); under
ansible-test that path does not exist and the collection is importable already.
"""

import os
import sys

_COLLECTIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".build", "collections")
_COLLECTIONS = os.path.normpath(_COLLECTIONS)
if _COLLECTIONS not in sys.path:
    sys.path.insert(0, _COLLECTIONS)
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
