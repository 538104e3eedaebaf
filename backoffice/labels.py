"""Italian labels for the codes the rest of the system speaks (SPEC.md tables)."""

from __future__ import annotations

import re

# The tick-box wording of the forms (SPEC.md), keyed by the export values.
from verification.forms.layout import RELATIONSHIP_LABELS  # noqa: F401 - re-exported for the templates

STATUS_LABELS = {
    "received": "Ricevuta",
    "not_a_request": "Non è una richiesta",
    "incomplete": "Incompleta",
    "needs_review": "Da revisionare",
    "ready": "Pronta per la chiamata",
    "booked": "Videochiamata prenotata",
    "identified": "Identificata",
    "released": "Codici rilasciati",
    "rejected": "Respinta",
    "expired": "Scaduta",
}

# Queue tabs, in the order an office works them; plural short labels.
WORK_TABS = (
    ("needs_review", "Da revisionare"),
    ("received", "Ricevute"),
    ("ready", "Pronte"),
    ("incomplete", "Incomplete"),
    ("booked", "Prenotate"),
    ("identified", "Identificate"),
)
CLOSED_TABS = (
    ("released", "Rilasciate"),
    ("rejected", "Respinte"),
    ("expired", "Scadute"),
    ("not_a_request", "Non richieste"),
)
QUEUE_TABS = WORK_TABS + CLOSED_TABS
# Every status of WORK_TABS at once: where the queue opens.
OPEN_TAB = ("open", "Aperte")
OPEN_STATUSES = tuple(code for code, _ in WORK_TABS)

FORM_LABELS = {
    "direct": "Attivazione diretta",
    "delegate": "Delegato",
    "guardian": "Genitore / tutore",
}

SLOT_LABELS = {
    "form": "Modulo di richiesta",
    "holder_id_front": "Documento del titolare – fronte",
    "holder_id_back": "Documento del titolare – retro",
    "holder_cns_front": "TS-CNS del titolare – fronte",
    "holder_cns_back": "TS-CNS del titolare – retro",
    "declarant_id_front": "Documento del dichiarante – fronte",
    "declarant_id_back": "Documento del dichiarante – retro",
}

DOC_TYPE_LABELS = {
    "cie": "Carta d'identità elettronica",
    "paper_id": "Carta d'identità cartacea",
    "passport": "Passaporto",
    "driving_licence": "Patente di guida",
    "ts_cns": "TS-CNS",
    "ts_no_chip": "Tessera sanitaria senza chip",
    "form": "Modulo",
}


SEVERITY_LABELS = {"blocking": "Bloccante", "review": "Da verificare", "info": "Informazione"}

ROLE_LABELS = {"operator": "Operatore", "supervisor": "Supervisore", "admin": "Amministratore"}

EVENT_LABELS = {
    "created": "Pratica aperta",
    "status": "Cambio di stato",
    "claimed": "Presa in carico",
    "unassigned": "Lasciata libera",
    "assigned": "Assegnata",
    "field_corrected": "Dato corretto",
    "rules_rerun": "Controlli ripetuti dopo la correzione",
    "findings_overridden": "Segnalazioni bloccanti superate dal supervisore",
    "integration_requested": "Richiesta di integrazione",
    "mail_queued": "E-mail in coda di invio",
    "mail_sent": "E-mail inviata",
    "mail_suppressed": "E-mail non inviata",
    "opened": "Consultata",
    "intake_reprocessed": "Nuova elaborazione del messaggio",
    "message_added": "Nuovo messaggio",
    "booking_moved": "Videochiamata spostata",
    "booking_cancelled": "Prenotazione annullata",
    "booking_no_show": "Assente alla videochiamata",
    "callback_requested": "Il cittadino chiede di essere richiamato",
    "expiry_notice": "Avviso di scadenza",
    "purged": "Documenti eliminati (conservazione scaduta)",
    "message_received": "Messaggio ricevuto",
    "intake_dismissed": "Messaggio non elaborato archiviato",
    "call_started": "Videochiamata iniziata",
    "face_compared": "Volto confrontato con il documento",
    "liveness_checked": "Prova di vitalità",
    "channel_checked": "Codice di verifica",
    "codes_delivered": "Codici consegnati",
    "codes_not_delivered": "Codici non consegnati",
}

# Why an automatic answer was not sent (intake.outgoing.queue).
MAIL_SUPPRESSED_REASONS = {
    "reply rate limit": "limite giornaliero di risposte automatiche a questo indirizzo",
    "same answer sent within a day": "la stessa risposta era già stata inviata a questo indirizzo nelle ultime 24 ore",
}

# Names of extracted fields as the forms and documents print them.
FIELD_LABELS = {
    "surname": "Cognome",
    "given_names": "Nome",
    "codice_fiscale": "Codice fiscale",
    "birth_date": "Data di nascita",
    "birth_place": "Luogo di nascita",
    "sex": "Sesso",
    "nationality": "Cittadinanza",
    "number": "Numero del documento",
    "expiry": "Scadenza",
    "issue_date": "Data di rilascio",
    "issuer": "Rilasciato da",
    "card_number": "Numero identificativo della tessera",
    "card_expiry": "Data di scadenza della tessera",
    "phone": "Cellulare",
    "email": "E-mail",
    "relationship": "Rapporto con il titolare",
    "place_date": "Luogo e data",
    "signed": "Firmato",
    "mrz": "Zona a lettura ottica (MRZ)",
    "declarant_surname": "Cognome del dichiarante",
    "declarant_given_names": "Nome del dichiarante",
    "declarant_codice_fiscale": "Codice fiscale del dichiarante",
    "declarant_birth_date": "Data di nascita del dichiarante",
    # Keys of a finding's evidence.
    "form": "Sul modulo",
    "document": "Sul documento",
    "expected": "Atteso",
    "found": "Trovato",
    "today": "Data del controllo",
    "reason": "Motivo",
    "notes": "Note di lettura",
}

# Request-level data an operator may correct: column -> (label, kind).
REQUEST_FIELDS = {
    "holder_surname": ("Cognome", "text"),
    "holder_given_names": ("Nome", "text"),
    "holder_codice_fiscale": ("Codice fiscale", "cf"),
    "holder_birth_date": ("Data di nascita", "date"),
    "declarant_surname": ("Cognome", "text"),
    "declarant_given_names": ("Nome", "text"),
    "declarant_codice_fiscale": ("Codice fiscale", "cf"),
    "declarant_birth_date": ("Data di nascita", "date"),
    "declarant_relationship": ("Rapporto con il titolare", "relationship"),
    "contact_email": ("E-mail", "email"),
    "contact_phone": ("Cellulare", "text"),
}


def label(table: dict, code: str | None, default: str = "—") -> str:
    if code is None:
        return default
    return table.get(code, code)


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


# What intake noted while reading a message (English, from intake.*): the clerk reads
# the Italian sentence, with the technical note beside it. First matching pattern wins.
INTAKE_NOTE_LABELS: tuple[tuple[str, str], ...] = (
    (r"^too many attachments: (\d+) not kept \(limit (\d+)\)",
     "Troppi allegati: {0} non considerati (limite {1}); tenuti i documenti più probabili"),
    (r"^message too large", "Messaggio oltre la dimensione massima: letti solo i dati di intestazione"),
    (r"structure unreadable", "Struttura del messaggio illeggibile: letti solo i dati di intestazione"),
    (r"multipart nesting too deep", "Parti del messaggio annidate troppo in profondità: non lette"),
    (r"multipart without usable boundary", "Parte del messaggio senza separatore utilizzabile: allegati forse non letti"),
    (r"boundary repaired", "Separatore delle parti riparato: allegati letti"),
    (r"extraction stopped", "Lettura degli allegati interrotta da un errore"),
    (r"unreadable S/MIME signature", "Firma S/MIME illeggibile: allegati letti come non firmati"),
    (r"^part [^:]*: unreadable", "Parte del messaggio illeggibile"),
    (r"not read \(processing time limit\)", "Allegato non letto: tempo di elaborazione esaurito"),
    (r"not read \(tnef: damaged", "File winmail.dat danneggiato: conservato ma non letto per intero"),
    (r"not read \(", "Allegato non letto: supera un limite di sicurezza"),
    (r"pdf contains JavaScript", "Il PDF contiene JavaScript (non eseguito): da controllare"),
    (r"pdf has embedded files", "Il PDF contiene file incorporati (non aperti): da controllare"),
    (r"pdf opens an action", "Il PDF esegue un'azione all'apertura (non eseguita): da controllare"),
    (r"image decoded reduced", "Immagine molto grande: letta a risoluzione ridotta"),
    (r"^mime: (\w+)Defect", "Difetto di formato del messaggio ({0})"),
)
_NOTE_PATTERNS = tuple((re.compile(p), text) for p, text in INTAKE_NOTE_LABELS)


def intake_note_label(note: str) -> str:
    for pattern, text in _NOTE_PATTERNS:
        if match := pattern.search(note):
            return text.format(*match.groups())
    return "Nota tecnica sulla lettura del messaggio"

# The login page.
LOGIN_FAILED = "Nome utente o password non corretti."
LOGIN_THROTTLED = ("Troppi tentativi non riusciti da questo dispositivo. Per sicurezza l'accesso da qui è sospeso: "
                   "riprova tra {wait}.")

# Rejecting a request (backoffice.actions.reject): the reason goes to the citizen.
REJECT_NEEDS_REASON = "Per respingere la pratica scrivi il motivo: lo riceverà il cittadino."
REJECT_NO_RECIPIENT = ("La pratica non ha un indirizzo e-mail a cui comunicare il rifiuto: "
                       "non è stata respinta. Aggiungi l'e-mail tra i recapiti e riprova.")
REJECTED_MAIL_QUEUED = "Pratica respinta: l'e-mail con il motivo è in coda di invio a {recipient}."

# Validating over blocking findings (backoffice.actions._override_blocking).
NEVER_OVERRIDDEN = {
    "cns_without_chip": ("La tessera sanitaria è senza chip: non ha un PIN da rilasciare, quindi la pratica non può "
                         "essere validata da nessuno. Respingila spiegando al cittadino come avere una TS-CNS."),
}
OVERRIDE_SUPERVISOR_ONLY = ("La pratica ha segnalazioni bloccanti ({count}): non può essere validata così. "
                            "Chiedi al cittadino che cosa manca, oppure chiedi a un supervisore.")
OVERRIDE_NEEDS_REASON = ("Per validare nonostante le segnalazioni bloccanti scrivi il motivo "
                         "(almeno 10 caratteri): resta nella cronologia.")

# What the rules say after a correction (backoffice.recheck).
VERDICT_LABELS = {
    "ready": "completa e valida",
    "needs_review": "da verificare da un operatore",
    "incomplete": "ci sono ancora segnalazioni bloccanti",
}
RECHECK_VERDICT = "Controlli ripetuti sui dati corretti: {verdict}."

# Closing junk (backoffice.actions.not_a_request) and dismissing a quarantined message.
JUNK_NEEDS_REASON = "Scrivi perché non è una richiesta (almeno 5 caratteri): resta nella cronologia."
JUNK_CLOSED = "Pratica chiusa come «non è una richiesta». Nessuna e-mail al mittente; un nuovo messaggio la riapre."
DISMISS_NEEDS_REASON = "Scrivi perché archivi il messaggio (almeno 5 caratteri): resta nella cronologia."
DISMISSED = "Messaggio archiviato: resta conservato con il motivo."
DISMISSED_AND_CLOSED = ("Messaggio archiviato. La pratica {reference}, che conteneva solo questo messaggio, "
                        "è chiusa come «non è una richiesta».")
