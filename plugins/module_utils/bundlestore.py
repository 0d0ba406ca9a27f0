# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PEM bundle files an application reads (PHP's curl.cainfo, a certifi bundle, an app's ca.pem).

Standard library only. Each path in ``bundles`` is its own backend (see anchors.py). Uses from the
Ansible module only ``check_mode``.

The rules, so that a bundle someone else owns stays theirs:
- present: an anchor whose certificate is already anywhere in the file (anyone's block) is left alone;
  any other is appended, preceded by one marker line ``# vip.mtls anchor ENTRY: SUBJECT``. Nothing
  else in the file changes, except that a final newline is added first when the file has none.
- absent: only blocks we added go - a marker line of one of this name's entries immediately followed
  by a CERTIFICATE block whose fingerprint is named - together with their line ends; all other bytes
  stay as they are.
- the file is replaced atomically with its own mode, owner and group; a file that is not PEM text
  is never touched.

The file is handled as latin-1 text, which maps every byte to one character and back, so the offsets
and the bytes we keep are exactly the file's own, whatever encoding its comments use.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import stat

from ansible_collections.vip.mtls.plugins.module_utils.anchors import check_name, entry_names, entry_pattern
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.module_utils.fileutil import check_absolute, write_atomic
from ansible_collections.vip.mtls.plugins.module_utils.pem import der_fingerprint, der_to_pem, normalise_fingerprint
from ansible_collections.vip.mtls.plugins.module_utils.tls_wire import describe_der

MARKER = "# vip.mtls anchor "
NEW_MODE = 0o644  # a created bundle: readable by every client, like the system bundle
MAX_SIZE = 64 * 1024 * 1024  # far above any real CA bundle (Debian's is about 220 KB)

_ANY_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
# One block we added: our marker line, then at once its certificate, then its line end (if any).
_OUR_BLOCK = re.compile(
    r"^" + re.escape(MARKER) + r"(?P<entry>[A-Za-z0-9._-]+):[^\r\n]*\r?\n"
    r"(?P<pem>-----BEGIN CERTIFICATE-----(?P<body>[A-Za-z0-9+/=\s]*)-----END CERTIFICATE-----)(?:\r?\n)?",
    re.MULTILINE,
)


def bundle_stores(module, params):
    """One backend per path in ``bundles`` (each path once, in order)."""
    paths = params.get("bundles") or []
    if not paths:
        raise VipMtlsError("stores contains bundle, but bundles is empty: list the PEM bundle files your "
                           "application reads, for example bundles: [/opt/app/ca.pem]")
    for path in paths:
        check_absolute(path, "bundles")
    return [BundleStore(module, path, params.get("create_bundle", False)) for path in dict.fromkeys(paths)]


def _decode_block(body):
    try:
        return base64.b64decode("".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def _first_element(der):
    """The certificate of a TRUSTED CERTIFICATE block (OpenSSL appends its trust settings after it)."""
    if len(der) < 2 or der[0] != 0x30:
        return der
    length, start = der[1], 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or len(der) < 2 + count:
            return der
        length, start = int.from_bytes(der[2:2 + count], "big"), 2 + count
    return der[:start + length]


def _fingerprints_in(text):
    """Normalised fingerprints of every certificate in the text, whoever put it there."""
    found = set()
    for label, body in _ANY_PEM.findall(text):
        if label not in ("CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE"):
            continue
        der = _decode_block(body)
        if der:
            if label == "TRUSTED CERTIFICATE":
                der = _first_element(der)
            found.add(normalise_fingerprint(der_fingerprint(der)))
    return found


def _marker_subject(der):
    """The subject for the marker line: one line of plain ASCII, whatever the certificate holds."""
    subject = describe_der(der).get("subject") or "?"
    subject = re.sub(r"[\x00-\x1f\x7f]", " ", subject)
    return subject.encode("ascii", "backslashreplace").decode("ascii")


class BundleStore(object):
    """One PEM bundle file; entries are marker-labelled blocks appended to it."""

    kind = "bundle"

    def __init__(self, module, path, create=False):
        self.module = module
        self.path = path
        self.create = create
        self.label = "bundle %s" % path

    def target(self):
        """The file to read and replace. For a symlink that is its final target, not the link: an
        application's bundle is often linked into place (an app's ca.pem -> /etc/app/ca.pem, certifi's
        cacert.pem -> a shared bundle), and replacing the link with a plain file would quietly detach
        the application from the file everyone else maintains.

        Only links owned by root (or the user the module runs as) are followed, on the way to the file
        and in its directories: another user's link must not steer root into rewriting a file that user
        cannot write."""
        resolved = _resolve_trusted_links(self.path)
        return resolved if os.path.islink(self.path) else self.path

    def read(self, target):
        """The file's text (latin-1) and stat, or (None, None) when there is no file."""
        try:
            st = os.stat(target)
        except FileNotFoundError:
            return None, None
        except OSError as exc:
            raise VipMtlsError("cannot read the bundle %s (%s)" % (self._named(target), exc))
        if stat.S_ISDIR(st.st_mode):
            raise VipMtlsError("bundle %s is a directory; bundles lists PEM files, for example %s"
                               % (self._named(target), os.path.join(self.path, "ca.pem")))
        if not stat.S_ISREG(st.st_mode):
            raise VipMtlsError("bundle %s is not a regular file; bundles lists PEM files" % self._named(target))
        if st.st_size > MAX_SIZE:
            raise VipMtlsError("bundle %s is %d bytes, too large to be a PEM bundle"
                               % (self._named(target), st.st_size))
        try:
            with open(target, "rb") as handle:
                data = handle.read(MAX_SIZE + 1)
        except OSError as exc:
            raise VipMtlsError("cannot read the bundle %s (%s)" % (self._named(target), exc))
        text = data.decode("latin-1")
        has_certificate = any(label.endswith("CERTIFICATE") for label, _b in _ANY_PEM.findall(text))
        if data.strip() and ("\x00" in text or not has_certificate):
            raise VipMtlsError(
                "bundle %s does not look like a PEM bundle (%s); it was left untouched. Point bundles at a "
                "file of PEM certificates" % (self._named(target),
                                              "it holds NUL bytes" if "\x00" in text else "no PEM certificate"))
        return text, st

    def _named(self, target):
        return self.path if target == self.path else "%s (-> %s)" % (self.path, target)

    def ours(self, text, name):
        """Our blocks for ``name``: list of (match, entry, der)."""
        pattern = entry_pattern(name)
        found = []
        for match in _OUR_BLOCK.finditer(text):
            if not pattern.match(match.group("entry")):
                continue
            der = _decode_block(match.group("body"))
            if der:
                found.append((match, match.group("entry"), der))
        return found

    def manage(self, name, anchors, state, fingerprints):
        """present: append each anchor not yet in the file; absent: drop our blocks for ``name`` whose
        certificate is in ``fingerprints`` (normalised hex)."""
        check_name(name)
        target = self.target()
        text, st = self.read(target)
        notes = []
        if text is None:
            if state == "absent":
                return self._result(False, [], [], {}, {}, ["%s does not exist: nothing to remove" % self.path])
            if not self.create:
                raise VipMtlsError("bundle %s does not exist; check the path, or set create_bundle: true to "
                                   "create it" % self._named(target))
            directory = os.path.dirname(target)
            if not os.path.isdir(directory):
                raise VipMtlsError("cannot create bundle %s: directory %s does not exist (create_bundle makes "
                                   "the file, not its directory)" % (self._named(target), directory))
            notes.append("%s created" % self.path)
            text = ""

        ours = self.ours(text, name)
        before = _keyed((entry, der) for _m, entry, der in ours)
        if state == "present":
            new_text, added, more = self._append(text, name, anchors, ours)
            notes.extend(more)
            after = dict(before)
            after.update(_keyed(added, taken=before))
            removed_any = False
        else:
            gone = [(m, entry, der) for m, entry, der in ours
                    if normalise_fingerprint(der_fingerprint(der)) in fingerprints]
            new_text = text
            for match, _entry, _der in reversed(gone):
                new_text = new_text[:match.start()] + new_text[match.end():]
            after = _keyed((entry, der) for m, entry, der in ours if (m, entry, der) not in gone)
            removed_any = bool(gone)

        changed = st is None or new_text != text
        if changed and not self.module.check_mode:
            self._write(target, new_text, st)
        return self._result(changed, [self.path] if state == "present" else [],
                            [self.path] if removed_any else [], before, after, notes)

    def _append(self, text, name, anchors, ours):
        present = _fingerprints_in(text)
        first = text.find("\n")
        newline = "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"  # the file's own line ends
        wanted = entry_names(name, anchors)
        wanted_fps = {normalise_fingerprint(anchor.fingerprint) for anchor in anchors}
        blocks, added, notes = [], [], []
        for entry, anchor in sorted(wanted.items()):
            fingerprint = normalise_fingerprint(anchor.fingerprint)
            if fingerprint in present:
                if not any(e == entry and der == anchor.der for _m, e, der in ours):
                    notes.append("%s: its certificate is already in %s, not added again" % (entry, self.path))
                continue
            present.add(fingerprint)
            pem = der_to_pem(anchor.der).replace("\n", newline)
            blocks.append("%s%s: %s%s%s" % (MARKER, entry, _marker_subject(anchor.der), newline, pem))
            added.append((entry, anchor.der))
        for _m, entry, der in ours:
            fingerprint = der_fingerprint(der)
            if normalise_fingerprint(fingerprint) not in wanted_fps:
                notes.append("%s also holds an earlier anchor of ours under %s (%s); remove it with state=absent "
                             "and its fingerprint_sha256" % (self.path, entry, fingerprint))
        if not blocks:
            return text, added, notes
        if text and not text.endswith("\n"):
            notes.append("%s did not end with a newline; one was added before the anchor" % self.path)
            text += newline
        return text + "".join(blocks), added, notes

    def _write(self, target, text, st):
        if st is None:
            mode, uid, gid = NEW_MODE, 0, 0
        else:
            mode, uid, gid = stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid
        try:
            # A new inode replaces the old one: hard links to the old file keep the old content.
            write_atomic(target, text.encode("latin-1"), mode, uid, gid)
        except OSError as exc:
            raise VipMtlsError("could not write the bundle %s (%s); it was left as it was"
                               % (self._named(target), exc))

    def _result(self, changed, paths, removed, before, after, notes):
        return {"changed": changed, "paths": paths, "removed": removed, "refreshed": False,
                "before": before, "after": after, "notes": notes}


def _resolve_trusted_links(path):
    """os.path.realpath(path), refusing any symbolic link on the way that another user owns."""
    trusted = {0, os.geteuid()}
    parts = [p for p in path.split("/") if p]
    current, hops = "/", 0
    while parts:
        part = parts.pop(0)
        if part == ".":
            continue
        if part == "..":
            current = os.path.dirname(current)
            continue
        candidate = os.path.join(current, part)
        try:
            st = os.lstat(candidate)
        except OSError:
            return os.path.join(candidate, *parts)
        if not stat.S_ISLNK(st.st_mode):
            current = candidate
            continue
        if st.st_uid not in trusted:
            raise VipMtlsError("bundle %s: %s is a symbolic link owned by uid %d, not by root; refusing to follow "
                               "it (that user could point it at any file root can write). Point bundles at the real "
                               "file, or have root own the link" % (path, candidate, st.st_uid))
        hops += 1
        if hops > 40:
            raise VipMtlsError("bundle %s: too many levels of symbolic links" % path)
        link = os.readlink(candidate)
        if link.startswith("/"):
            current = "/"
        parts = [p for p in link.split("/") if p] + parts
    return current


def _keyed(pairs, taken=None):
    """entry -> der for the diff; a repeated entry name (an earlier anchor under the same name) gets
    a counter so no anchor hides another."""
    result = {}
    taken = dict(taken or {})
    for entry, der in pairs:
        key, n = entry, 1
        while key in result or key in taken:
            n += 1
            key = "%s (%d)" % (entry, n)
        result[key] = der
    return result
