#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: trust_anchor
short_description: Install a trusted ROOT certificate into a host's trust store
version_added: 0.1.0
author: vip.mtls developers (!UNKNOWN)
description:
  - Installs one or more root certificates as trust anchors, so that every client on the host
    (curl, OpenSSL, Python, PHP) can verify a server such as the Symantec/Broadcom VIP API hosts.
  - The certificate is read, parsed and checked on the controller by the action plugin (requires the
    C(cryptography) Python package on the controller only); the target needs only Python's standard library.
  - Only self-signed CA roots are accepted unless O(allow_intermediate=true). Trust the root, never an
    intermediate, because intermediates change when the service renews its certificate.
  - The module always manages its own anchor files in the store's local-anchor directory, also when the
    distribution's bundle already carries the certificate, so the host keeps the root if the distribution
    drops it (as Debian did with DigiCert Global Root CA in 2026).
  - The system store is refreshed only when a file changed or the extracted bundle lacks an anchor; afterwards
    the module confirms every anchor is in the extracted bundle, and when the refresh fails (or leaves the bundle
    empty or without the anchor) it puts the old files back, refreshes again and fails with the tool's output.
  - One run at a time per host changes the stores (a lock in C(/run/lock)).
  - Real hosts exercised by the tests are Debian 12 and 13 (system, java and bundle stores); the RHEL, SUSE,
    Alpine and Arch system stores are tested against a fake root directory only.
options:
  src:
    description:
      - File with one or more certificates (PEM or DER). Read on the controller (vault-encrypted files work)
        unless O(remote_src=true).
      - Exactly one of O(src) and O(content) is required.
    type: str
  content:
    description: PEM text of one or more certificates, instead of O(src).
    type: str
  remote_src:
    description: Read O(src) from the target host instead of the controller.
    type: bool
    default: false
  name:
    description:
      - Base name of the managed files. One certificate becomes C(NAME.crt); several become
        C(NAME-<first 12 hex of SHA-256>.crt) each.
      - Required unless O(anchors) is set.
    type: str
  anchors:
    description:
      - Several anchors in one call, instead of O(name) with O(src) or O(content). Every item is read and checked
        before the host is contacted, and the system store is refreshed once for all of them (the refresh is what
        costs on a fleet). Each item can be V(present) or V(absent), so one call can add G2 and drop G1.
      - Item names must differ. O(java_alias) cannot be used with it (each item's name is its alias).
    type: list
    elements: dict
    suboptions:
      name:
        description: As O(name).
        type: str
        required: true
      src:
        description: As O(src).
        type: str
      content:
        description: As O(content).
        type: str
      remote_src:
        description: As O(remote_src).
        type: bool
        default: false
      fingerprint_sha256:
        description: As O(fingerprint_sha256).
        type: list
        elements: str
        default: []
      allow_intermediate:
        description: As O(allow_intermediate).
        type: bool
        default: false
      state:
        description: As O(state).
        type: str
        choices: [present, absent]
        default: present
  fingerprint_sha256:
    description:
      - SHA-256 pins (colons optional, any case). Every input certificate must match one of them, else the
        task fails before anything is written.
    type: list
    elements: str
    default: []
  allow_intermediate:
    description: Accept a certificate that is not a self-signed root. Warns on every run.
    type: bool
    default: false
  stores:
    description:
      - Which trust stores to manage, in this order.
      - V(system) is the operating system's store, by OS family detected from C(/etc/os-release) -
        Debian/Ubuntu and Alpine (C(/usr/local/share/ca-certificates), C(update-ca-certificates)),
        RHEL/CentOS/Rocky/Alma/Oracle/Fedora/Amazon Linux (C(/etc/pki/ca-trust/source/anchors),
        C(update-ca-trust extract)), SUSE/openSUSE (C(/etc/pki/trust/anchors), C(update-ca-certificates)),
        Arch (C(/etc/ca-certificates/trust-source/anchors), C(update-ca-trust extract)).
      - V(java) is a Java keystore (O(java_keystore), default the JRE's C(cacerts)), changed with the host's
        C(keytool).
      - V(bundle) is one or more PEM bundle files an application reads (O(bundles)).
    type: list
    elements: str
    choices: [system, java, bundle]
    default: [system]
  java_home:
    description:
      - The JRE/JDK whose default C(cacerts) is managed when O(java_keystore) is not set
        (C(JAVA_HOME/lib/security/cacerts), or C(JAVA_HOME/jre/lib/security/cacerts) for JDK 8), and whose
        C(bin/keytool) is used.
      - Default the C(java) found on C(PATH), resolved through its symlinks to its JAVA_HOME. When the
        C(cacerts) is a symlink (Debian links it to C(/etc/ssl/certs/java/cacerts)) the link is kept and its
        target is written.
    type: path
  java_keystore:
    description:
      - An explicit keystore file for the V(java) store, instead of the JRE's C(cacerts). It must exist.
    type: path
  java_keystore_type:
    description:
      - Type of the keystore; V(auto) detects JKS (magic bytes C(FEEDFEED)) or PKCS12 from the file's first bytes.
      - An explicit type that contradicts the file fails, so keytool never writes the keystore back in another format.
    type: str
    choices: [auto, JKS, PKCS12]
    default: auto
  java_keystore_password:
    description:
      - Password of the keystore (the JRE's C(cacerts) ships with V(changeit)). It reaches C(keytool) only through
        its environment (C(-storepass:env)), never on a command line or in a message. A wrong password fails with
        a clear message and changes nothing.
    type: str
    default: changeit
  java_alias:
    description:
      - Keystore alias; default O(name). Several certificates get C(ALIAS-<first 12 hex of SHA-256>). Aliases are
        compared in lower case (as keystores store them); letters, digits, C(.), C(_), C(-), C(:), C(@) and C(+).
      - A certificate already in the keystore under any alias (as JDKs and Debian's C(ca-certificates-java) ship
        many roots) is not added again. O(state=absent) deletes only these aliases, when they hold a certificate
        named by fingerprint, and on Debian the stale C(debian:NAME.pem) entry C(ca-certificates-java) made from
        this module's system anchor once that anchor is gone (C(update-ca-certificates) never tells its Java hook).
      - Every change is made with C(keytool) on a copy beside the keystore (same owner and mode), checked, then
        renamed over the original; a failure leaves the keystore untouched. A keystore needs no refresh.
      - The V(java) store's O(stores) paths are returned as C(KEYSTORE#ALIAS).
    type: str
  bundles:
    description:
      - Absolute paths of the PEM bundle files for the V(bundle) store, for example PHP's C(curl.cainfo), a
        Python certifi C(cacert.pem), an application's C(ca.pem). Required when O(stores) contains V(bundle);
        each file is handled on its own.
      - >-
        V(present) appends each anchor whose certificate (by SHA-256 fingerprint) is not yet anywhere in the
        file, whoever put it there, as one line C(# vip.mtls anchor ENTRY: SUBJECT) followed by its PEM block,
        in the file's own line ends (LF or CRLF). ENTRY is O(name), or C(NAME-<first 12 hex of SHA-256>) for
        each of several certificates. All other content is kept byte for byte; the one exception is a file
        that does not end with a newline, which gets one before the first appended block (and keeps it after
        V(absent)).
      - V(absent) removes only such blocks of O(name) whose certificate is named by fingerprint (a marker
        line immediately followed by its certificate); a copy of the same certificate without our marker
        line, and everything else, stays byte for byte.
      - The file is replaced atomically and keeps its mode, owner and group. A symbolic link is followed and
        its final target is changed, so the link stays (applications often link a shared bundle into place).
      - Fails, without changing anything, for a relative path, a directory or other non-regular file, a
        missing file (unless O(create_bundle=true)), and a non-empty file that holds NUL bytes or no PEM
        certificate ("does not look like a PEM bundle").
      - V(present) does not remove an earlier anchor of O(name) with another fingerprint (its block stays and
        the diff names it); remove it with V(absent) and its O(fingerprint_sha256).
    type: list
    elements: path
    default: []
  create_bundle:
    description:
      - Create a file of O(bundles) that does not exist yet, instead of failing. It is made mode C(0644),
        owned by root, and holds only the anchors.
      - The file's directory must already exist; it is never created.
      - Has no effect with O(state=absent), where a missing file simply has nothing to remove.
    type: bool
    default: false
  state:
    description:
      - V(present) installs the anchors; V(absent) removes, from every store in O(stores), only the entries this
        module names after O(name) that hold a certificate named by fingerprint (O(fingerprint_sha256), O(src)
        or O(content)), then refreshes; never distribution files or entries under other names.
    type: str
    choices: [present, absent]
    default: present
  validate_only:
    description:
      - Only read and check the input on the controller; do not contact the host. The vip_mtls role uses it
        to validate every input before the first change on any host.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    support: full
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    details: The diff lists file names and SHA-256 fingerprints.
notes:
  - Needs root on the target (C(become)).
seealso:
  - module: vip.mtls.client_cert
  - module: vip.mtls.mtls_check
"""

EXAMPLES = r"""
- name: Trust DigiCert Global Root G2 (the root of the VIP API hosts), pinned
  vip.mtls.trust_anchor:
    src: DigiCertGlobalRootG2.crt.pem
    name: digicert-global-root-g2
    fingerprint_sha256:
      - CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F
  become: true

- name: Also put G2 into the PEM bundle an application reads (its curl.cainfo), creating the file if missing
  vip.mtls.trust_anchor:
    src: DigiCertGlobalRootG2.crt.pem
    name: digicert-global-root-g2
    fingerprint_sha256:
      - CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F
    stores: [bundle]
    bundles: [/etc/ssl/app-ca.pem]
    create_bundle: true
  become: true

- name: Stop trusting G1, installed by an earlier rollout, once every endpoint chains to G2
  vip.mtls.trust_anchor:
    name: digicert-global-root-ca
    fingerprint_sha256:  # only an anchor of this name holding this certificate is removed
      - 43:48:A0:E9:44:4C:78:CB:26:5E:05:8D:5E:89:44:B4:D8:4F:96:62:BD:26:DB:25:7F:89:34:A4:43:C7:01:61
    stores: [system, bundle]
    bundles: [/etc/ssl/app-ca.pem]
    state: absent
  become: true

- name: Trust G2 and make sure G1 is gone - one call, at most one refresh of the system store
  vip.mtls.trust_anchor:
    anchors:
      - name: digicert-global-root-g2
        src: DigiCertGlobalRootG2.crt.pem
        fingerprint_sha256: [CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F]
      - name: digicert-global-root-ca
        fingerprint_sha256: [43:48:A0:E9:44:4C:78:CB:26:5E:05:8D:5E:89:44:B4:D8:4F:96:62:BD:26:DB:25:7F:89:34:A4:43:C7:01:61]
        state: absent
  become: true

- name: Check the anchors and their pins on the controller only (nothing on the host), as a pre-flight
  vip.mtls.trust_anchor:
    anchors:
      - name: digicert-global-root-g2
        src: DigiCertGlobalRootG2.crt.pem
        fingerprint_sha256: [CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F]
    validate_only: true
"""

RETURN = r"""
anchors:
  description:
    - One entry per certificate of O(src) or O(content); empty for O(state=absent) by O(fingerprint_sha256) alone.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The anchor's name (O(name), or the item's name in O(anchors)).
      type: str
    state:
      description: V(present) or V(absent), as asked for this anchor.
      type: str
    subject:
      description: Subject distinguished name (RFC 4514); null with O(state=absent).
      type: str
    issuer:
      description: Issuer distinguished name (RFC 4514).
      type: str
      returned: when O(validate_only=true)
    serial:
      description: Serial number, hexadecimal.
      type: str
      returned: when O(validate_only=true)
    not_before:
      description: Start of validity, ISO 8601.
      type: str
      returned: when O(validate_only=true)
    fingerprint_sha256:
      description: SHA-256 of the DER bytes, colon-separated upper-case hex.
      type: str
    not_after:
      description: End of validity, ISO 8601; null with O(state=absent).
      type: str
    path:
      description:
        - The managed anchor file of the V(system) store; null when O(stores) has no V(system), when the anchor
          is not (or no longer) there, and with O(validate_only=true).
      type: str
stores:
  description: Per store kind in O(stores), what happened there.
  returned: unless O(validate_only=true)
  type: dict
  sample: {"system": {"changed": true, "paths": ["/usr/local/share/ca-certificates/demo.crt"], "removed": [], "refreshed": true}}
  contains:
    system:
      description: The operating system's store.
      type: dict
      returned: when O(stores) contains V(system)
      contains: &store_result
        changed:
          description: Whether this store changed.
          type: bool
        paths:
          description:
            - Where the anchors are - the anchor files (V(system)), C(KEYSTORE#ALIAS) entries (V(java)), the
              bundle files (V(bundle)); empty with O(state=absent).
          type: list
          elements: str
        removed:
          description:
            - What was removed - anchor files (V(system)), C(KEYSTORE#ALIAS) entries (V(java)), the bundle files
              that lost a block (V(bundle)).
          type: list
          elements: str
        refreshed:
          description: Whether the store's refresh command ran.
          type: bool
    java:
      description: The Java keystore.
      type: dict
      returned: when O(stores) contains V(java)
      contains: *store_result
    bundle:
      description: The PEM bundles, together.
      type: dict
      returned: when O(stores) contains V(bundle)
      contains: *store_result
refreshed:
  description: Whether any store's refresh command ran.
  returned: unless O(validate_only=true)
  type: bool
validated:
  description: Set by O(validate_only=true) - the input was read and checked; the host was not contacted.
  returned: when O(validate_only=true)
  type: bool
  sample: true
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vip.mtls.plugins.module_utils.argspecs import TRUST_ANCHOR
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.module_utils.truststore import manage_trust


def run(module):
    if module.params["src"] or any(item.get("src") for item in module.params["anchors"] or []):
        raise VipMtlsError("src must be resolved by the vip.mtls.trust_anchor action plugin; "
                           "call the module by its full name vip.mtls.trust_anchor")
    return manage_trust(module, module.params)


def main():
    module = AnsibleModule(argument_spec=TRUST_ANCHOR, supports_check_mode=True,
                           mutually_exclusive=[("src", "content"), ("anchors", "name")],
                           required_one_of=[("name", "anchors")])
    try:
        result = run(module)
    except VipMtlsError as exc:
        module.fail_json(msg=exc.msg, **exc.details)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
