# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one exception type for expected failures; modules turn it into fail_json once."""

from __future__ import annotations


class VipMtlsError(Exception):
    """An expected failure: bad input, a host that cannot be changed, a refused handshake.

    ``msg`` names the problem and the fix; ``details`` are extra result keys (never secrets).
    """

    def __init__(self, msg, **details):
        super().__init__(msg)
        self.msg = msg
        self.details = details
