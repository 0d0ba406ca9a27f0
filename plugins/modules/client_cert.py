#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: client_cert
short_description: Deploy a TLS client certificate and its private key with exact owner and modes
version_added: 0.1.0
author: vip.mtls developers (!UNKNOWN)
description:
  - Deploys the client certificate that a mutual-TLS service such as Symantec/Broadcom VIP Services demands,
    its private key and (when the input has one) its chain, as PEM files.
  - The input is opened and validated on the controller by the action plugin (the C(cryptography) package is
    needed on the controller only), before anything is sent to the host - the passphrase is right, the key
    matches the certificate, the certificate is valid now and for at least O(min_days_valid) days.
  - The key file never exists with a wider mode or another owner than requested, not even for an instant -
    each output is written to a temporary file in the destination directory that gets its final owner and
    mode while still empty, and is then renamed into place.
  - Idempotent by meaning - an output is rewritten only when the certificate or key it holds differs, or its
    mode or owner does; different line breaks do not count.
  - Key material and passphrases never appear in results, diffs or logs.
options:
  src:
    description:
      - The VIP certificate as PKCS#12 (.p12/.pfx, with O(passphrase); AES/PBKDF2, 3DES and legacy RC2-40
        encryptions) or as one PEM file holding certificate and key; the format is detected. Read on the
        controller (vault-encrypted files work) unless O(remote_src=true).
      - Required with O(state=present), unless O(cert_src) and O(key_src) are given instead.
    type: str
  cert_src:
    description: A PEM file with the client certificate (and, after it, its chain), with O(key_src).
    type: str
  key_src:
    description: A PEM file with the private key (PKCS#1, PKCS#8 or encrypted PKCS#8; RSA or EC), with O(cert_src).
    type: str
  remote_src:
    description: Read O(src), O(cert_src) and O(key_src) from the target host instead of the controller.
    type: bool
    default: false
  passphrase:
    description: Passphrase of the PKCS#12 file or of an encrypted PEM key in O(src).
    type: str
  key_passphrase:
    description: Passphrase of an encrypted key in O(key_src).
    type: str
  dest_dir:
    description:
      - Directory for the outputs, created with O(dir_mode), O(owner) and O(group). It, and every directory
        above it, must belong to root or O(owner) and must not be writable by others.
    type: path
    default: /etc/vip-mtls
  cert_path:
    description: Certificate PEM output. Default C(dest_dir/client.crt).
    type: path
  key_path:
    description: Private key PEM output (PKCS#8; encrypted with O(key_output_passphrase)). Default C(dest_dir/client.key).
    type: path
  chain_path:
    description: Chain PEM output, written only when the input carries a chain. Default C(dest_dir/chain.crt).
    type: path
  combined_path:
    description: One PEM file with certificate then key, for clients that want a single file.
    type: path
  pkcs12_path:
    description: A PKCS#12 output (certificate, key and chain) protected by O(pkcs12_passphrase).
    type: path
  pkcs12_passphrase:
    description: Password of O(pkcs12_path). Required with it.
    type: str
  pkcs12_compat:
    description:
      - Encrypt PKCS#12 outputs with 3DES and a SHA-1 MAC, for older Java (before 8u301/11.0.12) and Windows
        readers. The default is AES-256 with PBKDF2.
    type: bool
    default: false
  keystore_path:
    description: A Java keystore output holding the key and certificate under O(keystore_alias).
    type: path
  keystore_type:
    description: Type of O(keystore_path). V(JKS) is written with the host's C(keytool).
    type: str
    choices: [PKCS12, JKS]
    default: PKCS12
  keystore_password:
    description: Store (and key) password of O(keystore_path). Required with it.
    type: str
  keystore_alias:
    description: Alias (friendly name) of the key entry in O(keystore_path) and O(pkcs12_path).
    type: str
    default: vip-client
  key_output_passphrase:
    description: Encrypt the key in O(key_path) and O(combined_path) with this passphrase.
    type: str
  owner:
    description: Owner of every output and of O(dest_dir). Default the user the module runs as.
    type: str
  group:
    description: Group of every output and of O(dest_dir). Default the group the module runs as.
    type: str
  key_mode:
    description:
      - Mode of every file holding key material (key, combined, PKCS#12, keystore). Must not grant anything to
        other users. Quote it.
    type: raw
    default: '0600'
  cert_mode:
    description: Mode of the certificate and chain files.
    type: raw
    default: '0644'
  dir_mode:
    description: Mode of O(dest_dir); must not let group or others write.
    type: raw
    default: '0750'
  warn_days:
    description: Warn when the certificate expires in fewer days than this.
    type: int
    default: 30
  min_days_valid:
    description: Fail, changing nothing, when the certificate expires in fewer days than this.
    type: int
    default: 0
  issuer_fingerprint_sha256:
    description:
      - SHA-256 pins of the client CA. The certificate must have been signed by a CA in the input's chain whose
        fingerprint is one of these.
    type: list
    elements: str
    default: []
  backup:
    description: Keep each replaced file as C(PATH.YYYYmmdd-HHMMSS~), with its mode and owner.
    type: bool
    default: false
  state:
    description:
      - V(present) writes the outputs; V(absent) removes every output the options name (defaults included)
        and the module's record of encrypted outputs, keeping O(dest_dir).
    type: str
    choices: [present, absent]
    default: present
  validate_only:
    description:
      - Only open and check the input on the controller; do not contact the host. The vip_mtls role uses it
        to validate every input before the first change on any host.
    type: bool
    default: false
  _outputs:
    description:
      - Internal, never set it in a task. The action plugin renders every output on the controller and hands
        them to the module on the host in this one string (so that no_log masks only it).
    type: str
attributes:
  check_mode:
    support: full
    description: Can run in check_mode and return changed status prediction without modifying target.
    details: The input is opened and checked on the controller as in a real run; nothing is written.
  diff_mode:
    support: full
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    details: The diff shows paths, certificate fingerprints, modes and owners; never key material.
notes:
  - Needs root on the target (C(become)) to set the owner.
seealso:
  - module: vip.mtls.trust_anchor
  - module: vip.mtls.mtls_check
"""

EXAMPLES = r"""
- name: Deploy the VIP client certificate from a vault-encrypted PKCS#12
  vip.mtls.client_cert:
    src: files/vip_certificate.p12
    passphrase: "{{ vault_vip_p12_passphrase }}"
    owner: vipapp
    group: vipapp
    key_mode: '0640'
  become: true

- name: Check a renewed PKCS#12 before the change window, on the controller only (no host is contacted)
  vip.mtls.client_cert:
    src: files/vip_certificate.p12
    passphrase: "{{ vault_vip_p12_passphrase }}"
    min_days_valid: 30
    validate_only: true
"""

RETURN = r"""
subject:
  description: Subject of the client certificate (RFC 4514).
  returned: when O(state=present)
  type: str
issuer:
  description: Issuer of the client certificate (RFC 4514).
  returned: when O(state=present)
  type: str
serial:
  description: Serial number, hexadecimal.
  returned: when O(state=present)
  type: str
not_before:
  description: Start of validity, ISO 8601.
  returned: when O(state=present)
  type: str
not_after:
  description: End of validity, ISO 8601.
  returned: when O(state=present)
  type: str
days_remaining:
  description: Whole days until the certificate expires.
  returned: when O(state=present)
  type: int
fingerprint_sha256:
  description: SHA-256 of the certificate's DER bytes, colon-separated upper-case hex.
  returned: when O(state=present)
  type: str
previous_not_after:
  description: End of validity of the certificate that was at O(cert_path) before this run (null if none).
  returned: when O(state=present), unless O(validate_only=true)
  type: str
previous_fingerprint_sha256:
  description: SHA-256 fingerprint of the certificate that was at O(cert_path) before this run (null if none).
  returned: when O(state=present), unless O(validate_only=true)
  type: str
backups:
  description: Backup files made by O(backup=true).
  returned: when O(state=present), unless O(validate_only=true)
  type: list
  elements: str
files:
  description: Output kind to path, for every output written or checked; empty with O(state=absent).
  returned: unless O(validate_only=true)
  type: dict
  sample: {"cert": "/etc/vip-mtls/client.crt", "key": "/etc/vip-mtls/client.key"}
  contains:
    cert:
      description: O(cert_path).
      type: str
      returned: with O(state=present)
    key:
      description: O(key_path).
      type: str
      returned: with O(state=present)
    chain:
      description: O(chain_path).
      type: str
      returned: when the input has a chain
    combined:
      description: O(combined_path).
      type: str
      returned: when O(combined_path) is set
    pkcs12:
      description: O(pkcs12_path).
      type: str
      returned: when O(pkcs12_path) is set
    keystore:
      description: O(keystore_path).
      type: str
      returned: when O(keystore_path) is set
removed:
  description: With O(state=absent), the files removed (in check mode, that would be removed).
  returned: when O(state=absent)
  type: list
  elements: str
validated:
  description: Set by O(validate_only=true) - the input was opened and checked; the host was not contacted.
  returned: when O(validate_only=true)
  type: bool
  sample: true
"""

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vip.mtls.plugins.module_utils.argspecs import CLIENT_CERT, CLIENT_CERT_INTERNAL
from ansible_collections.vip.mtls.plugins.module_utils.clientcert import deploy
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError


def main():
    module = AnsibleModule(argument_spec=dict(CLIENT_CERT, **CLIENT_CERT_INTERNAL), supports_check_mode=True)
    try:
        params = dict(module.params, _outputs=json.loads(module.params["_outputs"] or "[]"))
        result = deploy(module, params)
    except VipMtlsError as exc:
        module.fail_json(msg=exc.msg, **exc.details)
    except OSError as exc:
        module.fail_json(msg="could not write the client certificate files: %s" % exc)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
