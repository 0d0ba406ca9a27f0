#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: mtls_info
short_description: Report, in one call, what a host holds for mutual TLS and whether it works
version_added: 0.1.0
author: vip.mtls developers (!UNKNOWN)
description:
  - Gathers on the target, read-only and in one module call, everything an audit of a mutual-TLS client
    needs to know.
  - The system trust store (found from C(/etc/os-release) as M(vip.mtls.trust_anchor) does) - every local
    anchor file (C(*.crt)) in its anchor directory with name, fingerprint, subject and expiry, and whether
    each root in O(roots) (default DigiCert Global Root G2 and G1) is in the extracted system bundle.
  - Optionally the same for PEM O(bundles) and, with O(java=true), a Java keystore (listed with keytool).
  - The client certificate at O(client_cert) (subject, issuer, expiry, days remaining, fingerprint, mode
    and owner) and the mode and owner of its key at O(client_key); the key is never read (unless O(plan_client_cert)
    is set, to compare it with the one to deploy).
  - Optionally the live mutual-TLS check of each of O(urls), exactly as M(vip.mtls.mtls_check) does it,
    including the root that validated the server chain; a failing check does not fail this module.
  - Optionally pre-flight checks for a rollout (O(preflight_writable), O(preflight_resolve)); these do
    fail the module, with one message naming every problem.
  - Needs only Python's standard library on the target. Never changes anything and never reports a change.
options:
  client_cert:
    description:
      - PEM file on the target holding the client certificate (its first certificate is described).
      - A missing file is reported (RV(client_cert.exists=false)), not an error; the live checks then run
        without a client certificate, so they show what the server says to a client without one.
      - Set to an empty string to skip the client certificate.
    type: path
    default: /etc/vip-mtls/client.crt
  client_key:
    description:
      - PEM file on the target holding the private key; only its mode and owner are reported, and it is
        handed to the live check.
    type: path
    default: /etc/vip-mtls/client.key
  client_key_passphrase:
    description:
      - Passphrase of an encrypted O(client_key), for the live check.
    type: str
  warn_days:
    description:
      - A client certificate with fewer days left than this is reported as RV(client_cert.expiring).
    type: int
    default: 30
  roots:
    description:
      - Roots to look for in every store, each a dict with C(name) and C(fingerprint_sha256) (colons
        optional, any case).
      - Default DigiCert Global Root G2 (C(digicert-global-root-g2)) then DigiCert Global Root CA (G1,
        C(digicert-global-root-ca)). Add a corporate or test root by listing all of them.
    type: list
    elements: dict
  bundles:
    description:
      - PEM bundle files on the target (PHP C(curl.cainfo), a certifi bundle, an application's C(ca.pem)) to
        look for O(roots) in. Missing files are reported, not an error.
    type: list
    elements: path
    default: []
  java:
    description:
      - Also list a Java keystore with keytool (read-only) and look for O(roots) in it. Costs a JVM start.
    type: bool
    default: false
  java_home:
    description:
      - JRE/JDK whose C(cacerts) to list; default the C(java) on C(PATH).
    type: path
  java_keystore:
    description:
      - Keystore file to list instead of the JRE's C(cacerts).
    type: path
  java_keystore_type:
    description:
      - Type of O(java_keystore).
    type: str
    default: auto
    choices: [auto, JKS, PKCS12]
  java_keystore_password:
    description:
      - Password of the keystore; only ever passed to keytool through its environment.
    type: str
    default: changeit
  urls:
    description:
      - C(https://) URLs to run the live mutual-TLS check against, with O(client_cert) and O(client_key) when
        the certificate exists. Each result is in RV(checks). Default none.
      - The options below (O(ca_path) to O(delay)) mean what they mean for M(vip.mtls.mtls_check).
    type: list
    elements: str
    default: []
  ca_path:
    description: CA file or directory for the live check; default the system trust store.
    type: path
  anchors:
    description: The only roots the live check trusts (PEM texts or files on the target).
    type: list
    elements: str
  timeout:
    description: Seconds for each whole live check, retries included.
    type: float
    default: 10
  proxy:
    description: HTTP CONNECT proxy for the live check, C(http://[user:password@]host:port).
    type: str
  use_proxy_env:
    description: Use C(https_proxy)/C(no_proxy) from the module's environment for the live check.
    type: bool
    default: false
  server_name:
    description: Name for SNI, verification and C(Host) in the live check; default each URL's host.
    type: str
  address:
    description: Connect the live check to this address instead of each URL's host.
    type: str
  tls_min_version:
    description: Lowest TLS version the live check accepts.
    type: str
    choices: ['1.2', '1.3']
    default: '1.2'
  probe:
    description: What the live check sends, V(http) or V(vip_get_server_time).
    type: str
    choices: [http, vip_get_server_time]
    default: http
  expected_status:
    description: HTTP statuses the live check counts as success; default any.
    type: list
    elements: int
  retries:
    description: Further attempts of the live check after a transient failure.
    type: int
    default: 0
  delay:
    description: Seconds between attempts.
    type: float
    default: 1
  preflight_writable:
    description:
      - Directories that a rollout will create or write (for example the client certificate's C(dest_dir)).
        Each must be a writable directory, or, when it does not exist yet, its nearest existing ancestor must be.
      - Any failure fails the module (see O(preflight_resolve)). The system store's anchor directory is always
        reported in RV(system_store.anchor_dir_writable).
    type: list
    elements: path
    default: []
  preflight_resolve:
    description:
      - Host names that must resolve on the target (the service's, unless a proxy is used).
      - When any pre-flight check fails the module fails with one message naming every problem;
        RV(preflight) holds the details.
    type: list
    elements: str
    default: []
  preflight_system_store:
    description:
      - Also require the system store's anchor directory (or its nearest existing ancestor) to be writable and
        the OS family to be known, as M(vip.mtls.trust_anchor) with C(stores=[system]) needs; a failure fails
        the module like the other pre-flight checks.
    type: bool
    default: false
  plan_trust:
    description:
      - The options of a M(vip.mtls.trust_anchor) call (for example O(vip.mtls.trust_anchor#module:anchors) and
        O(vip.mtls.trust_anchor#module:stores)). Every anchor is read and checked on the controller exactly as
        that module does, then its own code runs on the host in check mode; RV(plan) tells whether
        the call would change anything. A bad input fails this module before anything changes.
      - The vip.mtls.vip_mtls role (and so the rollout) skips the trust call when nothing would change, which
        makes a repeat run two module calls per host (this pre-flight and the live check).
    type: dict
  plan_client_cert:
    description:
      - The options of a M(vip.mtls.client_cert) call, treated the same way (the PKCS#12 or PEM input is opened
        and rendered on the controller; its secrets travel only as a no_log module argument). RV(plan.client_cert)
        tells whether the call would change anything and which certificate is there now. This also checks on
        the host that the owner, group and directories are usable, and compares the key files (never returning
        them).
    type: dict
  _plan:
    description:
      - Internal, never set it in a task. The action plugin hands O(plan_trust) and O(plan_client_cert), checked and
        rendered on the controller, to the module on the host in this one string (so that no_log masks only it).
    type: str
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode and never reports a change.
  diff_mode:
    support: none
    description: Read-only, so there is never a difference to show.
notes:
  - Read-only. The local anchor files listed are all C(*.crt) files in the system store's anchor directory,
    those of this collection (named after the anchor's C(name)) and any others an administrator put there.
  - Nothing secret is returned - no key material, no passphrase; a proxy password is shown as C(********).
seealso:
  - module: vip.mtls.mtls_check
  - module: vip.mtls.trust_anchor
  - module: vip.mtls.client_cert
"""

EXAMPLES = r"""
- name: What does this host trust and hold?
  vip.mtls.mtls_info:
  register: info

- name: The same, with the live check against VIP User Services (through the proxy) and a corporate root
  vip.mtls.mtls_info:
    urls:
      - https://userservices-auth.vip.symantec.com/vipuserservices/QueryService_1_8
    proxy: http://proxy.example.internal:3128
    roots:
      - name: digicert-global-root-g2
        fingerprint_sha256: "CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F"
      - name: digicert-global-root-ca
        fingerprint_sha256: "43:48:A0:E9:44:4C:78:CB:26:5E:05:8D:5E:89:44:B4:D8:4F:96:62:BD:26:DB:25:7F:89:34:A4:43:C7:01:61"
      - name: corp-root
        fingerprint_sha256: "ab:cd:..."
    bundles: [/etc/ssl/app-ca.pem]
    java: true
  register: info

- name: Say which root anchored the VIP chain
  ansible.builtin.debug:
    msg: "{{ info.checks[0].reason }} via {{ info.checks[0].anchor.subject | default('unknown root') }};
      certificate expires in {{ info.client_cert.days_remaining }} days; G2 {{ info.g2_present }}, G1 {{ info.g1_present }}"

- name: Pre-flight before a rollout - fails naming every problem
  vip.mtls.mtls_info:
    preflight_writable: [/etc/vip-mtls]
    preflight_resolve: [userservices-auth.vip.symantec.com]
    preflight_system_store: true
"""

RETURN = r"""
python:
  description: The target's Python that ran the module.
  returned: always
  type: dict
  sample: {version: "3.11.2", executable: /usr/bin/python3}
  contains:
    version:
      description: Its version.
      type: str
    executable:
      description: Its path.
      type: str
system_store:
  description: The OS trust store.
  returned: always
  type: dict
  contains:
    family:
      description: OS family (debian, redhat, suse, alpine, arch); null when unknown (see C(error)).
      type: str
      sample: debian
    anchor_dir:
      description: The store's local anchor directory; null when the family is unknown.
      type: str
      sample: /usr/local/share/ca-certificates
    anchor_dir_writable:
      description: Whether the anchor directory (or its nearest existing ancestor) can be written.
      type: bool
      returned: when the family is known
    bundle:
      description: The extracted bundle that clients read; null when the family is unknown.
      type: str
      sample: /etc/ssl/certs/ca-certificates.crt
    bundle_certificates:
      description: Distinct certificates in the bundle; null when it is missing.
      type: int
      sample: 146
    anchors:
      description: Every certificate in the C(*.crt) files of the anchor directory.
      type: list
      elements: dict
      sample:
        - name: digicert-global-root-g2
          path: /usr/local/share/ca-certificates/digicert-global-root-g2.crt
          fingerprint_sha256: "CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F"
          subject: "CN=DigiCert Global Root G2,OU=www.digicert.com,O=DigiCert Inc,C=US"
          not_after: "2038-01-15T12:00:00+00:00"
          days_remaining: 4420
      contains:
        name:
          description: The file name without C(.crt).
          type: str
        path:
          description: The file.
          type: str
        fingerprint_sha256:
          description: SHA-256 of the certificate, colon-separated upper-case hex.
          type: str
        subject:
          description: Subject (RFC 4514); null if the certificate does not let it be read.
          type: str
        not_after:
          description: End of validity (ISO 8601); null if it cannot be read.
          type: str
        days_remaining:
          description: Whole days left, negative once expired; null if the end of validity cannot be read.
          type: int
    error:
      description: Why the store could not be read completely; null when it could.
      type: str
roots:
  description: For each of O(roots), where it is present.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The root's name from O(roots).
      type: str
    fingerprint_sha256:
      description: Colon-separated upper-case SHA-256.
      type: str
    in_system_bundle:
      description: Whether the extracted system bundle holds it (null when the bundle cannot be read).
      type: bool
    anchor_files:
      description: Local anchor files holding it.
      type: list
      elements: str
    in_bundles:
      description: Bundle path -> whether it holds the root.
      type: dict
    in_java:
      description: Whether the Java keystore holds it; null unless O(java=true) and the keystore was read.
      type: bool
g2_present:
  description: Whether DigiCert Global Root G2 is in the extracted system bundle; null when it cannot be read.
  returned: always
  type: bool
g1_present:
  description: Whether DigiCert Global Root CA (G1) is in the extracted system bundle; null when it cannot be read.
  returned: always
  type: bool
bundles:
  description: One entry per O(bundles).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The bundle file.
      type: str
    exists:
      description: Whether it exists.
      type: bool
    certificates:
      description: Distinct certificates in it; null when it is missing or cannot be read.
      type: int
    error:
      description: Why it could not be read; null when it could (a missing file is no error).
      type: str
java:
  description: The Java keystore listed; null unless O(java=true).
  returned: always
  type: dict
  contains:
    keystore:
      description: The keystore file; null when none was found (see C(error)).
      type: str
    entries:
      description: Entries in it; null when it could not be listed.
      type: int
    error:
      description: Why it could not be listed (no Java, no keystore, wrong password); null when it could.
      type: str
client_cert:
  description: The client certificate; null when O(client_cert) is empty.
  returned: always
  type: dict
  contains:
    path:
      description: The file.
      type: str
    exists:
      description: Whether the file exists.
      type: bool
    subject:
      description: Subject (RFC 4514); null when the file is missing or holds no certificate.
      type: str
    issuer:
      description: Issuer (RFC 4514); null when the file is missing or holds no certificate.
      type: str
    not_after:
      description: End of validity (ISO 8601); null when the file is missing or holds no certificate.
      type: str
    days_remaining:
      description: Whole days left, negative once expired; null when the file is missing or holds no certificate.
      type: int
    expired:
      description: Whether it has expired; null when the file is missing or holds no certificate.
      type: bool
    expiring:
      description: Whether fewer than O(warn_days) are left; null when the file is missing or holds no certificate.
      type: bool
    fingerprint_sha256:
      description: SHA-256 of the certificate; null when the file is missing or holds no certificate.
      type: str
    mode:
      description: File mode, octal; null when the file is missing.
      type: str
    owner:
      description: Owner name; null when the file is missing.
      type: str
    group:
      description: Group name; null when the file is missing.
      type: str
    error:
      description: Why the file could not be described; null when it could (a missing file is no error).
      type: str
  sample:
    path: /etc/vip-mtls/client.crt
    exists: true
    subject: "CN=vip-client-0042,O=Example Corp"
    not_after: "2027-03-01T12:00:00+00:00"
    days_remaining: 412
    expiring: false
    fingerprint_sha256: "9A:...:11"
    mode: "0644"
    owner: root
    group: root
client_key:
  description: The private key file (never its content); null without O(client_key).
  returned: always
  type: dict
  sample: {path: /etc/vip-mtls/client.key, exists: true, mode: "0640", owner: root, group: vipapp, others_can_read: false}
  contains:
    path:
      description: The file.
      type: str
    exists:
      description: Whether it exists.
      type: bool
    mode:
      description: File mode, octal; null when the file is missing.
      type: str
    owner:
      description: Owner name; null when the file is missing.
      type: str
    group:
      description: Group name; null when the file is missing.
      type: str
    others_can_read:
      description: Whether users other than owner and group may read it; null when the file is missing.
      type: bool
checks:
  description:
    - One per O(urls), the result of the live check as M(vip.mtls.mtls_check) returns it (ok, reason, stage,
      hint, detail, tls_version, http_status, anchor, server_chain...), plus C(url) and C(client_cert_sent).
    - A request that cannot be a probe (for example an C(http://) URL) has reason C(usage_error) and only
      C(ok), C(reason), C(stage), C(hint), C(detail), C(anchor), C(url) and C(client_cert_sent).
  returned: always
  type: list
  elements: dict
checks_ok:
  description: Whether every live check succeeded; null when there were none.
  returned: always
  type: bool
preflight:
  description: The pre-flight checks.
  returned: always
  type: dict
  contains:
    writable:
      description: One per O(preflight_writable) (and the anchor directory with O(preflight_system_store=true)).
      type: list
      elements: dict
      contains:
        path:
          description: The directory asked about.
          type: str
        checked:
          description: The path really checked, the directory or its nearest existing ancestor.
          type: str
        ok:
          description: Whether it can be created or written.
          type: bool
        detail:
          description: Why not; null when it can.
          type: str
    resolved:
      description: One per O(preflight_resolve).
      type: list
      elements: dict
      contains:
        name:
          description: The host name.
          type: str
        ok:
          description: Whether it resolved.
          type: bool
        addresses:
          description: Its addresses.
          type: list
          elements: str
        detail:
          description: The resolver's error; null when it resolved.
          type: str
    problems:
      description: One message per failed pre-flight check.
      type: list
      elements: str
    ok:
      description: Whether every pre-flight check passed.
      type: bool
plan:
  description:
    - What M(vip.mtls.trust_anchor) and M(vip.mtls.client_cert) would do with O(plan_trust) and O(plan_client_cert),
      told by their own code run in check mode.
  returned: when O(plan_trust) or O(plan_client_cert) is set
  type: dict
  sample: {trust: {changed: false}, client_cert: {changed: true, previous_fingerprint_sha256: null}}
  contains:
    trust:
      description:
        - As M(vip.mtls.trust_anchor) would return - changed, anchors (name, state, fingerprint_sha256, path,
          subject, not_after) and stores.
      type: dict
      returned: when O(plan_trust) is set
    client_cert:
      description:
        - changed and files as M(vip.mtls.client_cert) would return them; previous_fingerprint_sha256 and
          previous_not_after (the certificate at the certificate path now, null if none); the input certificate's
          subject, issuer, serial, not_before, not_after, days_remaining and fingerprint_sha256.
      type: dict
      returned: when O(plan_client_cert) is set
"""

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vip.mtls.plugins.module_utils.argspecs import MTLS_INFO, MTLS_INFO_INTERNAL
from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError
from ansible_collections.vip.mtls.plugins.module_utils.info import gather
from ansible_collections.vip.mtls.plugins.module_utils.plan import plan


def main():
    module = AnsibleModule(argument_spec=dict(MTLS_INFO, **MTLS_INFO_INTERNAL), supports_check_mode=True)
    params = dict(module.params)
    for root in params["roots"] or []:
        if not isinstance(root, dict) or not root.get("fingerprint_sha256"):
            module.fail_json(msg="each entry of roots needs name and fingerprint_sha256, got %r" % (root,))
    try:
        result = gather(module, params)
        if params["_plan"]:
            result["plan"] = plan(module, json.loads(params["_plan"]))
    except VipMtlsError as exc:
        module.fail_json(msg=exc.msg, changed=False, **exc.details)
    if not result["preflight"]["ok"]:
        module.fail_json(msg="pre-flight failed: " + "; ".join(result["preflight"]["problems"]), changed=False,
                         **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
