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
author: vip.mtls developers (!UNKNOWN)
description:
  - Opens one HTTPS connection from the target host to O(url), presenting the client certificate, and
    sends one HTTP request, directly or through an HTTP CONNECT proxy. Succeeds when the handshake
    completes, the client certificate is not refused and an HTTP answer arrives (any status, unless
    O(expected_status) is set); with O(probe=vip_get_server_time) the VIP service must also answer
    status C(0000).
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
  client_pkcs12:
    description:
      - PKCS#12 file (C(.p12)/C(.pfx), as VIP Manager issues it) on the target, instead of O(client_cert)
        and O(client_key).
      - Opened with the Python C(cryptography) library if the target's Python has it; the key is handed to
        the TLS library, encrypted with a one-time password, through a private temporary directory (mode 0700)
        that is removed at once.
      - Without C(cryptography) on the target the check fails with V(client_cert_invalid), naming the PEM
        route (O(client_cert) and O(client_key), for example written by M(vip.mtls.client_cert)).
      - Mutually exclusive with O(client_cert).
    type: path
  client_pkcs12_passphrase:
    description:
      - Password of O(client_pkcs12).
    type: str
  ca_path:
    description:
      - CA file (PEM bundle) or hashed CA directory on the target that the server chain must lead to.
      - Default is the system trust store. Mutually exclusive with O(anchors).
    type: path
  anchors:
    description:
      - The only roots to trust, instead of O(ca_path) or the system store; each item is PEM text or the
        path of a PEM or DER file on the target (for example the two DigiCert roots while VIP moves from
        G1 to G2).
      - RV(anchor) then tells which of them validated the server chain.
    type: list
    elements: str
  timeout:
    description:
      - Seconds for the whole check, from name resolution to the HTTP answer, retries and their delays
        included; it is never exceeded.
      - Greater than 0 and at most 3600; anything else (including C(inf) and C(nan)) fails as a usage error.
    type: float
    default: 10
  proxy:
    description:
      - HTTP proxy to tunnel through with C(CONNECT), as C(http://[user:password@]host:port).
      - "Credentials are sent as C(Proxy-Authorization: Basic); the password never appears in results or
        messages (RV(proxy) shows it as C(********))."
      - The TLS name (SNI) and the name verified in the server certificate are always the service's, never
        the proxy's.
      - Takes precedence over O(use_proxy_env). Only C(http://) proxies; C(https://) and SOCKS proxies fail as
        a usage error.
    type: str
  use_proxy_env:
    description:
      - Use the proxy in the target's C(https_proxy) (or C(HTTPS_PROXY)) environment variable, unless
        C(no_proxy) (or C(NO_PROXY)) exempts the URL's host or O(address).
      - "C(no_proxy) entries: C(*), a domain (C(example.com), C(.example.com) or C(*.example.com) match it and
        every name below it), a host or IP address, or a CIDR network; a C(:port) suffix is ignored."
      - The environment is the module's on the target; set it with the task's C(environment) keyword.
    type: bool
    default: false
  server_name:
    description:
      - Name to send as SNI, to verify in the server certificate and to send as the HTTP C(Host); default
        the URL's host.
      - With O(address), tests one node behind a load balancer under the service's name.
    type: str
  address:
    description:
      - Connect to this IP address or host name (optionally C(:port)) instead of the URL's host, while still
        verifying the URL's host (or O(server_name)). With a proxy, this is what C(CONNECT) asks for.
    type: str
  tls_min_version:
    description:
      - Lowest TLS version to accept. The negotiated version and cipher are returned in RV(tls_version) and
        RV(cipher).
    type: str
    choices: ['1.2', '1.3']
    default: '1.2'
  probe:
    description:
      - V(http) sends C(GET) to the URL; any HTTP answer is success unless O(expected_status) is set.
      - "V(vip_get_server_time) POSTs the VIP QueryService C(getServerTime) SOAP 1.1 request
        (C(Content-Type: text/xml; charset=utf-8), empty C(SOAPAction)) with a random C(requestId), and
        requires C(<status>0000</status>) in the answer; any other status is V(application_error) with the
        status and C(statusMessage) in RV(detail). Point O(url) at the QueryService, for example
        C(https://userservices-auth.vip.symantec.com/vipuserservices/QueryService_1_8)."
    type: str
    choices: [http, vip_get_server_time]
    default: http
  expected_status:
    description:
      - HTTP status codes that count as success; another status is V(http_error). Default any status.
    type: list
    elements: int
  retries:
    description:
      - How many times to try again after a transient failure (V(connect_refused), V(connect_timeout),
        V(timeout), a proxy that is unreachable or answers 5xx, and a 5xx status outside O(expected_status)).
      - A refused or untrusted certificate, a name that does not resolve and the like are never retried.
      - There is no further attempt once less than O(delay) is left of O(timeout). At most 100.
    type: int
    default: 0
  delay:
    description:
      - Seconds to wait between attempts.
    type: float
    default: 1
attributes:
  check_mode:
    support: full
    description: Read-only; it runs in check mode as it does otherwise and never reports a change.
  diff_mode:
    support: none
    description: Read-only, so there is never a difference to show.
notes:
  - A TLS 1.3 server judges the client certificate after the client has finished its handshake, so its
    refusal arrives on the first read; it is still reported with RV(stage=tls).
  - Servers such as nginx complete the handshake and answer HTTP 400 to a missing or refused client
    certificate; those answers are reported as V(client_cert_required) or V(client_cert_rejected) with
    RV(stage=http).
  - TLS 1.2 is the lowest version this check accepts.
  - Full check mode support; the module never reports a change and never returns a key, passphrase or
    proxy password.
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

- name: Prove the VIP application answers, through the corporate proxy, trusting only G2
  vip.mtls.mtls_check:
    url: https://userservices-auth.vip.symantec.com/vipuserservices/QueryService_1_8
    client_cert: /etc/vip-mtls/client.crt
    client_key: /etc/vip-mtls/client.key
    proxy: "http://svc-vip:{{ vault_proxy_password }}@proxy.example.internal:3128"
    anchors:
      - /usr/local/share/ca-certificates/digicert-global-root-g2.crt
    probe: vip_get_server_time
    retries: 2
    delay: 2
    timeout: 20

- name: Check with the VIP PKCS#12 file itself (needs python3-cryptography on the host)
  vip.mtls.mtls_check:
    url: https://userservices-auth.vip.symantec.com/vipuserservices/QueryService_1_8
    client_pkcs12: /etc/vip-mtls/vip.p12
    client_pkcs12_passphrase: "{{ vault_vip_p12_passphrase }}"

- name: Test one node behind the load balancer, under the service name
  vip.mtls.mtls_check:
    url: https://mtls.example.internal/health
    address: 10.0.4.21
    tls_min_version: '1.3'
    expected_status: [200]
    client_cert: /etc/vip-mtls/client.crt
    client_key: /etc/vip-mtls/client.key

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
      V(client_cert_rejected), V(http_error) (C(http)); V(proxy_failure) (C(proxy)); V(application_error)
      (C(application)); V(timeout) (C(dns), C(proxy), C(tls) or C(http)).
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
  description: Negotiated TLS version when the handshake completed, else null.
  returned: always
  type: str
  sample: TLSv1.3
cipher:
  description: Negotiated cipher suite when the handshake completed, else null.
  returned: always
  type: str
  sample: TLS_AES_256_GCM_SHA384
http_status:
  description: HTTP status code of the answer when one arrived, else null.
  returned: always
  type: int
  sample: 200
address:
  description: The C(ip:port) the TCP connection was made to (with a proxy, the proxy's); null before any connection.
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
client_cert_issuer:
  description:
    - Issuer (RFC 4514) of the client certificate given in O(client_cert); null without one. When the server
      named the client CAs it accepts and this issuer is not among them, a warning (or, for
      V(client_cert_rejected), the hint) says so.
  returned: always
  type: str
acceptable_client_cas:
  description:
    - Distinguished names of the CAs the server named as acceptable for client certificates (RFC 4514);
      empty when it named none. Null when no request was observed.
  returned: always
  type: list
  elements: str
  sample: ["CN=VIP Authentication Service CA,O=Symantec Corporation,C=US"]
attempts:
  description: How many connections were tried (0 when a local problem stopped the check before connecting).
  returned: always
  type: int
  sample: 1
proxy:
  description: The proxy the check went through, password replaced by C(********); null when none.
  returned: always
  type: str
  sample: "http://svc-vip:********@proxy.example.internal:3128"
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
    options = {name: module.params[name] for name in MTLS_CHECK if name != "url"}
    try:
        result = check(module.params["url"], **options)
    except VipMtlsError as exc:
        module.fail_json(msg=exc.msg, changed=False, **exc.details)

    for warning in result.pop("warnings"):
        module.warn(warning)
    if result["ok"]:
        module.exit_json(changed=False, **result)
    module.fail_json(msg=failure_message(result), changed=False, **result)


if __name__ == "__main__":
    main()
