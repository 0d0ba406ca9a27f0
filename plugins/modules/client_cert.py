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
author: vip.mtls developers
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
      - The VIP certificate as PKCS#12 (.p12/.pfx, with O(passphrase)) or as one PEM file holding certificate
        and key; the format is detected. Read on the controller (vault-encrypted files work) unless
        O(remote_src=true).
    type: str
    required: true
  remote_src:
    description: Read O(src) from the target host instead of the controller.
    type: bool
    default: false
  passphrase:
    description: Passphrase of the PKCS#12 file or of an encrypted PEM key.
    type: str
  dest_dir:
    description: Directory for the outputs, created with O(dir_mode), O(owner) and O(group).
    type: path
    default: /etc/vip-mtls
  cert_path:
    description: Certificate output. Default C(dest_dir/client.crt).
    type: path
  key_path:
    description: Private key output (unencrypted PKCS#8 PEM). Default C(dest_dir/client.key).
    type: path
  chain_path:
    description: Chain output, written only when the input carries a chain. Default C(dest_dir/chain.crt).
    type: path
  owner:
    description: Owner of every output and of O(dest_dir). Default the user the module runs as.
    type: str
  group:
    description: Group of every output and of O(dest_dir). Default the group the module runs as.
    type: str
  key_mode:
    description:
      - Mode of every file holding key material. Must not grant anything to other users. Quote it.
    type: raw
    default: '0600'
  cert_mode:
    description: Mode of the certificate and chain files.
    type: raw
    default: '0644'
  dir_mode:
    description: Mode of O(dest_dir).
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
  validate_only:
    description:
      - Only open and check the input on the controller; do not contact the host. The vip_mtls role uses it
        to validate every input before the first change on any host.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
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
"""

RETURN = r"""
subject:
  description: Subject of the client certificate (RFC 4514).
  returned: success
  type: str
issuer:
  description: Issuer of the client certificate (RFC 4514).
  returned: success
  type: str
serial:
  description: Serial number, hexadecimal.
  returned: success
  type: str
not_before:
  description: Start of validity, ISO 8601.
  returned: success
  type: str
not_after:
  description: End of validity, ISO 8601.
  returned: success
  type: str
days_remaining:
  description: Whole days until the certificate expires.
  returned: success
  type: int
fingerprint_sha256:
  description: SHA-256 of the certificate's DER bytes, colon-separated upper-case hex.
  returned: success
  type: str
files:
  description: Output kind (cert, key, chain) to path.
  returned: success
  type: dict
  sample: {"cert": "/etc/vip-mtls/client.crt", "key": "/etc/vip-mtls/client.key"}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vip.mtls.plugins.module_utils.argspecs import CLIENT_CERT, CLIENT_CERT_INTERNAL
from ansible_collections.vip.mtls.plugins.module_utils.clientcert import deploy
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError


def main():
    module = AnsibleModule(argument_spec=dict(CLIENT_CERT, src=dict(type="str"), **CLIENT_CERT_INTERNAL),
                           supports_check_mode=True)
    try:
        result = deploy(module, module.params, module.params["_cert_fingerprint"])
    except VipMtlsError as exc:
        module.fail_json(msg=exc.msg, **exc.details)
    except OSError as exc:
        module.fail_json(msg="could not write the client certificate files: %s" % exc)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
