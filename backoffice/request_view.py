"""What the request page shows, built from the ORM rows (no HTTP here).

Corrections never overwrite history: the value in the row is the current
one, and the events say what was extracted first and who changed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from backoffice import labels
from backoffice.templating import fmt_datetime, fmt_value
from db.models import Attachment, Document, Event, Finding, Request

HOLDER_FIELDS = ("holder_surname", "holder_given_names", "holder_codice_fiscale", "holder_birth_date")
DECLARANT_FIELDS = ("declarant_surname", "declarant_given_names", "declarant_codice_fiscale",
                    "declarant_birth_date", "declarant_relationship")
CONTACT_FIELDS = ("contact_email", "contact_phone")
# Document columns that can be corrected, beside the free-form `fields`.
DOCUMENT_COLUMNS = {"number": "Numero del documento", "expiry": "Scadenza"}


@dataclass
class Correction:
    original: Any
    count: int
    by: str
    at: Any


@dataclass
class FieldView:
    target: str          # "request" | "document:<id>"
    name: str            # column or field name; document columns as "col:number"
    label: str
    value: Any
    text: str
    correction: Correction | None = None
    mono: bool = False
    flagged: bool = False  # a finding points at this very field


@dataclass
class DocView:
    doc: Document
    fields: list[FieldView]
    filename: str | None


@dataclass
class FindingView:
    finding: Finding
    links: list[tuple[str, str]] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)


def corrections(events: list[Event]) -> dict[tuple, Correction]:
    out: dict[tuple, Correction] = {}
    for ev in events:
        if ev.kind != "field_corrected":
            continue
        d = ev.detail or {}
        key = (d.get("target"), d.get("field"))
        c = out.get(key)
        if c is None:
            out[key] = Correction(d.get("original"), 1, ev.actor, ev.at)
        else:
            c.count, c.by, c.at = c.count + 1, ev.actor, ev.at
    return out


def _request_value(req: Request, name: str) -> tuple[Any, str]:
    value = getattr(req, name)
    if name == "declarant_relationship":
        return value, labels.label(labels.RELATIONSHIP_LABELS, value)
    return value, fmt_value(value)


def request_fields(req: Request, names: tuple[str, ...], fixes: dict) -> list[FieldView]:
    out = []
    for name in names:
        value, text = _request_value(req, name)
        out.append(FieldView("request", name, labels.REQUEST_FIELDS[name][0], value, text,
                             fixes.get(("request", name)), mono=name.endswith("codice_fiscale")))
    return out


def flagged_fields(findings: list[Finding]) -> set[tuple[int, str]]:
    """(document id, field) pairs that a non-info finding names in its evidence."""
    out = set()
    for f in findings:
        ev = f.evidence or {}
        if f.severity != "info" and isinstance(ev.get("document_id"), int) and isinstance(ev.get("field"), str):
            out.add((ev["document_id"], ev["field"]))
    return out


def document_views(docs: list[Document], fixes: dict, flagged: set[tuple[int, str]] = frozenset()) -> list[DocView]:
    views = []
    for d in docs:
        target = f"document:{d.id}"
        # A form has no number or expiry of its own: those rows only when there is something to show.
        rows = [FieldView(target, f"col:{col}", label, getattr(d, col), fmt_value(getattr(d, col)),
                          fixes.get((target, f"col:{col}")), mono=col == "number")
                for col, label in DOCUMENT_COLUMNS.items() if d.doc_type != "form" or getattr(d, col) is not None]
        for name, value in (d.fields or {}).items():
            rows.append(FieldView(target, str(name), labels.field_label(str(name)), value, fmt_value(value),
                                  fixes.get((target, str(name))), mono="codice_fiscale" in str(name),
                                  flagged=(d.id, str(name)) in flagged))
        views.append(DocView(d, rows, d.attachment.filename if d.attachment else None))
    return views


def viewer_url(reference: str, attachment_id: int, page: int | None = None) -> str:
    return f"/pratiche/{reference}/allegati/{attachment_id}?pagina={page or 1}"


def finding_views(req: Request, attachments: dict[int, Attachment]) -> list[FindingView]:
    """Each finding with links to its evidence: the document card and the scan it came from."""
    by_id = {d.id: d for d in req.documents}
    by_slot: dict[str, Document] = {}
    for d in req.documents:
        by_slot.setdefault(d.slot, d)
    views = []
    for f in req.findings:
        v = FindingView(f)
        ev = dict(f.evidence or {})
        docs: list[Document] = []
        if isinstance(ev.get("document_id"), int) and ev["document_id"] in by_id:
            docs.append(by_id[ev.pop("document_id")])
        for slot in ([ev.pop("slot")] if isinstance(ev.get("slot"), str) else []) + (
                ev.pop("slots") if isinstance(ev.get("slots"), list) else []):
            if slot in by_slot and by_slot[slot] not in docs:
                docs.append(by_slot[slot])
            elif slot not in by_slot:
                v.facts.append(("Spazio", labels.label(labels.SLOT_LABELS, str(slot))))
        for d in docs:
            v.links.append((labels.label(labels.SLOT_LABELS, d.slot), f"#doc-{d.id}"))
            if d.attachment_id:
                v.links.append((f"Scansione: {d.attachment.filename if d.attachment else ''}".strip(),
                                viewer_url(req.reference, d.attachment_id, d.page)))
        att_id = ev.pop("attachment_id", None)
        page = ev.pop("page", None)
        if isinstance(att_id, int) and att_id in attachments:
            page = page if isinstance(page, int) else None
            text = f"Allegato: {attachments[att_id].filename}" + (f", pag. {page}" if page else "")
            v.links.append((text, viewer_url(req.reference, att_id, page)))
        if "field" in ev:
            v.facts.append(("Campo", labels.field_label(str(ev.pop("field")))))
        for k, value in ev.items():
            if k in ("region", "bbox"):
                continue
            v.facts.append((labels.field_label(str(k)), fmt_value(value)))
        views.append(v)
    order = {"blocking": 0, "review": 1, "info": 2}
    views.sort(key=lambda v: (order.get(v.finding.severity, 3), v.finding.id))
    return views


def fmt_when(iso: str | None) -> str:
    """'2026-12-10T10:00:00+01:00' → '10/12/2026 10:00' (the stored times carry Rome's offset)."""
    if not iso:
        return "—"
    try:
        return fmt_datetime(datetime.fromisoformat(iso))
    except ValueError:
        return iso


def event_text(ev: Event) -> str:
    """One line saying what happened, in Italian (the labels come from labels.py)."""
    d = ev.detail or {}
    parts: list[str] = []
    if ev.kind in ("status", "created") and ev.to_status:
        frm = labels.label(labels.STATUS_LABELS, ev.from_status, "")
        to = labels.label(labels.STATUS_LABELS, ev.to_status)
        parts.append(f"{frm} → {to}" if frm else to)
        if d.get("action") == "review":
            parts.append("revisione")
        elif d.get("action") == "integration_request":
            parts.append("dopo la richiesta di integrazione")
        elif d.get("action") == "not_a_request":
            parts.append("chiusa da un operatore")
        elif d.get("action") == "dismissed":
            parts.append("con l'archiviazione del messaggio")
        if d.get("reason"):
            parts.append(f"{'nota' if d.get('action') == 'review' else 'motivo'}: {d['reason']}")
        if d.get("start") and ev.to_status == "booked":
            parts.append(f"videochiamata {fmt_when(d['start'])}, sportello {d.get('desk')}")
            if d.get("note"):
                parts.append(f"nota: {d['note']}")
    elif ev.kind == "booking_moved":
        parts.append(f"{fmt_when(d.get('from'))} → {fmt_when(d.get('to'))}, sportello {d.get('desk')}")
    elif ev.kind in ("booking_cancelled", "booking_no_show"):
        parts.append(f"videochiamata {fmt_when(d.get('start'))}")
        if d.get("reason"):
            parts.append(f"motivo: {d['reason']}")
    elif ev.kind == "field_corrected":
        name = d.get("field", "")
        lab = (labels.REQUEST_FIELDS.get(name, (None,))[0] if d.get("target") == "request" else None) \
            or DOCUMENT_COLUMNS.get(name.removeprefix("col:")) or labels.field_label(name)
        where = labels.label(labels.SLOT_LABELS, d.get("slot"), "") if d.get("slot") else "dati della richiesta"
        parts.append(f"{lab} ({where}): «{fmt_value(d.get('previous'))}» → «{fmt_value(d.get('value'))}»")
        if d.get("note"):
            parts.append(f"nota: {d['note']}")
    elif ev.kind in ("assigned", "claimed", "unassigned"):
        if d.get("previous"):
            parts.append(f"prima: {d['previous']}")
        if d.get("to"):
            parts.append(f"a: {d['to']}")
        if d.get("auto"):
            parts.append("con la prima azione")
    elif ev.kind == "findings_overridden":
        parts.append("superate: " + ", ".join(d.get("codes", [])))
        if d.get("reason"):
            parts.append(f"motivo: {d['reason']}")
    elif ev.kind == "rules_rerun":
        if d.get("resolved"):
            parts.append("risolte: " + ", ".join(d["resolved"]))
        if d.get("added"):
            parts.append("nuove: " + ", ".join(d["added"]))
        if d.get("verdict"):
            parts.append("esito: " + labels.label(labels.VERDICT_LABELS, d["verdict"]))
    elif ev.kind == "integration_requested":
        parts.append(f"a {d.get('recipient', '')}: «{d.get('subject', '')}»")
    elif ev.kind in ("mail_queued", "mail_sent", "mail_suppressed"):
        kind = d.get("kind", "")
        parts.append({"integration_request": "richiesta di integrazione",
                      "booking_invitation": "invito alla videochiamata",
                      "booking_cancelled": "annullamento della videochiamata",
                      "rejected_no_show": "chiusura per assenze",
                      "rejected": "comunicazione del rifiuto"}.get(kind, kind))
        if d.get("reason"):
            parts.append(labels.label(labels.MAIL_SUPPRESSED_REASONS, d["reason"]))
    elif ev.kind == "intake_dismissed":
        parts.append(f"motivo: {d.get('reason', '')}")
    elif ev.kind == "intake_reprocessed":
        parts.append("esito: " + ("riuscita" if d.get("outcome") == "ok" else f"non riuscita ({d.get('error', '')})"))
    else:
        for k, value in d.items():
            if isinstance(value, (str, int, float, bool)) and k not in ("message",):
                parts.append(f"{labels.field_label(k)}: {fmt_value(value)}")
    return " · ".join(p for p in parts if p)
