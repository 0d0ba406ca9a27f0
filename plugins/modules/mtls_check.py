#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: mtls_check
short_description: Prove that this host can call a mutual-TLS HTTPS service
version_added: 0.1.0
author: vip.mtls developers
description:
  - Opens one HTTPS connection from the target host to O(url), presenting the client certificate, and
    sends one HTTP request. Succeeds when the handshake completes, the client certificate is not refused
    and an HTTP answer arrives (any status).
  - On failure the result names a RV(reason), the RV(stage) where it happened and a one-line RV(hint)
    for the operator.
  - "The failure message reads C(REASON: HINT), followed by RV(detail) in parentheses, shortened to about
    200 characters."
  - Runs on the target with Python's standard library only; it never changes anything, so it also runs
    in check mode.
  - Whether the server asked for a client certificate, and which CAs it named, is observed during the
    handshake where the target's Python allows it; where it does not, those values are null, never guessed.
options:
  url:
    description:
      - The C(https://) URL to request, for example
        C(https://userservices-auth.vip.symantec.com/vipuserservices/QueryService_1_8).
    type: str
    required: true
  client_cert:
    description:
      - PEM file on the target holding the client certificate, optionally followed by its chain and by the
        private key.
      - Without it the check still runs, and shows whether the server insists on a client certificate.
    type: path
  client_key:
    description:
      - PEM file on the target holding the private key of O(client_cert).
      - Omit when the key is in the O(client_cert) file.
    type: path
  client_key_passphrase:
    description:
      - Passphrase of an encrypted private key.
    type: str
  ca_path:
    description:
      - CA file (PEM bundle) or hashed CA directory on the target that the server chain must lead to.
      - Default is the system trust store.
    type: path
  timeout:
    description:
      - Seconds for the whole check, from name resolution to the HTTP answer.
      - Greater than 0 and at most 3600; anything else (including C(inf) and C(nan)) fails as a usage error.
    type: float
    default: 10
attributes:
  check_mode:
    support: full
    description: Read-only; it runs in check mode as it does otherwise and never reports a change.
  diff_mode:
    support: none
notes:
  - A TLS 1.3 server judges the client certificate after the client has finished its handshake, so its
    refusal arrives on the first read; it is still reported with RV(stage=tls).
  - Servers such as nginx complete the handshake and answer HTTP 400 to a missing or refused client
    certificate; those answers are reported as V(client_cert_required) or V(client_cert_rejected) with
    RV(stage=http).
  - TLS 1.2 is the lowest version this check accepts.
seealso:
  - module: vip.mtls.trust_anchor
  - module: vip.mtls.client_cert
"""

EXAMPLES = r"""
- name: Check that this host can call VIP User Services with its certificate
  vip.mtls.mtls_check:
    url: https://userservices-auth.vip.symantec.com/vipuserservices/QueryService_1_8
    client_cert: /etc/vip-mtls/client.crt
    client_key: /etc/vip-mtls/client.key

- name: Check against an explicit CA file, without failing the play
  vip.mtls.mtls_check:
    url: https://mtls.example.internal:8443/health
    client_cert: /etc/vip-mtls/client.pem
    ca_path: /etc/vip-mtls/ca.pem
    timeout: 5
  register: reachability
  ignore_errors: true

- name: Report why it failed
  ansible.builtin.debug:
    msg: "{{ reachability.reason }} at stage {{ reachability.stage }}: {{ reachability.hint }}"
  when: not reachability.ok
"""

RETURN = r"""
ok:
  description: Whether the check succeeded.
  returned: always
  type: bool
  sample: true
reason:
  description:
    - V(ok), or why the check failed.
    - V(client_cert_invalid) (stage C(local)); V(dns_failure) (C(dns)); V(connect_refused), V(connect_timeout)
      (C(connect)); V(tls_protocol_mismatch), V(server_untrusted), V(server_hostname_mismatch),
      V(server_cert_expired), V(client_cert_required), V(client_cert_rejected) (C(tls)); V(client_cert_required),
      V(client_cert_rejected), V(http_error) (C(http)); V(timeout) (C(dns), C(tls) or C(http)).
    - V(timeout) at C(dns) means the resolver did not answer before the deadline; a name that does not
      exist is V(dns_failure).
  returned: always
  type: str
  sample: client_cert_rejected
stage:
  description: Where the check failed; null when it succeeded.
  returned: always
  type: str
  sample: tls
hint:
  description: One line telling the operator what to do (on success, a short confirmation).
  returned: always
  type: str
  sample: "the server requires a client certificate: set client_cert and client_key (deploy them with vip.mtls.client_cert)"
detail:
  description: The raw evidence, such as the TLS alert or error, the errno, or the HTTP status line and the start of the body.
  returned: always
  type: str
  sample: "after the TLS handshake, before any HTTP answer: [SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required"
tls_version:
  description: Negotiated TLS version, when the handshake completed.
  returned: always
  type: str
  sample: TLSv1.3
cipher:
  description: Negotiated cipher suite, when the handshake completed.
  returned: always
  type: str
  sample: TLS_AES_256_GCM_SHA384
http_status:
  description: HTTP status code of the answer, when one arrived.
  returned: always
  type: int
  sample: 200
address:
  description: The C(ip:port) the connection was made to.
  returned: always
  type: str
  sample: "192.0.2.10:443"
elapsed_ms:
  description: Milliseconds the whole check took.
  returned: always
  type: int
  sample: 182
server_chain:
  description:
    - The verified server chain, leaf first, root last. Null where the target's Python cannot expose it
      (before 3.10) or when verification failed.
    - Fields a certificate does not let this module read are null; the fingerprint is always there.
  returned: always
  type: list
  elements: dict
  contains:
    subject:
      description: Subject as an RFC 4514 string.
      type: str
      sample: "CN=DigiCert Global Root G2,OU=www.digicert.com,O=DigiCert Inc,C=US"
    issuer:
      description: Issuer as an RFC 4514 string.
      type: str
      sample: "CN=DigiCert Global Root G2,OU=www.digicert.com,O=DigiCert Inc,C=US"
    not_after:
      description: End of validity, ISO 8601.
      type: str
      sample: "2038-01-15T12:00:00+00:00"
    fingerprint_sha256:
      description: SHA-256 of the DER bytes, colon-separated upper-case hex.
      type: str
      sample: "CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F"
anchor:
  description: The trusted root that validated the server chain (the last element of RV(server_chain)); null when unknown.
  returned: always
  type: dict
  sample:
    subject: "CN=DigiCert Global Root G2,OU=www.digicert.com,O=DigiCert Inc,C=US"
    issuer: "CN=DigiCert Global Root G2,OU=www.digicert.com,O=DigiCert Inc,C=US"
    not_after: "2038-01-15T12:00:00+00:00"
    fingerprint_sha256: "CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F"
client_cert_requested:
  description:
    - Whether the server asked for a client certificate. Null when it could not be observed.
    - V(false) on success comes with a warning that mutual TLS is not in force.
  returned: always
  type: bool
  sample: true
acceptable_client_cas:
  description:
    - Distinguished names of the CAs the server named as acceptable for client certificates (RFC 4514);
      empty when it named none. Null when no request was observed.
  returned: always
  type: list
  elements: str
  sample: ["CN=VIP Authentication Service CA,O=Symantec Corporation,C=US"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vip.mtls.plugins.module_utils.argspecs import MTLS_CHECK
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.module_utils.tls_probe import check, failure_message


def main():
    module = AnsibleModule(
        argument_spec=MTLS_CHECK,
        supports_check_mode=True,  # read-only: the check runs the same in check mode
    )
    params = module.params
    try:
        result = check(
            params["url"],
            client_cert=params["client_cert"],
            client_key=params["client_key"],
            client_key_passphrase=params["client_key_passphrase"],
            ca_path=params["ca_path"],
            timeout=params["timeout"],
        )
    except VipMtlsError as exc:
        module.fail_json(msg=exc.msg, changed=False, **exc.details)

    for warning in result.pop("warnings"):
        module.warn(warning)
    if result["ok"]:
        module.exit_json(changed=False, **result)
    module.fail_json(msg=failure_message(result), changed=False, **result)


if __name__ == "__main__":
    main()
