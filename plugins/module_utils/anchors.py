# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every trust-store backend shares (standard library only): the anchors to manage and
the names they are stored under.

A backend is an object with ``kind``, ``label`` and ``manage(name, anchors, state, fingerprints)``
returning ``{changed, paths, removed, refreshed, before, after, notes}`` (``before``/``after`` map each
entry name to its certificate's DER, for the diff); it honours ``module.check_mode`` and rolls back its
own writes when it fails.
"""

from __future__ import annotations

import re
from collections import namedtuple

from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.module_utils.pem import der_fingerprint, normalise_fingerprint

# der: the certificate's DER bytes; fingerprint: SHA-256, colon-separated upper-case hex.
Anchor = namedtuple("Anchor", "der fingerprint")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def make_anchors(ders):
    return [Anchor(der, der_fingerprint(der)) for der in ders]


def check_name(name):
    if not name or not _NAME.match(name) or ".." in name:
        raise VipMtlsError(
            "name=%r is not a plain file base name: use letters, digits, '.', '_' and '-' "
            "(for example digicert-global-root-g2)" % (name,)
        )


def entry_names(name, anchors):
    """Entry name (file base name or keystore alias) -> anchor: NAME for one certificate,
    NAME-<first 12 hex of SHA-256> for each of several."""
    if len(anchors) == 1:
        return {name: anchors[0]}
    return {"%s-%s" % (name, anchor.fingerprint.replace(":", "")[:12].lower()): anchor for anchor in anchors}


def entry_pattern(name):
    """Matches the entry names this module gives ``name`` (see entry_names)."""
    return re.compile(r"^%s(-[0-9a-f]{12})?$" % re.escape(name))


def fingerprint_set(pins, anchors=()):
    """Normalised fingerprints from pins and anchors: what state=absent may remove."""
    found = {normalise_fingerprint(pin) for pin in (pins or [])}
    found |= {normalise_fingerprint(anchor.fingerprint) for anchor in anchors}
    return found
