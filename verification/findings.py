"""The finding codes of SPEC.md "Finding codes": severity and the citizen's message.

Messages are Italian, short enough for a phone, and say what to do. A
message may use evidence values: `{expiry}` and other dates print as
dd/mm/yyyy; `{person_it}` and `{allowed_signers_it}` are Italian labels
derived from the `person` and `form_type` evidence (see _LABELS_IT). When a template needs a value
the evidence lacks, the plain message is used.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

Severity = Literal["blocking", "review", "info"]
SEVERITY_ORDER: dict[str, int] = {"blocking": 0, "review": 1, "info": 2}


@dataclass(frozen=True)
class FindingSpec:
    severity: Severity
    message: str  # used when no template applies
    templates: tuple[str, ...] = ()  # tried in order; the first whose fields are all known wins


# The slots of SPEC.md "Document slots", with Italian names for the messages.
SLOT_NAMES_IT: dict[str, str] = {
    "holder_id_front": "il fronte del documento d'identità del titolare",
    "holder_id_back": "il retro del documento d'identità del titolare",
    "holder_cns_front": "il fronte della Tessera Sanitaria-CNS",
    "holder_cns_back": "il retro della Tessera Sanitaria-CNS",
    "declarant_id_front": "il fronte del documento d'identità del dichiarante",
    "declarant_id_back": "il retro del documento d'identità del dichiarante",
}
DOCUMENT_SLOTS = tuple(SLOT_NAMES_IT)

_RESEND = "Invii una foto o una scansione nitida e completa."
_ACCEPTED_IDS = "carta d'identità elettronica, passaporto o patente di guida"


def _slot_specs() -> dict[str, FindingSpec]:
    specs: dict[str, FindingSpec] = {}
    for slot, name in SLOT_NAMES_IT.items():
        specs[f"missing_{slot}"] = FindingSpec("blocking", f"Manca {name}.")
        specs[f"unreadable_{slot}"] = FindingSpec(
            "blocking", f"Non si legge bene {name}: è sfocato, troppo piccolo o tagliato. {_RESEND}"
        )
    return specs


FINDINGS: dict[str, FindingSpec] = {
    "form_missing": FindingSpec("blocking", "Manca il modulo di richiesta compilato e firmato."),
    "form_type_unknown": FindingSpec("review", "Non riconosciamo il modulo inviato: lo controllerà un operatore."),
    "form_unsigned": FindingSpec("blocking", "Il modulo non è firmato. Lo firmi e lo invii di nuovo."),
    "phone_missing": FindingSpec("blocking", "Nel modulo manca il numero di cellulare."),
    "unreadable_form": FindingSpec(
        "blocking", f"Non si legge bene il modulo: è sfocato, troppo piccolo o tagliato. {_RESEND}"
    ),
    **_slot_specs(),
    "expired_holder_id": FindingSpec(
        "blocking",
        "Il documento d'identità del titolare è scaduto. Invii un documento valido.",
        ("Il documento d'identità del titolare è scaduto il {expiry}. Invii un documento valido.",),
    ),
    "expired_declarant_id": FindingSpec(
        "blocking",
        "Il documento d'identità del dichiarante è scaduto. Invii un documento valido.",
        ("Il documento d'identità del dichiarante è scaduto il {expiry}. Invii un documento valido.",),
    ),
    "expired_holder_cns": FindingSpec(
        "blocking",
        "La Tessera Sanitaria-CNS è scaduta: i codici si rilasciano solo per una tessera valida.",
        ("La Tessera Sanitaria-CNS è scaduta il {expiry}: i codici si rilasciano solo per una tessera valida.",),
    ),
    "id_type_not_accepted_holder": FindingSpec(
        "blocking",
        f"Il documento d'identità del titolare non è accettato. Invii {_ACCEPTED_IDS}.",
        (f"La carta d'identità cartacea del titolare non è più valida dal {{invalid_from}}. Invii {_ACCEPTED_IDS}.",),
    ),
    "id_type_not_accepted_declarant": FindingSpec(
        "blocking",
        f"Il documento d'identità del dichiarante non è accettato. Invii {_ACCEPTED_IDS}.",
        (
            "La carta d'identità cartacea del dichiarante non è più valida dal {invalid_from}. "
            f"Invii {_ACCEPTED_IDS}.",
        ),
    ),
    "cns_without_chip": FindingSpec(
        "blocking",
        "La Tessera Sanitaria inviata non ha il chip: non ha codici PIN/PUK da rilasciare.",
    ),
    "cf_invalid": FindingSpec(
        "blocking",
        "Un codice fiscale non è corretto. Controlli che sia scritto bene.",
        ("Il codice fiscale {person_it} non è corretto. Controlli che sia scritto bene.",),
    ),
    "cf_mismatch": FindingSpec(
        "blocking",
        "Il codice fiscale non è lo stesso nel modulo e nei documenti. Controlli il modulo e i documenti.",
        (
            "Il codice fiscale {person_it} non è lo stesso nel modulo e nei documenti. "
            "Controlli il modulo e i documenti.",
        ),
    ),
    "name_mismatch": FindingSpec(
        "review",
        "I dati anagrafici non coincidono tra modulo e documenti: li controllerà un operatore.",
        ("I dati anagrafici {person_it} non coincidono tra modulo e documenti: li controllerà un operatore.",),
    ),
    "holder_minor_needs_guardian_form": FindingSpec(
        "blocking",
        "Il titolare è minorenne: la richiesta va fatta da un genitore o dal tutore con il modulo genitore/tutore.",
    ),
    "delegate_relationship_not_allowed": FindingSpec(
        "blocking",
        "Il rapporto con il titolare indicato nel modulo non permette di fare la richiesta.",
        ("Il rapporto con il titolare indicato nel modulo non permette di fare la richiesta: {allowed_signers_it}.",),
    ),
    "face_not_found_holder_id": FindingSpec(
        "blocking",
        "Nella foto del documento d'identità del titolare non si vede bene il volto. "
        "Invii una copia nitida del fronte del documento.",
    ),
    "face_not_found_declarant_id": FindingSpec(
        "blocking",
        "Nella foto del documento d'identità del dichiarante non si vede bene il volto. "
        "Invii una copia nitida del fronte del documento.",
    ),
    # Intake could not read all of a message (a limit, a broken structure): what seems
    # missing may be in the part not read, so an operator looks before the citizen is told.
    "message_partly_read": FindingSpec(
        "review",
        "Una parte di un messaggio non è stata letta: un operatore controllerà la richiesta.",
    ),
    "attachment_rejected": FindingSpec(
        "info",
        "Un allegato non è stato considerato (file non sicuro, troppo grande o di un tipo non supportato). "
        "Invii i documenti in PDF, JPG o PNG.",
        (
            "Il file «{filename}» non è stato considerato (file non sicuro, troppo grande o di un tipo "
            "non supportato). Invii i documenti in PDF, JPG o PNG.",
        ),
    ),
}

# Italian labels derived from evidence values: evidence key → (template field, {value: label}).
_LABELS_IT: dict[str, tuple[str, dict[str, str]]] = {
    "person": ("person_it", {"holder": "del titolare", "declarant": "del dichiarante"}),
    # SPEC.md "The three forms" and "Delegation order": who may sign each form.
    "form_type": (
        "allowed_signers_it",
        {
            "delegate": "con il modulo delegato possono firmare il coniuge, i figli o un parente "
            "fino al terzo grado (non i cugini)",
            "guardian": "con il modulo genitore/tutore può firmare solo un genitore o il tutore",
        },
    ),
}


@dataclass(frozen=True)
class Finding:
    """One problem found in a request. `evidence` is JSON-ready (dates as ISO strings)."""

    code: str
    severity: Severity
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Identity of the finding, for de-duplication."""
        return json.dumps([self.code, self.evidence], sort_keys=True, default=str)

    def __hash__(self) -> int:
        return hash(self.key)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "message": self.message}


def _json_ready(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    return value


def _message_context(evidence: dict[str, Any]) -> dict[str, str]:
    context = {}
    for key, value in evidence.items():
        context[key] = value.strftime("%d/%m/%Y") if isinstance(value, date) else str(value)
        if key in _LABELS_IT:
            label_field, labels = _LABELS_IT[key]
            if str(value) in labels:
                context[label_field] = labels[str(value)]
    return context


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def finding(code: str, **evidence: Any) -> Finding:
    """Build a finding, severity and message from the table; ValueError for an unknown code."""
    try:
        spec = FINDINGS[code]
    except KeyError:
        raise ValueError(f"unknown finding code: {code!r}") from None
    context = _message_context(evidence)
    message = next((t.format(**context) for t in spec.templates if _fields(t) <= context.keys()), spec.message)
    return Finding(code=code, severity=spec.severity, message=message, evidence=_json_ready(evidence))
