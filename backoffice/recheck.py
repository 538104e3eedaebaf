"""After a correction, the verification rules run again over the request's evidence.

Nothing is read again (no OCR in a web request): the evidence is rebuilt from
what verification stored — the documents' columns and fields, the people as
the form named them — and `verification.verdict.decide` runs on it twice:
with the values before the correction and with the corrected ones. What the
correction changed is the difference of the two verdicts: findings of the
first not in the second are resolved, findings of the second not in the first
are new. The stored record is not the full reading (no MRZ, no per-source
codice fiscale): whatever it lacks is lacking in both runs and cancels out,
so it can neither invent a finding nor drop one the correction did not touch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from db.app import today
from db.models import Document, Finding as StoredFinding, Request
from verification.evidence import DOC_TYPES, DocumentEvidence, FormEvidence, PersonFields, RequestEvidence, SLOTS
from verification.findings import Finding
from verification.verdict import Verdict, decide, status_of


def _date(value) -> date | None:
    if isinstance(value, date) or value is None:
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _document(doc: Document) -> DocumentEvidence | None:
    if doc.slot not in SLOTS:
        return None
    f = doc.fields or {}
    if doc.slot == "form":
        return DocumentEvidence(slot="form", doc_type="form", readable=f.get("readable", True) is not False)
    return DocumentEvidence(
        slot=doc.slot, doc_type=doc.doc_type if doc.doc_type in DOC_TYPES else None,
        readable=f.get("readable", True) is not False, unreadable_reason=f.get("unreadable_reason"),
        number=doc.number, issue_date=_date(f.get("issue_date")), expiry=_date(doc.expiry),
        surname=f.get("surname"), given_names=f.get("given_names"), birth_date=_date(f.get("birth_date")),
        codice_fiscale=f.get("codice_fiscale"), has_chip=f.get("has_chip"), face_count=f.get("face_count"),
    )


def _form(req: Request, docs: list[Document]) -> FormEvidence | None:
    form = next((d for d in docs if d.slot == "form"), None)
    if form is None or req.form_type is None:
        return None
    f = form.fields or {}
    declarant = None
    if req.form_type in ("delegate", "guardian"):
        declarant = PersonFields(surname=req.declarant_surname, given_names=req.declarant_given_names,
                                 codice_fiscale=req.declarant_codice_fiscale, birth_date=req.declarant_birth_date)
    return FormEvidence(
        form_type=req.form_type,
        holder=PersonFields(surname=req.holder_surname, given_names=req.holder_given_names,
                            codice_fiscale=req.holder_codice_fiscale, birth_date=req.holder_birth_date),
        declarant=declarant, relationship=req.declarant_relationship, phone=req.contact_phone,
        email=req.contact_email, signed=bool(f.get("signed", True)),
        read_by_ocr=f.get("method") == "ocr",
    )


def stored_evidence(req: Request, paper_id_invalid_from: date) -> RequestEvidence:
    """The evidence as the request's stored record has it now."""
    docs = list(req.documents)
    return RequestEvidence(today=today(), form=_form(req, docs),
                           documents=[d for d in map(_document, docs) if d is not None],
                           paper_id_invalid_from=paper_id_invalid_from)


def _same(stored: StoredFinding, f: Finding) -> bool:
    slot = (stored.evidence or {}).get("slot")
    return stored.code == f.code and (slot is None or f.evidence.get("slot") in (None, slot))


@dataclass(frozen=True)
class Recheck:
    resolved: tuple[str, ...]
    added: tuple[str, ...]
    status: str  # the verdict on the findings the request now has: incomplete, needs_review or ready


def apply(req: Request, before: Verdict, after: Verdict) -> Recheck:
    """Update the request's findings with what the correction changed; the verdict they now give."""
    after_keys = {f.key for f in after.findings}
    before_keys = {f.key for f in before.findings}
    gone = [f for f in before.findings if f.key not in after_keys]
    new = [f for f in after.findings if f.key not in before_keys]
    resolved = [s for s in req.findings if any(_same(s, f) for f in gone)]
    for s in resolved:
        req.findings.remove(s)
    added = []
    for f in new:
        if not any(_same(s, f) for s in req.findings):
            req.findings.append(StoredFinding(code=f.code, severity=f.severity, message=f.message,
                                              evidence=dict(f.evidence)))
            added.append(f.code)
    now = [Finding(s.code, s.severity, s.message, dict(s.evidence or {})) for s in req.findings]
    return Recheck(tuple(s.code for s in resolved), tuple(added), status_of(now))


def rerun(req: Request, before: RequestEvidence, paper_id_invalid_from: date) -> Recheck:
    """Decide over `before` (taken before the correction) and over the corrected record; apply the difference."""
    return apply(req, decide(before), decide(stored_evidence(req, paper_id_invalid_from)))
