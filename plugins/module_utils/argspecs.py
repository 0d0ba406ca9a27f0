# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs shared by each action plugin (which validates first) and its module."""

from __future__ import annotations

# One anchor: the options of the single form, and of each item of ``anchors``.
ANCHOR = dict(
    src=dict(type="str"),
    content=dict(type="str"),
    remote_src=dict(type="bool", default=False),
    name=dict(type="str"),
    fingerprint_sha256=dict(type="list", elements="str", default=[]),
    allow_intermediate=dict(type="bool", default=False),
    state=dict(type="str", default="present", choices=["present", "absent"]),
)

TRUST_ANCHOR = dict(
    ANCHOR,
    anchors=dict(type="list", elements="dict", options=dict(ANCHOR, name=dict(type="str", required=True))),
    stores=dict(type="list", elements="str", default=["system"], choices=["system", "java", "bundle"]),
    java_home=dict(type="path"),
    java_keystore=dict(type="path"),
    java_keystore_type=dict(type="str", default="auto", choices=["auto", "JKS", "PKCS12"]),
    java_keystore_password=dict(type="str", default="changeit", no_log=True),
    java_alias=dict(type="str"),
    bundles=dict(type="list", elements="path", default=[]),
    create_bundle=dict(type="bool", default=False),
    validate_only=dict(type="bool", default=False),
)

CLIENT_CERT = dict(
    src=dict(type="str"),
    cert_src=dict(type="str"),
    key_src=dict(type="str", no_log=False),  # a file name, not a key
    remote_src=dict(type="bool", default=False),
    passphrase=dict(type="str", no_log=True),
    key_passphrase=dict(type="str", no_log=True),
    dest_dir=dict(type="path", default="/etc/vip-mtls"),
    cert_path=dict(type="path"),
    key_path=dict(type="path"),
    chain_path=dict(type="path"),
    combined_path=dict(type="path"),
    pkcs12_path=dict(type="path"),
    pkcs12_passphrase=dict(type="str", no_log=True),
    pkcs12_compat=dict(type="bool", default=False),
    keystore_path=dict(type="path"),
    keystore_type=dict(type="str", default="PKCS12", choices=["PKCS12", "JKS"]),
    keystore_password=dict(type="str", no_log=True),
    keystore_alias=dict(type="str", default="vip-client", no_log=False),
    key_output_passphrase=dict(type="str", no_log=True),
    owner=dict(type="str"),
    group=dict(type="str"),
    key_mode=dict(type="raw", default="0600", no_log=False),
    cert_mode=dict(type="raw", default="0644"),
    dir_mode=dict(type="raw", default="0750"),
    warn_days=dict(type="int", default=30),
    min_days_valid=dict(type="int", default=0),
    issuer_fingerprint_sha256=dict(type="list", elements="str", default=[]),
    backup=dict(type="bool", default=False),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    validate_only=dict(type="bool", default=False),
)

# Options the action plugin consumes on the controller; the module never sees them.
CLIENT_CERT_CONTROLLER_ONLY = (
    "src", "cert_src", "key_src", "remote_src", "passphrase", "key_passphrase", "cert_path", "key_path",
    "chain_path", "combined_path", "pkcs12_path", "pkcs12_passphrase", "pkcs12_compat", "keystore_path",
    "keystore_type", "keystore_password", "keystore_alias", "key_output_passphrase", "warn_days",
    "min_days_valid", "issuer_fingerprint_sha256", "validate_only",
)

# What the client_cert action plugin adds for its module: the rendered outputs (see outputs.py),
# as ONE JSON string. no_log masks every string inside a no_log value wherever it appears in the
# result, so a list of dicts would turn the paths and the words cert, key, chain ... into ********
# in `files`, the diff and messages; one opaque string masks only itself.
# The module's spec is CLIENT_CERT plus this, so its documentation and its spec agree.
CLIENT_CERT_INTERNAL = dict(
    _outputs=dict(type="str", no_log=True),
)

MTLS_CHECK = dict(
    url=dict(type="str", required=True),
    client_cert=dict(type="path"),
    client_key=dict(type="path"),
    client_key_passphrase=dict(type="str", no_log=True),
    client_pkcs12=dict(type="path"),
    client_pkcs12_passphrase=dict(type="str", no_log=True),
    ca_path=dict(type="path"),
    anchors=dict(type="list", elements="str"),
    timeout=dict(type="float", default=10.0),
    # no_log: the URL may carry the proxy password; results echo it masked (see tls_wire.Proxy.masked)
    proxy=dict(type="str", no_log=True),
    use_proxy_env=dict(type="bool", default=False),
    server_name=dict(type="str"),
    address=dict(type="str"),
    tls_min_version=dict(type="str", default="1.2", choices=["1.2", "1.3"]),
    probe=dict(type="str", default="http", choices=["http", "vip_get_server_time"]),
    expected_status=dict(type="list", elements="int"),
    retries=dict(type="int", default=0),
    delay=dict(type="float", default=1.0),
)

# The live-check options mtls_info shares with mtls_check.
CHECK_OPTIONS = ("client_key_passphrase", "ca_path", "anchors", "timeout", "proxy", "use_proxy_env", "server_name",
                 "address", "tls_min_version", "probe", "expected_status", "retries", "delay")

MTLS_INFO = dict(
    client_cert=dict(type="path", default="/etc/vip-mtls/client.crt"),
    client_key=dict(type="path", default="/etc/vip-mtls/client.key"),
    warn_days=dict(type="int", default=30),
    roots=dict(type="list", elements="dict"),
    bundles=dict(type="list", elements="path", default=[]),
    java=dict(type="bool", default=False),
    java_home=dict(type="path"),
    java_keystore=dict(type="path"),
    java_keystore_type=dict(type="str", default="auto", choices=["auto", "JKS", "PKCS12"]),
    java_keystore_password=dict(type="str", default="changeit", no_log=True),
    urls=dict(type="list", elements="str", default=[]),
    preflight_writable=dict(type="list", elements="path", default=[]),
    preflight_resolve=dict(type="list", elements="str", default=[]),
    preflight_system_store=dict(type="bool", default=False),
    # Read by mtls_info's action plugin on the controller, which checks them against TRUST_ANCHOR and CLIENT_CERT;
    # the module gets them prepared as _plan. no_log: they carry passphrases.
    plan_trust=dict(type="dict", no_log=True),
    plan_client_cert=dict(type="dict", no_log=True),
)
MTLS_INFO.update({name: MTLS_CHECK[name] for name in CHECK_OPTIONS})

# plan_trust and plan_client_cert prepared for the module (client_cert's rendered outputs, key included):
# one opaque no_log string, as CLIENT_CERT_INTERNAL explains.
MTLS_INFO_INTERNAL = dict(
    _plan=dict(type="str", no_log=True),
)
