#!/usr/bin/env python3
"""Independent check of drmsim's real-crypto PDUs.

    crosscheck.py RUN_DIR [RUN_DIR ...]     check captured runs
    crosscheck.py --self-test RUN_DIR ...   also prove every check fails on a one-byte change
    crosscheck.py --first-ocsp RUN_DIR      write one captured OCSP response as DER, print path

RUN_DIR is written by `drmsim run FILE --capture-pdus` in real crypto mode: pdus/*.xml and
pki/<subject>.cert.pem / .pub.pem / .key.der (PKCS#8; the simulated actors' keys, so key
unwraps and MACs can be checked). Nothing of drmsim's Rust code is used: lxml's Exclusive
C14N and pyca `cryptography` only. What each signature and MAC covers is written down in
docs/crypto.md ("What is signed"); this file follows that text.

Checks (each counted; a run fails if any fails or a kind the capture should contain is absent):
  canonical        every PDU file is its own Exclusive C14N
  signature        message signatures (RSASSA-PSS-SHA1, 20-byte salt) of base ROAP and of the
                   SCE messages signed with an RSA key (sceroap, dmp); the registration
                   transcripts of ROAP 5.4.2.1
  ro-signature     <roap:ro> minus <signature>, by the key its <riID> names (RI or LRM)
  ro-mac           <protectedRO>/<mac>: HMAC-SHA1 under K_MAC over <roap:ro>
  kem-unwrap       RSAES-KEM-KDF2-KW-AES128 <encKey> of ROs, domain keys and metering reports
  domain-ro-unwrap AES key unwrap of a Domain RO's <encKey> under the Domain Key
  domain-key-mac   <domainKey>/<mac> (seed 002 option 2: node set minus <mac>; option 1 as
                   the alternative reading)
  metering-mac     <meteringReport>/<mac> (seed 004 5.4.6.1.2)
  cert-chain       every <certificateChain>: each certificate issued by the next (or the
                   root), leaf SHA-1(SPKI) equals the sender's ID element
  ocsp             every <ocspResponse>: RFC 6960 DER (cryptography.x509.ocsp), successful,
                   signed by the trusted responder, CertID = the chain's leaf and its issuer,
                   nonce = the Device's registrationRequest nonce on registration
"""
import base64
import copy
import glob
import hashlib
import hmac
import os
import re
import sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap
from cryptography.x509 import ocsp
from lxml import etree

ROAP = "urn:oma:bac:dldrm:roap-1.0"
XENC = "http://www.w3.org/2001/04/xmlenc#"
DS = "http://www.w3.org/2000/09/xmldsig#"
OCSP_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.9")
PSS_OID = "1.2.840.113549.1.1.10"
LRM_PURPOSE = x509.ObjectIdentifier("2.23.43.6.1.4")  # docs/crypto.md, key purpose OIDs

# Who signs a message with an RSA key: the child naming the signer, by local name of the root.
# Base ROAP requests are signed by the Device, responses by the RI (ROAP 5.4).
SIGNER = {
    "roRequest": "deviceID",
    "joinDomainRequest": "deviceID",
    "leaveDomainRequest": "deviceID",
    "meteringReportSubmit": "deviceID",
    "roResponse": "riID",
    "joinDomainResponse": "riID",
    "meteringReportResponse": "riID",
    # seed 003: the requesting Device (reqID) and the answering RI (resID).
    "moveDeviceRORequest": "reqID",
    "moveUserDomainConstrainedRORequest": "reqID",
    "moveDeviceROResponse": "resID",
    "moveUserDomainConstrainedROResponse": "resID",
    # seed 001 (docs/pdus.md): Device, DEA, LRM signatures.
    "importInitiation": "lrmID",
}
DMP_SIGNER = {"joinDomainRequest": "deviceID", "joinDomainResponse": "deaID"}
# Messages whose <signature> is a MAC under a key the DEA shares with an RI (seed 000 SCE-GEN
# header) or whose authenticator is an HMAC under pairing keys: not reachable from PDUs alone.
MAC_SIGNED_NS = {"urn:oma:xml:sce:dom-1.0", "urn:oma:xml:sce:gen-1.0"}


class Fail(Exception):
    pass


def c14n(el):
    return etree.tostring(el, method="c14n", exclusive=True, with_comments=False)


def local(el):
    return etree.QName(el).localname


def ns_of(el):
    return etree.QName(el).namespace


def child(el, name):
    for c in el:
        if isinstance(c.tag, str) and local(c) == name:
            return c
    return None


def without(el, name):
    cp = copy.deepcopy(el)
    for c in list(cp):
        if isinstance(c.tag, str) and local(c) == name:
            cp.remove(c)
    return cp


def b64(el):
    return base64.b64decode((el.text or "").strip(), validate=True)


def id_of(el):
    """The SPKI SHA-1 hash an Identifier element (keyIdentifier/hash) carries."""
    if el is None:
        return None
    for h in el.iter("hash"):
        return b64(h)
    return None


def pss_verify(key, sig, data):
    try:
        key.verify(sig, data, padding.PSS(mgf=padding.MGF1(hashes.SHA1()), salt_length=20), hashes.SHA1())
        return True
    except InvalidSignature:
        return False


def spki_id(pub):
    return hashlib.sha1(pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).digest()


def key_hash(pub):
    """RFC 6960 KeyHash: SHA-1 of the subjectPublicKey BIT STRING value."""
    return hashlib.sha1(pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)).digest()


class Pki:
    def __init__(self, pki_dir):
        self.certs = {}  # SPKI id -> certificate
        self.keys = {}  # SPKI id -> (name, public key)
        self.private = {}  # SPKI id -> private key
        for path in glob.glob(os.path.join(pki_dir, "*.cert.pem")):
            with open(path, "rb") as f:
                cert = x509.load_pem_x509_certificate(f.read())
            self.certs[spki_id(cert.public_key())] = cert
        for path in glob.glob(os.path.join(pki_dir, "*.pub.pem")):
            with open(path, "rb") as f:
                key = serialization.load_pem_public_key(f.read())
            self.keys[spki_id(key)] = (os.path.basename(path), key)
        for path in glob.glob(os.path.join(pki_dir, "*.key.der")):
            with open(path, "rb") as f:
                key = serialization.load_der_private_key(f.read(), None)
            self.private[spki_id(key.public_key())] = key
        roots = [c for c in self.certs.values() if c.issuer == c.subject]
        if len(roots) != 1:
            raise SystemExit(f"crosscheck: expected one root certificate in {pki_dir}, found {len(roots)}")
        self.root = roots[0]
        self.root.verify_directly_issued_by(self.root)
        self.lrms = {i for i, c in self.certs.items() if LRM_PURPOSE in eku(c)}
        responders = [c for c in self.certs.values() if OCSP_SIGNING in eku(c)]
        self.responders = {key_hash(c.public_key()): c for c in responders}
        for c in responders:
            c.verify_directly_issued_by(self.root)


def eku(cert):
    try:
        return list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return []


def kdf2_sha1(z, n):
    out, counter = b"", 1
    while len(out) < n:
        out += hashlib.sha1(z + counter.to_bytes(4, "big")).digest()
        counter += 1
    return out[:n]


def kem_unwrap(priv, c):
    """RSAES-KEM-KDF2-KW-AES128 (OMA DRM 2 7.2.1): C1 = Z^e mod n, KEK = KDF2(Z), C2 = AES-WRAP."""
    nums = priv.private_numbers()
    n = nums.public_numbers.n
    k = (n.bit_length() + 7) // 8
    if len(c) <= k:
        raise Fail("KEM ciphertext shorter than the modulus")
    c1, c2 = int.from_bytes(c[:k], "big"), c[k:]
    z = pow(c1, nums.d, n)
    kek = kdf2_sha1(z.to_bytes(k, "big"), 16)
    try:
        return aes_key_unwrap(kek, c2)
    except InvalidUnwrap:
        raise Fail("AES key unwrap integrity check failed")


def nearest_id(el, name):
    """The ID in the closest enclosing element that has a <name> child."""
    for anc in el.iterancestors():
        c = child(anc, name)
        if c is not None:
            return id_of(c)
    return None


class Checker:
    def __init__(self, pki):
        self.pki = pki
        self.ok = {}
        self.failures = []
        self.domain_keys = {}  # domain key Id -> K_D
        self.reg = {}  # sessionId -> dict of hello/request roots
        self.hellos = {}  # (device actor, RI actor) -> deviceHello

    def passed(self, what):
        self.ok[what] = self.ok.get(what, 0) + 1

    def fail(self, what, path, why):
        self.failures.append((what, path, why))

    def check(self, what, path, fn):
        try:
            fn()
            self.passed(what)
        except Fail as e:
            self.fail(what, path, str(e))
        except (ValueError, TypeError, KeyError) as e:
            self.fail(what, path, f"{type(e).__name__}: {e}")

    def public(self, ident):
        if ident not in self.pki.keys:
            raise Fail("signer ID names no key of the PKI")
        return self.pki.keys[ident][1]

    def private(self, ident):
        if ident not in self.pki.private:
            raise Fail("no private key for the recipient (capture without pki/*.key.der?)")
        return self.pki.private[ident]

    # --- per PDU -------------------------------------------------------------------------
    def pdu(self, path, raw, root, frm, to):
        def canonical():
            if c14n(root) != raw:
                raise Fail("file is not its own Exclusive C14N")

        self.check("canonical", path, canonical)
        name = local(root)
        ns = ns_of(root)
        if name in ("deviceHello", "riHello", "registrationRequest", "registrationResponse"):
            self.registration(path, root, name, frm, to)
        elif (
            name == "meteringReportResponse"
            and child(root, "signature") is not None
            and not (child(root, "signature").text or "").strip()
            and len(child(root, "signature")) == 0
        ):
            # The pre-change variant (`metering_response_signed = false`, seed 004 before the
            # CR): the response carries an empty <signature>; nothing to verify.
            self.passed("unsigned-metering-response-skipped")
        elif child(root, "signature") is not None and ns not in MAC_SIGNED_NS:
            signer = (DMP_SIGNER if ns == "urn:oma:xml:sce:dmp-1.0" else SIGNER).get(name)
            if signer is None and name == "roapTrigger":
                signer = "riID"
            if signer is not None:
                self.check("signature", path, lambda: self.top_signature(root, signer))
        recipient = self.recipient(root)
        for chain in root.iter("certificateChain", "deviceCertificateChain"):
            self.check("cert-chain", path, lambda chain=chain: self.chain(chain.getparent(), chain))
        for o in root.iter("ocspResponse"):
            self.check("ocsp", path, lambda o=o: self.ocsp(o.getparent(), o))
        for dk in root.iter("domainKey", f"{{{ROAP}}}domainKey"):
            self.domain_key(path, root, dk, nearest_id(dk, "deviceID") or recipient)
        for ro in root.iter(f"{{{ROAP}}}ro"):
            self.ro(path, ro, nearest_id(ro, "deviceID") or recipient)
        for mr in root.iter("meteringReport"):
            self.metering(path, root, mr)

    def recipient(self, root):
        for name in ("deviceID", "requesterID"):
            c = child(root, name)
            if c is not None:
                return id_of(c)
        return None

    def top_signature(self, root, signer_field):
        sig = b64(child(root, "signature"))
        holder = root
        if local(root) == "roapTrigger":
            holder = next((c for c in root if isinstance(c.tag, str) and child(c, "riID") is not None), root)
        signer = id_of(child(holder, signer_field))
        if not pss_verify(self.public(signer), sig, c14n(without(root, "signature"))):
            raise Fail(f"signature by <{signer_field}> does not verify")

    def registration(self, path, root, name, frm, to):
        session = root.get("sessionId")
        if name == "deviceHello":
            self.hellos[(frm, to)] = root
            return
        if name == "riHello":
            self.reg[session] = {"dh": self.hellos.get((to, frm)), "rh": root}
            return
        if child(root, "signature") is None:
            return  # an error response carries no signature
        s = self.reg.get(session)
        if s is None or s.get("dh") is None:
            self.fail("signature", path, "registration message without its hellos in the capture")
            return

        def verify():
            sig = b64(child(root, "signature"))
            if name == "registrationRequest":
                s["req"] = root
                data = c14n(s["dh"]) + c14n(s["rh"]) + c14n(without(root, "signature"))
                signer = id_of(child(s["dh"], "deviceID"))
            else:
                if "req" not in s:
                    raise Fail("registrationResponse without its request")
                data = c14n(s["dh"]) + c14n(s["rh"]) + c14n(s["req"]) + c14n(without(root, "signature"))
                signer = id_of(child(root, "riID"))
            if not pss_verify(self.public(signer), sig, data):
                raise Fail(f"{name} transcript signature does not verify")

        self.check("signature", path, verify)

    def chain(self, root, chain_el):
        certs = [x509.load_der_x509_certificate(b64(c)) for c in chain_el if isinstance(c.tag, str)]
        if not certs:
            raise Fail("empty certificate chain")
        for i, cert in enumerate(certs):
            issuer = certs[i + 1] if i + 1 < len(certs) else self.pki.root
            if cert == issuer:
                continue  # a trailing copy of the root
            try:
                cert.verify_directly_issued_by(issuer)
            except (InvalidSignature, ValueError, TypeError) as e:
                raise Fail(f"certificate {i} not issued by the next: {e}")
        leaf = spki_id(certs[0].public_key())
        if local(chain_el) == "deviceCertificateChain":
            return
        ids = [id_of(child(root, n)) for n in ("deviceID", "riID", "reqID", "resID", "deaID", "lrmID")]
        if local(root) == "registrationRequest":
            dh = self.reg.get(root.get("sessionId"), {}).get("dh")
            ids.append(id_of(child(dh, "deviceID")) if dh is not None else None)
        if leaf not in ids:
            raise Fail("chain leaf is none of the message's IDs")

    def ocsp(self, root, el):
        resp = ocsp.load_der_ocsp_response(b64(el))
        if resp.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            raise Fail("OCSP responseStatus not successful")
        responder = self.pki.responders.get(resp.responder_key_hash)
        if responder is None:
            raise Fail("OCSP response not by a responder the root certified for OCSP signing")
        if resp.signature_algorithm_oid.dotted_string != PSS_OID or not pss_verify(
            responder.public_key(), resp.signature, resp.tbs_response_bytes
        ):
            raise Fail("OCSP response signature does not verify")
        if resp.certificate_status != ocsp.OCSPCertStatus.GOOD:
            raise Fail(f"certificate status {resp.certificate_status}")
        chain = child(root, "certificateChain")
        if chain is None:
            raise Fail("OCSP response without the certificate chain it is about")
        leaf = x509.load_der_x509_certificate(b64(chain[0]))
        issuer = x509.load_der_x509_certificate(b64(chain[1])) if len(chain) > 1 else self.pki.root
        if (
            resp.serial_number != leaf.serial_number
            or resp.issuer_name_hash != hashlib.sha1(issuer.subject.public_bytes()).digest()
            or resp.issuer_key_hash != key_hash(issuer.public_key())
        ):
            raise Fail("OCSP CertID is not the chain's leaf")
        if local(root) == "registrationResponse":
            req = self.reg.get(root.get("sessionId"), {}).get("req")
            nonce = resp.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
            if req is None or nonce != b64(child(req, "nonce")):
                raise Fail("OCSP nonce is not the registrationRequest nonce")

    def enc_key_material(self, enc, recipient):
        """Unwraps an <encKey>: KEM to the recipient's RSA key, or AES-KW under a Domain Key."""
        method = enc.find(f"{{{XENC}}}EncryptionMethod").get("Algorithm")
        cipher = base64.b64decode(enc.find(f"{{{XENC}}}CipherData/{{{XENC}}}CipherValue").text)
        info = enc.find(f"{{{DS}}}KeyInfo")
        if "kem" in method:
            spki = info.find(f"{{{ROAP}}}X509SPKIHash/hash")
            target = b64(spki) if spki is not None else recipient
            return "kem-unwrap", kem_unwrap(self.private(target), cipher)
        dom = info.find(f"{{{ROAP}}}DomainIdentifier")
        key = self.domain_keys.get((dom.text or "").strip()) if dom is not None else None
        if key is None:
            raise Fail("Domain RO for a domain key not seen in the capture")
        try:
            return "domain-ro-unwrap", aes_key_unwrap(key, cipher)
        except InvalidUnwrap:
            raise Fail("AES key unwrap of a Domain RO key failed")

    def unwrap(self, path, enc, recipient):
        out = {}

        def run():
            what, material = self.enc_key_material(enc, recipient)
            out["m"] = material
            out["what"] = what

        info = enc.find(f"{{{DS}}}KeyInfo")
        if info is None:
            # An Imported RO's keys wrapped under a Pairing Key (seed 001): that key travels
            # only wrapped under Master Keys; not followed here.
            self.passed("pairing-wrapped-skipped")
            return None
        try:
            run()
            self.passed(out["what"])
            return out["m"]
        except (Fail, ValueError, TypeError, AttributeError) as e:
            kind = "domain-ro-unwrap" if enc.find(f"{{{DS}}}KeyInfo/{{{ROAP}}}DomainIdentifier") is not None else "kem-unwrap"
            self.fail(kind, path, str(e))
            return None

    def ro(self, path, ro, recipient):
        sig = child(ro, "signature")
        if sig is not None:

            signer = id_of(child(ro, "riID"))
            if signer in self.pki.lrms:
                # LRM-imported RO (seed 001 7.2.1.2): today the LRM signs <rights> only
                # (docs/crypto.md); checked as such and counted apart.
                def verify_lrm():
                    if not pss_verify(self.public(signer), b64(sig), c14n(child(ro, "rights"))):
                        raise Fail("LRM signature over <rights> does not verify")

                self.check("lrm-rights-signature", path, verify_lrm)
            else:

                def verify():
                    if not pss_verify(self.public(signer), b64(sig), c14n(without(ro, "signature"))):
                        raise Fail("RO signature does not verify")

                self.check("ro-signature", path, verify)
        parent = ro.getparent()
        mac = child(parent, "mac") if parent is not None and local(parent) == "protectedRO" else None
        enc = child(ro, "encKey")
        if mac is None or enc is None:
            return
        material = self.unwrap(path, enc, recipient)
        if material is None:
            return

        def verify_mac():
            if not hmac.compare_digest(hmac.new(material[:16], c14n(ro), hashlib.sha1).digest(), b64(mac)):
                raise Fail("protectedRO MAC does not verify")

        self.check("ro-mac", path, verify_mac)

    def domain_key(self, path, root, dk, recipient):
        enc = child(dk, "encKey")
        material = self.unwrap(path, enc, recipient)
        if material is None:
            return
        k_mac, k_d = material[:16], material[16:32]

        def verify():
            tag = b64(child(dk, "mac"))
            node_set = c14n(without(dk, "mac"))
            if hmac.compare_digest(hmac.new(k_mac, node_set, hashlib.sha1).digest(), tag):
                return
            # seed 002 option 1: the octets of the canonical PDU from <domainKey> to its end
            # tag, minus the <mac> element.
            raw = c14n(root)
            qname = b"roap:domainKey" if ns_of(dk) == ROAP else b"domainKey"
            keys = list(root.iter("domainKey", f"{{{ROAP}}}domainKey"))
            start = -1
            for _ in range(keys.index(dk) + 1):
                start = raw.find(b"<" + qname, start + 1)
            end = raw.find(b"</" + qname + b">", start) + len(qname) + 3
            sub = re.sub(rb"<mac>[^<]*</mac>", b"", raw[start:end])
            if hmac.compare_digest(hmac.new(k_mac, sub, hashlib.sha1).digest(), tag):
                return
            raise Fail("domainKey MAC verifies under neither seed 002 reading")

        self.check("domain-key-mac", path, verify)
        self.domain_keys[(enc.get("Id") or "").strip()] = k_d

    def metering(self, path, root, mr):
        enc = child(mr, "encKey")
        ri = id_of(child(root, "riID"))
        material = self.unwrap(path, enc, ri)
        if material is None:
            return

        def verify():
            tag = b64(child(mr, "mac"))
            if not hmac.compare_digest(hmac.new(material[:16], c14n(without(mr, "mac")), hashlib.sha1).digest(), tag):
                raise Fail("meteringReport MAC does not verify")

        self.check("metering-mac", path, verify)


PDU_NAME = re.compile(r"(\d+)-(\d+)-(\d+)-(\w+?)_(\w+)\.xml$")


def load_run(run_dir):
    pdus = []
    for path in sorted(glob.glob(os.path.join(run_dir, "pdus", "*.xml"))):
        if not PDU_NAME.search(os.path.basename(path)):
            continue
        with open(path, "rb") as f:
            raw = f.read()
        pdus.append((path, raw))
    return Pki(os.path.join(run_dir, "pki")), pdus


def check_run(pki, pdus):
    ck = Checker(pki)
    for path, raw in pdus:
        try:
            root = etree.fromstring(raw)
        except etree.XMLSyntaxError as e:
            ck.fail("canonical", path, f"not XML: {e}")
            continue
        m = PDU_NAME.search(os.path.basename(path))
        ck.pdu(path, raw, root, int(m.group(2)), int(m.group(3)))
    return ck


def report(run_dir, ck):
    print(f"crosscheck {run_dir}: {sum(ck.ok.values())} checks passed, {len(ck.failures)} failed: {dict(sorted(ck.ok.items()))}")
    for what, path, why in ck.failures[:40]:
        print(f"  FAILED {what}: {path}: {why}")
    seen = set(ck.ok)
    needed = {"canonical", "signature"}
    missing = needed - seen
    if missing:
        print(f"  FAILED: nothing verified of {sorted(missing)}")
    return not ck.failures and not missing


# --- self-test: one-byte changes -----------------------------------------------------------


def flip_b64(text):
    """Flips one bit of the first decoded byte and re-encodes (a one-byte change)."""
    raw = bytearray(base64.b64decode(text.strip()))
    raw[len(raw) // 2] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def mutations(raw):
    """(check kind, mutated bytes) for each authenticated item of one PDU: one byte changed."""
    root = etree.fromstring(raw)
    out = []

    def add(kind, el):
        el.text = flip_b64(el.text)
        out.append((kind, c14n(root)))
        el.text = saved[el]

    saved = {}
    targets = []
    name, ns = local(root), ns_of(root)
    signed = name in SIGNER or name == "roapTrigger" or (ns == "urn:oma:xml:sce:dmp-1.0" and name in DMP_SIGNER)
    if child(root, "signature") is not None and ns not in MAC_SIGNED_NS and (signed or name.startswith("registration")):
        targets.append(("signature", child(root, "signature")))
    for ro in root.iter(f"{{{ROAP}}}ro"):
        if child(ro, "signature") is not None:
            lrm = id_of(child(ro, "riID")) in LRM_IDS
            targets.append(("lrm-rights-signature" if lrm else "ro-signature", child(ro, "signature")))
        parent = ro.getparent()
        reachable = ro.find(f"encKey/{{{DS}}}KeyInfo") is not None
        if parent is not None and child(parent, "mac") is not None and reachable:
            targets.append(("ro-mac", child(parent, "mac")))
        cv = ro.find(f"encKey/{{{XENC}}}CipherData/{{{XENC}}}CipherValue")
        if cv is not None and reachable:
            kind = "domain-ro-unwrap" if ro.find(f"encKey/{{{DS}}}KeyInfo/{{{ROAP}}}DomainIdentifier") is not None else "kem-unwrap"
            targets.append((kind, cv))
    for dk in list(root.iter("domainKey", f"{{{ROAP}}}domainKey"))[:1]:
        targets.append(("domain-key-mac", child(dk, "mac")))
    for mr in list(root.iter("meteringReport"))[:1]:
        targets.append(("metering-mac", child(mr, "mac")))
    for chain in list(root.iter("certificateChain"))[:1]:
        targets.append(("cert-chain", chain[0]))
    for o in list(root.iter("ocspResponse"))[:1]:
        targets.append(("ocsp", o))
    for kind, el in targets:
        saved[el] = el.text
        add(kind, el)
    return out


LRM_IDS = set()


def self_test(pki, pdus):
    LRM_IDS.update(pki.lrms)
    base = check_run(pki, pdus)
    if base.failures:
        print("self-test: the unmodified capture does not pass")
        return False
    tried = {}
    ok = True
    for i, (path, raw) in enumerate(pdus):
        ns = etree.QName(etree.fromstring(raw)).namespace.replace("urn:oma:", "")
        for kind, mutated in mutations(raw):
            key = f"{kind}@{ns}"
            if tried.get(key, 0) >= 2:
                continue
            tried[key] = tried.get(key, 0) + 1
            changed = pdus[:i] + [(path, mutated)] + pdus[i + 1:]
            # Only the PDUs up to this one matter (later ones cannot mask a failure).
            ck = check_run(pki, changed[: i + 1])
            kinds = {w for w, p, _ in ck.failures if p == path}
            if kind not in kinds:
                print(f"self-test: a one-byte change of {kind} in {path} was NOT detected (failures: {kinds})")
                ok = False
    print(f"self-test: one-byte changes detected for {dict(sorted(tried.items()))}")
    return ok


def first_ocsp(run_dir):
    """Writes the first captured OCSP response to RUN_DIR/first-ocsp.der (for openssl ocsp)."""
    for path in sorted(glob.glob(os.path.join(run_dir, "pdus", "*.xml"))):
        for o in etree.parse(path).getroot().iter("ocspResponse"):
            out = os.path.join(run_dir, "first-ocsp.der")
            with open(out, "wb") as f:
                f.write(b64(o))
            print(out)
            return 0
    return 1


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    if argv[1] == "--first-ocsp":
        return first_ocsp(argv[2])
    selftest = argv[1] == "--self-test"
    dirs = argv[2:] if selftest else argv[1:]
    good = True
    for d in dirs:
        pki, pdus = load_run(d)
        ck = check_run(pki, pdus)
        good &= report(d, ck)
        if selftest:
            good &= self_test(pki, pdus)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
