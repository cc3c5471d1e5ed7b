#!/usr/bin/env python3
"""Independent check of drmsim's real-crypto PDUs.

Verifies every signature in RUN_DIR/pdus/*.xml (written by `drmsim run --capture-pdus` in
real crypto mode) with lxml's Exclusive C14N and Python `cryptography`'s RSA-PSS, using only
the PEM files in RUN_DIR/pki/. Nothing of drmsim's Rust code is used.

What is signed (OMA DRM 2 ROAP §5.3.3 / seeds 003, 004): the message minus its <signature>
element, exclusive-canonicalised; for the 4-pass registration, the session transcript
DeviceHello || RIHello || RegistrationRequest (minus signature), and for the response also the
complete request and the response minus its signature. Signature scheme: RSASSA-PSS, SHA-1,
MGF1-SHA1, 20-byte salt.

Exit status 0 when every signature verifies and at least one of each checked kind was seen.
"""
import base64
import glob
import hashlib
import os
import re
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

ROAP = "urn:oma:bac:dldrm:roap-1.0"


def c14n(el):
    return etree.tostring(el, method="c14n", exclusive=True, with_comments=False)


def without_signature(root):
    copy = etree.fromstring(etree.tostring(root))
    for child in list(copy):
        if child.tag == "signature":
            copy.remove(child)
    return copy


def signature_of(root):
    for child in root:
        if child.tag == "signature":
            return base64.b64decode(child.text or "")
    body = None
    return body


def load_keys(pki_dir):
    keys = {}
    for path in glob.glob(os.path.join(pki_dir, "*.pub.pem")):
        with open(path, "rb") as f:
            key = serialization.load_pem_public_key(f.read())
        spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        keys[hashlib.sha1(spki).digest()] = (os.path.basename(path), key)
    return keys


def verify(key, sig, data):
    try:
        key.verify(sig, data, padding.PSS(mgf=padding.MGF1(hashes.SHA1()), salt_length=20), hashes.SHA1())
        return True
    except InvalidSignature:
        return False


def id_hash(root, name):
    for el in root.iter(name):
        h = el.find("keyIdentifier/hash")
        if h is not None and h.text:
            return base64.b64decode(h.text)
    return None


def main(run_dir):
    keys = load_keys(os.path.join(run_dir, "pki"))
    files = sorted(glob.glob(os.path.join(run_dir, "pdus", "*.xml")))
    pdus = []
    for path in files:
        m = re.match(r"(\d+)-(\d+)-(\d+)-(\w+?)_(\w+)\.xml$", os.path.basename(path))
        if not m:
            continue
        with open(path, "rb") as f:
            raw = f.read()
        root = etree.fromstring(raw)
        if c14n(root) != raw:
            print(f"NOT CANONICAL: {path}")
            return 1
        pdus.append((int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(5), root, path))
    ok, bad, by_kind = 0, 0, {}
    hellos = {}
    ri_hellos = {}
    requests = {}
    for msg, frm, to, kind, root, path in pdus:
        if kind == "deviceHello":
            hellos[(frm, to)] = root
            continue
        if kind == "riHello":
            ri_hellos[root.get("sessionId")] = (root, to, frm)
            continue
        sig = signature_of(root)
        if kind == "registrationRequest":
            session = root.get("sessionId")
            rh, device, ri = ri_hellos[session]
            dh = hellos[(device, ri)]
            data = c14n(dh) + c14n(rh) + c14n(without_signature(root))
            signer = id_hash(dh, "deviceID")
            requests[session] = (dh, rh, root)
        elif kind == "registrationResponse":
            session = root.get("sessionId")
            dh, rh, req = requests[session]
            data = c14n(dh) + c14n(rh) + c14n(req) + c14n(without_signature(root))
            signer = id_hash(root, "riID")
        elif sig is not None:
            data = c14n(without_signature(root))
            is_request = kind.endswith("Request") or kind.endswith("Submit")
            signer = id_hash(root, "deviceID" if is_request else "riID")
        else:
            continue
        if sig is None or signer not in keys:
            print(f"NO SIGNER for {path}")
            bad += 1
            continue
        name, key = keys[signer]
        if verify(key, sig, data):
            ok += 1
            by_kind[kind] = by_kind.get(kind, 0) + 1
        else:
            print(f"BAD SIGNATURE: {path} (signer {name})")
            bad += 1
    print(f"crosscheck: {ok} signatures verified independently, {bad} failed: {by_kind}")
    needed = {"registrationRequest", "registrationResponse", "roRequest", "roResponse"}
    missing = needed - set(by_kind)
    if missing:
        print(f"crosscheck: no verified {sorted(missing)}")
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
