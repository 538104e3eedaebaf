"""Digital signatures on a form: is the PDF signed, and whose codice fiscale is on the certificate.

A PDF counts as digitally signed when a signature field has a value (/FT
/Sig with /V) or, failing a readable form dictionary, when the file carries
a /ByteRange (the signed-PDF marker). A .p7m envelope is unwrapped before
us (intake); the caller then hands over the signer certificate.

Nothing here verifies the signature or the certificate chain: SPEC.md only
asks whether the form is signed; the operator sees whose signature it is.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from asn1crypto import x509

from intake.cms import CmsError, signer_certificate_in
from verification import codice_fiscale as cf

log = logging.getLogger(__name__)

_CF_IN_TEXT = re.compile(r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]")


@dataclass(frozen=True)
class DigitalSignature:
    signer_certificate: bytes | None  # DER, when the signature's CMS carries it
    field_name: str | None = None


def signer_cf_from_certificate(der: bytes) -> str | None:
    """The codice fiscale of an Italian (qualified) certificate's subject, or None.

    Where issuers put it: the subject serialNumber as "TINIT-<CF>" (ETSI EN
    319 412-1 semantics identifier) or "IT:<CF>"; older CNS certificates put
    it in the CN, after a slash ("<CF>/<serial>.<hash>" or "Name/<CF>").
    A code whose check character fails is kept only when nothing valid is found.
    """
    try:
        subject = x509.Certificate.load(der).subject.native
    except Exception as exc:  # noqa: BLE001 - a certificate we cannot parse names nobody
        log.info("signer certificate unreadable: %s", type(exc).__name__)
        return None
    ordered = []
    for key in ("serial_number", "common_name", "dn_qualifier", "unique_identifier"):
        value = subject.get(key)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                ordered.append(item)
    ordered += [v for k, v in subject.items() if isinstance(v, str) and v not in ordered]
    shaped = None
    for value in ordered:
        text = cf.normalize(value)
        for prefix in ("TINIT-", "IT:", "IT-"):
            text = text.removeprefix(prefix)
        for part in [text, *text.split("/")]:
            for match in _CF_IN_TEXT.finditer(part):
                if cf.is_valid(match.group()):
                    return match.group()
                shaped = shaped or match.group()
    return shaped


def signer_certificate_from_cms(der: bytes) -> bytes | None:
    """The signer's certificate from a PKCS#7/CMS SignedData (a PDF's /Contents, zero padded)."""
    try:
        return signer_certificate_in(der)
    except CmsError as exc:
        log.info("PDF signature CMS %s", exc)
        return None


def _sig_fields(reader):
    """Every (name, field dictionary) with /FT /Sig, from the form tree and from page widgets."""
    seen = set()

    def walk(node, inherited_name=""):
        node = node.get_object()
        if id(node) in seen:
            return
        seen.add(id(node))
        name = ".".join(p for p in (inherited_name, str(node.get("/T", ""))) if p)
        if node.get("/FT") == "/Sig":
            yield name, node
        for kid in node.get("/Kids", []) or []:
            yield from walk(kid, name)

    root = reader.trailer["/Root"]
    acroform = root.get("/AcroForm")
    if acroform is not None:
        for top in acroform.get_object().get("/Fields", []) or []:
            yield from walk(top)
    for page in reader.pages:
        for annot in page.get("/Annots", []) or []:
            annot = annot.get_object()
            if annot.get("/Subtype") == "/Widget" and annot.get("/FT") == "/Sig":
                yield from walk(annot)


def pdf_digital_signature(reader, data: bytes) -> DigitalSignature | None:
    """The PDF's digital signature, or None when it has none. `reader` is a pypdf PdfReader."""
    try:
        for name, node in _sig_fields(reader):
            value = node.get("/V")
            if value is None:
                continue  # an empty signature field: a place to sign, not a signature
            value = value.get_object()
            contents = value.get("/Contents")
            der = bytes(contents) if contents is not None else b""
            return DigitalSignature(signer_certificate_from_cms(der) if der else None, name)
    except Exception as exc:  # noqa: BLE001 - a damaged form tree: fall back to the byte marker
        log.info("PDF form tree unreadable while looking for signatures: %s", type(exc).__name__)
    if re.search(rb"/ByteRange\s*\[\s*\d+\s+\d+\s+\d+\s+\d+\s*\]", data):
        return DigitalSignature(None)
    return None
