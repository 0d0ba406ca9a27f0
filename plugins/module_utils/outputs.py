# -*- coding: utf-8 -*-
# Copyright: vip.mtls developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The files client_cert writes, rendered on the CONTROLLER (needs cryptography).

Each output is a dict the module writes without any cryptography of its own:
  kind     cert, key, chain, combined, pkcs12 or keystore
  path     absolute path on the target
  secret   True when it holds key material (written with key_mode)
  content  base64 of the bytes to write (for a JKS keystore: a PKCS#12 the module converts with keytool)
  compare  'pem': same meaning = same DER blocks (any line breaks, any tool wrote it);
           'token': encrypted outputs differ on every render (random salts), so the module compares
           a token of their meaning, recorded when it wrote them
  token    sha256 over the key, certificates and output settings: reveals nothing without the key
  convert  'jks' for a JKS keystore, else None
"""

from __future__ import annotations

import base64
import hashlib
import os

from ansible_collections.vip.mtls.plugins.module_utils.errors import VipMtlsError

try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
except ImportError:
    pass  # the action plugin calls certs.require_cryptography() before anything here runs


def _b64(data):
    return base64.b64encode(data).decode("ascii")


def _cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key, passphrase=None):
    encryption = serialization.BestAvailableEncryption(passphrase.encode("utf-8")) if passphrase \
        else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def _token(key, cert, chain, *settings):
    digest = hashlib.sha256()
    digest.update(key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    for item in [cert] + list(chain):
        digest.update(b"|" + item.public_bytes(serialization.Encoding.DER))
    for setting in settings:
        digest.update(b"|" + str(setting).encode("utf-8"))
    return digest.hexdigest()


def pkcs12_bytes(key, cert, chain, passphrase, alias, compat=False):
    """PKCS#12 with modern encryption (AES-256, PBKDF2), or 3DES/SHA-1 for old Java and Windows readers."""
    password = passphrase.encode("utf-8")
    if compat:
        encryption = (serialization.PrivateFormat.PKCS12.encryption_builder()
                      .kdf_rounds(50000)
                      .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
                      .hmac_hash(hashes.SHA1())
                      .build(password))
    else:
        encryption = serialization.BestAvailableEncryption(password)
    return pkcs12.serialize_key_and_certificates(alias.encode("utf-8"), key, cert, list(chain) or None, encryption)


def _require(args, option, because):
    if not args.get(option):
        raise VipMtlsError("%s is required %s" % (option, because))


def render_outputs(key, cert, chain, args):
    """Every output the arguments ask for, as dicts for the module (see the module docstring)."""
    dest_dir = args["dest_dir"]
    key_pass = args.get("key_output_passphrase") or None
    key_pem = _key_pem(key, key_pass)
    outputs = [
        _pem_output("cert", args.get("cert_path") or os.path.join(dest_dir, "client.crt"), _cert_pem(cert), False),
        _secret_output("key", args.get("key_path") or os.path.join(dest_dir, "client.key"), key_pem,
                       key_pass, _token(key, cert, [], "key", key_pass)),
    ]
    if chain:
        outputs.append(_pem_output("chain", args.get("chain_path") or os.path.join(dest_dir, "chain.crt"),
                                   b"".join(_cert_pem(c) for c in chain), False))
    if args.get("combined_path"):
        outputs.append(_secret_output("combined", args["combined_path"], _cert_pem(cert) + key_pem, key_pass,
                                      _token(key, cert, [], "combined", key_pass)))
    if args.get("pkcs12_path"):
        _require(args, "pkcs12_passphrase", "with pkcs12_path: readers of PKCS#12 files expect a password")
        alias = args.get("keystore_alias") or "vip-client"
        compat = bool(args.get("pkcs12_compat"))
        outputs.append(_token_output("pkcs12", args["pkcs12_path"],
                                     pkcs12_bytes(key, cert, chain, args["pkcs12_passphrase"], alias, compat),
                                     _token(key, cert, chain, "pkcs12", args["pkcs12_passphrase"], alias, compat)))
    if args.get("keystore_path"):
        _require(args, "keystore_password", "with keystore_path: Java keystores need a store password")
        alias = args.get("keystore_alias") or "vip-client"
        store_type = (args.get("keystore_type") or "PKCS12").upper()
        compat = bool(args.get("pkcs12_compat"))
        settings = [store_type, args["keystore_password"], alias]
        if compat and store_type == "PKCS12":
            settings.append("compat")  # a PKCS12 keystore is encrypted as asked; keytool rewrites a JKS anyway
        output = _token_output("keystore", args["keystore_path"],
                               pkcs12_bytes(key, cert, chain, args["keystore_password"], alias, compat=compat),
                               _token(key, cert, chain, "keystore", *settings))
        if store_type == "JKS":
            output.update(convert="jks", alias=alias, password=args["keystore_password"])
        outputs.append(output)
    return outputs


def _pem_output(kind, path, data, secret):
    return {"kind": kind, "path": path, "secret": secret, "content": _b64(data), "compare": "pem",
            "token": None, "convert": None}


def _secret_output(kind, path, data, passphrase, token):
    # An encrypted PEM differs on every render, so it is compared by token; a plain one by its DER.
    output = _pem_output(kind, path, data, True)
    if passphrase:
        output.update(compare="token", token=token)
    return output


def _token_output(kind, path, data, token):
    return {"kind": kind, "path": path, "secret": True, "content": _b64(data), "compare": "token",
            "token": token, "convert": None}


def planned_outputs(args):
    """The outputs state=absent removes: every path the arguments name (defaults included)."""
    dest_dir = args["dest_dir"]
    named = [
        ("cert", args.get("cert_path") or os.path.join(dest_dir, "client.crt"), False, "pem"),
        ("key", args.get("key_path") or os.path.join(dest_dir, "client.key"), True, "pem"),
        ("chain", args.get("chain_path") or os.path.join(dest_dir, "chain.crt"), False, "pem"),
        ("combined", args.get("combined_path"), True, "pem"),
        ("pkcs12", args.get("pkcs12_path"), True, "token"),
        ("keystore", args.get("keystore_path"), True, "token"),
    ]
    return [{"kind": kind, "path": path, "secret": secret, "content": None, "compare": compare, "token": None,
             "convert": None} for kind, path, secret, compare in named if path]
