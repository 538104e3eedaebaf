"""CMS / PKCS#7 signed-data: the file inside a .p7m (CAdES) and the certificate that signed it.

Only the envelope is read. The signature is not verified and the
certificate is not checked against a trust list: the verification stage
decides what a signer certificate is worth.
"""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import cms


class CmsError(ValueError):
    """Not a readable signed-data structure."""


@dataclass(frozen=True)
class SignedContent:
    content: bytes | None  # None for a detached signature (.p7s)
    signer_certificate: bytes | None  # DER


def read_signed_data(der: bytes) -> SignedContent:
    """Unwrap a DER (or BER) ContentInfo holding SignedData."""
    try:
        info = cms.ContentInfo.load(der)
        kind = info["content_type"].native
        if kind == "enveloped_data":
            raise CmsError("encrypted (enveloped-data)")
        if kind != "signed_data":
            raise CmsError(f"not signed-data ({kind})")
        signed = info["content"]
        encap = signed["encap_content_info"]["content"]
        content = None if encap.native is None else _octets(encap)
        return SignedContent(content, signer_certificate(signed))
    except CmsError:
        raise
    except Exception as exc:  # noqa: BLE001 - asn1crypto parses lazily and can fail anywhere
        raise CmsError(f"unreadable ({type(exc).__name__})") from exc


def _octets(value) -> bytes:
    # The encapsulated content of a CAdES file is an OCTET STRING; some
    # signing tools write it constructed (BER chunks), which .native merges.
    native = value.native
    if isinstance(native, bytes):
        return native
    return value.contents


def signer_certificate(signed) -> bytes | None:
    """The DER certificate of the (first) signer of an asn1crypto SignedData, if it carries one."""
    certificates = [c.chosen for c in (signed["certificates"] or []) if c.name == "certificate"]
    if not certificates:
        return None
    for signer in signed["signer_infos"]:
        sid = signer["sid"]
        for cert in certificates:
            if sid.name == "issuer_and_serial_number":
                ias = sid.chosen
                if cert.issuer == ias["issuer"] and cert.serial_number == ias["serial_number"].native:
                    return cert.dump()
            elif sid.name == "subject_key_identifier" and cert.key_identifier == sid.chosen.native:
                return cert.dump()
    # No signer info names a certificate we have: the first one is the usual signer.
    return certificates[0].dump()


def signer_certificate_in(der: bytes) -> bytes | None:
    """The signer's certificate from a ContentInfo, or None when it cannot be read.

    For a PDF signature's /Contents, which is zero padded to its reserved size:
    the padding is ignored as trailing data (not stripped, the DER itself may
    end in a zero byte).
    """
    try:
        info = cms.ContentInfo.load(der, strict=False)
        return signer_certificate(info["content"])
    except Exception as exc:  # noqa: BLE001 - asn1crypto parses lazily and can fail anywhere
        raise CmsError(f"unreadable ({type(exc).__name__})") from exc
