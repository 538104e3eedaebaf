"""`sportello requests show`: one request as text for a person at a terminal."""

from __future__ import annotations

from db.models import Request
from verification.codice_fiscale import redact


def _person(label: str, cf, surname, given, birth) -> list[str]:
    name = " ".join(x for x in (surname, given) if x) or "—"
    born = birth.strftime("%d/%m/%Y") if birth else "—"
    return [f"{label:<12} {name}  CF {redact(cf) if cf else '—'}  nato/a il {born}"]


def render_request(r: Request) -> str:
    lines = [
        f"{r.reference}  [{r.status}]  provincia {r.province}",
        f"{'Modulo':<12} {r.form_type or '—'}",
    ]
    lines += _person("Titolare", r.holder_codice_fiscale, r.holder_surname, r.holder_given_names, r.holder_birth_date)
    if r.form_type in ("delegate", "guardian"):
        lines += _person("Dichiarante", r.declarant_codice_fiscale, r.declarant_surname,
                         r.declarant_given_names, r.declarant_birth_date)
        lines.append(f"{'Rapporto':<12} {r.declarant_relationship or '—'}")
    lines.append(f"{'Recapiti':<12} {r.contact_email or '—'}  {r.contact_phone or '—'}")
    lines.append("")
    lines.append(f"Messaggi ({len(r.messages)}):")
    for m in r.messages:
        state = "" if m.intake_status == "ok" else f"  !! {m.intake_error}"
        lines.append(f"  {m.stored_at:%d/%m/%Y %H:%M}  {m.direction}  {m.subject or '(senza oggetto)'}{state}")
        for a in m.attachments:
            rej = f"  (scartato: {a.reject_reason})" if a.status != "ok" else ""
            lines.append(f"      - {a.filename}  {a.content_type}  {a.size} byte{rej}")
        for n in m.intake_notes or []:  # what intake could not read, or found worth saying (issue 19)
            lines.append(f"      {'!! non letto: ' if n.get('loss') else 'nota: '}{n.get('text')}")
    lines.append(f"Documenti ({len(r.documents)}):")
    for d in r.documents:
        exp = d.expiry.strftime("%d/%m/%Y") if d.expiry else "—"
        lines.append(f"  {d.slot:<20} {d.doc_type:<16} n. {d.number or '—'}  scadenza {exp}")
    lines.append(f"Rilievi ({len(r.findings)}):")
    for f in r.findings:
        lines.append(f"  [{f.severity}] {f.code}: {f.message}")
    lines.append("Storia:")
    for e in r.events:
        move = f" {e.from_status or ''} -> {e.to_status}" if e.to_status else ""
        lines.append(f"  {e.at:%d/%m/%Y %H:%M:%S}  {e.actor:<10} {e.kind}{move}")
    return "\n".join(lines)
