# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Java keystore as a trust store, changed with the host's own keytool (standard library only).

The keystore is the JRE's default ``cacerts`` (found from ``java_home`` or the ``java`` on PATH) or an
explicit ``java_keystore``. Entries are trusted-certificate entries under an alias: ``java_alias``
(default ``name``), or ``ALIAS-<first 12 hex of SHA-256>`` each for several certificates. Aliases are
compared in lower case, as JKS and PKCS12 keystores store them.

- present: a certificate already in the keystore under ANY alias (JDKs and Debian's
  ca-certificates-java ship many roots, e.g. ``debian:digicert_global_root_g2.pem``) is not added again;
  otherwise it is imported under our alias. Our aliases that hold something else are replaced or dropped,
  so they hold exactly the anchors asked for. Other aliases are never touched.
- absent: only our aliases whose certificate is one of ``fingerprints`` are deleted, and on Debian the
  stale ``debian:ENTRY.pem`` copy that ca-certificates-java made of the system store's ENTRY.crt once that
  anchor is gone from /etc/ssl/certs (Debian's hook never removes it; see ``_debian_leftovers``).

Every change is made by keytool on a copy of the keystore in the same directory (same owner and mode),
the copy is listed again and checked against the expected entries, and only then renamed over the real
file (the target of a symlink such as Debian's JRE cacerts -> /etc/ssl/certs/java/cacerts). A keytool
failure leaves the keystore untouched. The password travels only in the environment of keytool
(``-storepass:env``), never on its command line, in a message or in a result.

Uses from the Ansible module only ``check_mode``, ``get_bin_path`` and
``run_command(args, environ_update=..., data=...)``.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile

from ansible_collections.vip.mtls.plugins.module_utils.anchors import entry_names, entry_pattern
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.module_utils.pem import (
    certificate_ders,
    der_fingerprint,
    der_to_pem,
    normalise_fingerprint,
)

PASSWORD_ENV = "VIP_MTLS_KEYSTORE_PASS"
# keytool's messages are localised; the listing is parsed, so it must be in English.
LOCALE_ENV = {"LC_ALL": "C", "LANG": "C", "LC_MESSAGES": "C"}
# English output; C1 only, which halves keytool's start-up CPU (PKCS12's key derivation runs interpreted
# code otherwise); a JVM that does not know an option ignores it.
JVM_ARGS = ["-J-XX:+IgnoreUnrecognizedVMOptions", "-J-XX:TieredStopAtLevel=1",
            "-J-Duser.language=en", "-J-Duser.country=US"]

JKS_MAGIC = b"\xfe\xed\xfe\xed"
JCEKS_MAGIC = b"\xce\xce\xce\xce"

# Relative to JAVA_HOME: JDK 9 and later, then JDK 8 (whose JAVA_HOME may be the JDK around jre/).
CACERTS = ("lib/security/cacerts", "jre/lib/security/cacerts")

_ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,99}$")
_ALIAS_LINE = re.compile(r"^Alias name: (.*)$", re.MULTILINE)
_WRONG_PASSWORD = re.compile(r"password was incorrect|password incorrect|wrong password", re.IGNORECASE)


def java_store(module, params):
    """The java backend for trust_anchor's params: finds keytool and the keystore, or fails saying how."""
    password = params.get("java_keystore_password")
    if password is None or password == "":
        raise VipMtlsError("java_keystore_password is empty; keytool needs the keystore password "
                           "(the JRE's cacerts ships with 'changeit')")
    java_home = params.get("java_home")
    keystore = params.get("java_keystore")
    searched = []
    if java_home:
        if not os.path.isdir(java_home):
            raise VipMtlsError("java_home=%s is not a directory; set it to the JRE/JDK directory (the one "
                               "holding bin/java), or leave it unset to use the java on PATH" % java_home)
        java_home = os.path.realpath(java_home)
        searched.append("java_home=%s" % java_home)
    else:
        java = module.get_bin_path("java")
        if java:
            # /usr/bin/java -> /etc/alternatives/java -> /usr/lib/jvm/X/bin/java: JAVA_HOME is X.
            java_home = os.path.dirname(os.path.dirname(os.path.realpath(java)))
            searched.append("the java on PATH (%s, JAVA_HOME %s)" % (java, java_home))
        else:
            searched.append("java on PATH (not found)")

    keytool = None
    if java_home and os.access(os.path.join(java_home, "bin", "keytool"), os.X_OK):
        keytool = os.path.join(java_home, "bin", "keytool")
    if keytool is None:
        keytool = module.get_bin_path("keytool")
    if not keytool:
        raise VipMtlsError(
            "keytool was not found (searched %s, and keytool on PATH); the java store needs a Java runtime "
            "on the host: install one (Debian/Ubuntu: default-jre-headless, RHEL: java-17-openjdk-headless) "
            "or set java_home to the JRE/JDK directory" % ", ".join(searched))

    if keystore:
        if not os.path.exists(keystore):
            raise VipMtlsError("java_keystore=%s does not exist; give the path of an existing keystore, or leave "
                               "java_keystore unset to manage the JRE's default cacerts" % keystore)
    else:
        if not java_home:
            raise VipMtlsError(
                "no Java runtime found to take the default cacerts from (searched %s); install a JRE "
                "(Debian/Ubuntu: default-jre-headless), or set java_home, or set java_keystore to the keystore "
                "file" % ", ".join(searched))
        candidates = [os.path.join(java_home, rel) for rel in CACERTS]
        keystore = next((c for c in candidates if os.path.exists(c)), None)
        if keystore is None:
            raise VipMtlsError(
                "the JRE at %s has no cacerts (looked for %s); on Debian/Ubuntu install ca-certificates-java, "
                "or set java_home to another JRE, or java_keystore to the keystore file"
                % (java_home, " and ".join(candidates)))
    if not os.path.isfile(keystore):
        raise VipMtlsError("java_keystore=%s is not a regular file" % keystore)
    return JavaStore(module, keytool, keystore, params.get("java_keystore_type") or "auto", password,
                     params.get("java_alias"))


def detect_type(head):
    """Keystore type from the file's first bytes: JKS and JCEKS have magic numbers; anything else
    (a DER SEQUENCE) is PKCS12."""
    if head[:4] == JKS_MAGIC:
        return "JKS"
    if head[:4] == JCEKS_MAGIC:
        return "JCEKS"
    return "PKCS12"


def parse_listing(text):
    """{alias (lower case): DER of its (first) certificate or None} from ``keytool -list -rfc``."""
    entries = {}
    matches = list(_ALIAS_LINE.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        ders = certificate_ders(text[match.end():end])
        entries[match.group(1).strip().lower()] = ders[0] if ders else None
    return entries


class JavaStore(object):
    """One keystore; see the module docstring."""

    kind = "java"
    debian_certs_dir = "/etc/ssl/certs"  # where update-ca-certificates links the anchors (Debian family)

    def __init__(self, module, keytool, keystore, store_type, password, alias=None):
        self.module = module
        self.keytool = keytool
        self.keystore = keystore
        self.password = password
        self.alias = alias
        self.requested_type = store_type
        self.label = "java %s" % keystore

    # --- keytool -----------------------------------------------------------------------------------

    def _scrub(self, text):
        text = (text or "").strip()
        if self.password:
            text = text.replace(self.password, "********")
        return text

    def _keytool(self, path, store_type, *args):
        cmd = [self.keytool] + list(args) + ["-keystore", path, "-storetype", store_type,
                                             "-storepass:env", PASSWORD_ENV] + JVM_ARGS
        environ = dict(LOCALE_ENV)
        environ[PASSWORD_ENV] = self.password
        # A newline on stdin answers any unexpected prompt with the default instead of hanging.
        rc, out, err = self.module.run_command(cmd, environ_update=environ, data="\n")
        return rc, self._scrub(out), self._scrub(err)

    def _fail(self, action, rc, out, err):
        output = "\n".join(part for part in (out, err) if part)
        if _WRONG_PASSWORD.search(output):
            raise VipMtlsError("keystore password is wrong (java_keystore_password) for %s; nothing was changed"
                               % self.keystore)
        raise VipMtlsError("keytool failed to %s %s (rc=%d); the keystore was not changed. Output: %s"
                           % (action, self.keystore, rc, output), keytool_output=output)

    def list_entries(self, path, store_type):
        rc, out, err = self._keytool(path, store_type, "-list", "-rfc")
        if rc != 0:
            self._fail("read", rc, out, err)
        return parse_listing(out)

    def store_type(self, real):
        with open(real, "rb") as handle:
            found = detect_type(handle.read(4))
        if self.requested_type not in (None, "auto") and self.requested_type.upper() != found:
            # keytool would read it anyway (keystore.type.compat) but could write it back in the other format.
            raise VipMtlsError("java_keystore_type=%s, but %s is a %s keystore; set java_keystore_type to %s or "
                               "auto" % (self.requested_type, self.keystore, found, found))
        return found

    # --- the backend protocol ----------------------------------------------------------------------

    def manage(self, name, anchors, state, fingerprints):
        """Hold exactly ``anchors`` under our aliases unless a certificate is in the keystore already
        (present), or delete our aliases holding one of ``fingerprints`` (absent, normalised hex).

        ``paths`` are KEYSTORE#ALIAS: where each anchor is trusted (our alias, or the alias it was found
        under); ``removed`` the KEYSTORE#ALIAS entries deleted; before/after map aliases to DER.
        """
        base = (self.alias or name or "").lower()
        if not _ALIAS.match(base):
            raise VipMtlsError("java_alias=%r is not a usable keystore alias: use letters, digits, '.', '_', "
                               "'-', ':', '@' and '+' (for example vip-digicert-root-g2)" % (self.alias or name,))
        real = os.path.realpath(self.keystore)
        store_type = self.store_type(real)
        entries = self.list_entries(real, store_type)

        pattern = entry_pattern(base)
        ours = {alias: der for alias, der in entries.items() if pattern.match(alias)}
        wanted = {alias.lower(): anchor for alias, anchor in entry_names(base, anchors).items()} \
            if state == "present" else {}

        if state == "present":
            keep = {alias for alias, anchor in wanted.items() if ours.get(alias) == anchor.der}
            deletes = sorted(alias for alias in ours if alias not in keep)
            remaining = {alias: der for alias, der in entries.items() if alias not in deletes}
            held = {}  # fingerprint -> alias it is trusted under after this run
            for alias, der in sorted(remaining.items()):
                if der is not None:
                    held.setdefault(der_fingerprint(der), alias)
            imports = {}
            paths = []
            for alias, anchor in sorted(wanted.items()):
                if alias in keep:
                    paths.append(alias)
                elif anchor.fingerprint in held:
                    paths.append(held[anchor.fingerprint])  # already trusted under another alias
                else:
                    imports[alias] = anchor.der
                    held[anchor.fingerprint] = alias
                    paths.append(alias)
        else:
            leftovers = self._debian_leftovers(base, entries)
            ours.update(leftovers)
            deletes = sorted(alias for alias, der in ours.items()
                             if der is not None and normalise_fingerprint(der_fingerprint(der)) in fingerprints)
            imports = {}
            paths = []

        before = dict(ours)
        before.update({alias: entries[alias] for alias in paths if alias in entries})
        after = {alias: der for alias, der in before.items() if alias not in deletes}
        after.update(imports)
        changed = bool(deletes or imports)
        if changed and not self.module.check_mode:
            expected = {alias: der for alias, der in entries.items() if alias not in deletes}
            expected.update(imports)
            self._apply(real, store_type, deletes, imports, expected)
        return {
            "changed": changed,
            "paths": ["%s#%s" % (self.keystore, alias) for alias in paths],
            "removed": ["%s#%s" % (self.keystore, alias) for alias in deletes],
            "refreshed": False,  # a keystore is read as it is; nothing to rebuild
            "added": [der_fingerprint(der) for der in imports.values()],
            "dropped": [der_fingerprint(entries[alias]) for alias in deletes if entries[alias] is not None],
            "before": before,
            "after": after,
            "notes": [],
        }

    def _debian_leftovers(self, base, entries):
        """Entries ``debian:ENTRY.pem`` that Debian's ca-certificates-java hook made from the system store's
        anchor file ENTRY.crt (ours, see systemstore.py), whose /etc/ssl/certs/ENTRY.pem is gone.

        update-ca-certificates does not report a removed local anchor to its hooks, so the hook never deletes
        that entry and Java would go on trusting a root the system store no longer has. Only such stale
        entries named after our own entries are ours to delete; the distribution's are never touched."""
        pattern = entry_pattern(base)
        found = {}
        for alias, der in entries.items():
            if alias.startswith("debian:") and alias.endswith(".pem"):
                entry = alias[len("debian:"):-len(".pem")]
                link = os.path.join(self.debian_certs_dir, entry + ".pem")
                if pattern.match(entry) and not os.path.exists(link):  # a dangling link counts as gone
                    found[alias] = der
        return found

    def _apply(self, real, store_type, deletes, imports, expected):
        """keytool changes on a copy beside ``real``, checked, then renamed over it."""
        directory = os.path.dirname(real)
        with open(real, "rb") as handle:
            original = handle.read()
            st = os.fstat(handle.fileno())
        fd, work = tempfile.mkstemp(prefix=".vip-mtls-", suffix=".keystore", dir=directory)
        pem_dir = None
        try:
            try:
                os.fchown(fd, st.st_uid, st.st_gid)
            except PermissionError:
                if st.st_uid != os.geteuid():
                    raise
            os.fchmod(fd, stat.S_IMODE(st.st_mode))
            with os.fdopen(fd, "wb") as handle:
                fd = None
                handle.write(original)
            pem_dir = tempfile.mkdtemp(prefix="vip-mtls-")
            for alias in deletes:
                rc, out, err = self._keytool(work, store_type, "-delete", "-alias", alias)
                if rc != 0:
                    self._fail("delete alias %s from" % alias, rc, out, err)
            for alias, der in sorted(imports.items()):
                pem_path = os.path.join(pem_dir, "anchor.pem")
                with open(pem_path, "w") as handle:
                    handle.write(der_to_pem(der))
                rc, out, err = self._keytool(work, store_type, "-importcert", "-noprompt", "-trustcacerts",
                                             "-alias", alias, "-file", pem_path)
                if rc != 0:
                    self._fail("import alias %s into" % alias, rc, out, err)
            found = self.list_entries(work, store_type)
            if found != expected:
                missing = sorted(set(expected) - set(found))
                extra = sorted(set(found) - set(expected))
                differ = sorted(a for a in set(found) & set(expected) if found[a] != expected[a])
                raise VipMtlsError("keytool's result for %s is not what was asked for (missing %s, unexpected %s, "
                                   "different %s); the keystore was not changed"
                                   % (self.keystore, missing or "none", extra or "none", differ or "none"))
            now = os.stat(real)
            if (now.st_ino, now.st_size, now.st_mtime_ns) != (st.st_ino, st.st_size, st.st_mtime_ns):
                raise VipMtlsError("%s was changed by something else while this module worked on it; nothing was "
                                   "written, run again" % self.keystore)
            with open(work, "rb+") as handle:
                os.fsync(handle.fileno())
            os.rename(work, real)
            work = None
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            raise VipMtlsError("could not change %s (%s); the keystore was not changed" % (self.keystore, exc))
        finally:
            if fd is not None:
                os.close(fd)
            if work is not None and os.path.lexists(work):
                os.unlink(work)
            if pem_dir is not None:
                for entry in os.listdir(pem_dir):
                    os.unlink(os.path.join(pem_dir, entry))
                os.rmdir(pem_dir)
