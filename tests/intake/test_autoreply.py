"""intake.autoreply: mail from machines is recognised, mail from people is not."""

from __future__ import annotations

import pytest

from intake.autoreply import classify_automatic
from intake.mime import parse_message
from tests import mailfactory as mf


def classify(**kwargs) -> str | None:
    return classify_automatic(parse_message(mf.simple(**kwargs)))


@pytest.mark.parametrize(
    "subject",
    [
        "Richiesta codici PIN/PUK",
        "Re: Richiesta codici PIN/PUK [SR-MI-2026-000042]",
        "R: documenti mancanti",
        "Documenti per la tessera sanitaria, sono fuori sede fino a lunedì",
        "Fw: ricevuta consegna tessera",
    ],
)
def test_a_citizens_mail_is_not_automatic(subject):
    assert classify(subject=subject, extra_headers={"Auto-Submitted": "no", "Return-Path": "<mario.rossi@example.org>"}) is None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Auto-Submitted": "auto-replied"}, "Auto-Submitted: auto-replied"),
        ({"Auto-Submitted": "auto-generated; owner-email=x@example.org"}, "Auto-Submitted: auto-generated"),
        ({"Precedence": "bulk"}, "Precedence: bulk"),
        ({"Precedence": "junk"}, "Precedence: junk"),
        ({"Precedence": "list"}, "Precedence: list"),
        ({"Precedence": "auto_reply"}, "Precedence: auto_reply"),
        ({"X-Auto-Response-Suppress": "All"}, "x-auto-response-suppress header"),
        ({"X-Autoreply": "yes"}, "x-autoreply header"),
        ({"X-Autorespond": "Fuori ufficio"}, "x-autorespond header"),
        ({"List-Id": "<notizie.example.org>"}, "mailing list (list-id)"),
        ({"List-Unsubscribe": "<mailto:unsub@example.org>"}, "mailing list (list-unsubscribe)"),
        ({"Return-Path": "<>"}, "empty Return-Path (bounce)"),
        ({"X-Sportello-Loop": "SR-MI-2026-000042"}, "our own mail"),
        ({"X-Ricevuta": "avvenuta-consegna"}, "PEC receipt"),
    ],
)
def test_automatic_headers(headers, expected):
    assert classify(extra_headers=headers) == expected


def test_our_loop_header_wins_over_everything():
    assert classify(extra_headers={"X-Sportello-Loop": "1", "Precedence": "bulk"}) == "our own mail"


def test_precedence_first_class_is_a_person():
    assert classify(extra_headers={"Precedence": "first-class"}) is None


@pytest.mark.parametrize(
    "sender",
    ["MAILER-DAEMON@mx.example.org", "postmaster@example.org", "noreply@poste.example", "no-reply@example.org", "do-not-reply@example.org", "noreply+abc@example.org"],
)
def test_automatic_senders(sender):
    assert classify(sender=f"Sistema <{sender}>", subject="Avviso").startswith("automatic sender")


def test_a_person_whose_name_contains_postmaster_is_not_automatic():
    assert classify(sender="Gino Postmastercola <gino.postmastercola@example.org>") is None


@pytest.mark.parametrize(
    "subject",
    [
        "Risposta automatica: Richiesta codici PIN/PUK",
        "R: Risposta automatica: Richiesta codici",
        "Fuori sede",
        "Fuori ufficio dal 3 al 10 marzo",
        "Out of Office: Richiesta",
        "Automatic reply: Richiesta codici PIN/PUK",
        "Undeliverable: Richiesta codici",
        "Mail delivery failed: returning message to sender",
        "Delivery Status Notification (Failure)",
        "Avviso di mancata consegna",
        "=?utf-8?q?Risposta_automatica=3A_Ric?=",
    ],
)
def test_auto_reply_subjects(subject):
    assert classify(subject=subject) == "auto-reply subject"


def test_delivery_status_notification_is_automatic():
    original = mf.mail(mf.attachment(mf.jpeg(), "a.jpg"), seed=1)
    msg = parse_message(mf.dsn(original))
    assert (msg.content_type, msg.report_type) == ("multipart/report", "delivery-status")
    assert classify_automatic(msg) == "delivery report (delivery-status)"


def test_dsn_is_recognised_by_its_structure_alone():
    original = mf.mail(seed=1)
    raw = mf.dsn(original).replace(b"mailer-daemon@example.org", b"servizio@example.org").replace(b"Delivery Status Notification (Failure)", b"Avviso")
    assert classify_automatic(parse_message(raw)) == "delivery report (delivery-status)"


# ---- issue 19, defect 4: the usual auto-replies and bounces in five languages ----------------


@pytest.mark.parametrize(
    "subject",
    [
        "Automatische Antwort: Richiesta codici PIN/PUK",  # Outlook, German
        "AW: Automatische Antwort: Richiesta",
        "Abwesenheitsnotiz: Richiesta",
        "Unzustellbar: Richiesta codici",
        "Recapito non riuscito: Richiesta codici PIN/PUK",  # Exchange NDR, Italian
        "Impossibile recapitare il messaggio",
        "Notifica sullo stato del recapito (errore)",
        "Réponse automatique : Richiesta",
        "Non remis : Richiesta codici",
        "Échec de la remise",
        "Respuesta automática: Richiesta",
        "No se puede entregar: Richiesta",
        "Fuera de la oficina",
        "RV: Notificación de estado de entrega (error)",
        "Failure notice",
        "Delivery has failed to these recipients or groups",
    ],
)
def test_auto_reply_subjects_in_five_languages(subject):
    assert classify(subject=subject) == "auto-reply subject"


@pytest.mark.parametrize(
    "sender",
    [
        "MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@comune.example.it",
        "mailer_daemon@mx.example.org",
        "no_reply@example.org",
        "nicht-antworten@firma.example.de",
        "ne-pas-repondre@example.fr",
        "noresponder@example.es",
    ],
)
def test_automatic_senders_of_many_kinds(sender):
    assert classify(sender=f"Sistema <{sender}>", subject="Avviso").startswith("automatic sender")


def test_a_plain_text_exchange_ndr_in_italian_is_automatic():
    raw = (
        "From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@comune.example.it>\r\n"
        "To: spazioregione.mi@example.org\r\nSubject: Recapito non riuscito: [SR-MI-2026-000001] Abbiamo ricevuto\r\n"
        "Message-ID: <ndr-1@comune.example.it>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Impossibile recapitare il messaggio ai destinatari.\r\n"
    ).encode()
    assert classify_automatic(parse_message(raw)) is not None


@pytest.mark.parametrize("subject", ["Absenteismo scolastico e tessera", "Fuori dal comune ho perso la tessera",
                                     "Ausweis und Karte", "Non ho ricevuto il PIN"])
def test_look_alike_subjects_of_people_are_not_automatic(subject):
    assert classify(subject=subject) is None
