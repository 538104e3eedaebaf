"""`identified → released`: the codes, once, by the operator of the call.

1. One transaction claims the release with a compare-and-swap on the call's
   row (`released_at` still NULL, outcome `identified`, the request still
   `identified`): two clicks, two consoles or two nodes give one release.
   The request goes `released` through db/lifecycle.py with an event that
   names the channel (masked), never a code.
2. After that commit the issuer makes the codes; the other 3 + 6 digits go to
   the verified channel (calls.channels.deliver); the first 2 + 2 are
   returned for the operator to read out. The codes exist in memory only.
   A failure of the issuer or the gateway is an event (`codes_not_delivered`)
   and an error: the request stays `released` with no codes given, for a
   supervisor to have them issued again (not built yet).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select, update

from calls.channels import GatewayError, SmsGateway, deliver, mask
from calls.identification import CallError, office_user
from calls.issuer import Issuer, IssuerError
from db import lifecycle
from db.models import Document, Identification, Request, utcnow
from db.session import Database

SMS_TEXT = ("spazioRegione, pratica {reference}: le cifre mancanti dei codici della sua TS-CNS. "
            "PIN: le 2 cifre dette in videochiamata seguite da {pin}. PUK: le 2 cifre dette seguite da {puk}.")


@dataclass(frozen=True)
class Released:
    reference: str
    pin_on_the_call: str = field(repr=False)  # the first 2 digits, for the console only
    puk_on_the_call: str = field(repr=False)
    channel: str  # masked

    def __repr__(self) -> str:
        return f"Released({self.reference}, channel={self.channel})"


def channel_address(req: Request, channel: str = "sms") -> str | None:
    """Where the verified channel reaches the citizen: the form's mobile number, or its e-mail address."""
    return req.contact_phone if channel == "sms" else (req.contact_email or req.sender_email)


def release(db: Database, reference: str, *, actor: str, issuer: Issuer, gateway: SmsGateway,
            channel: str = "sms") -> Released:
    with db.session() as s:
        req = s.scalar(select(Request).where(Request.reference == reference))
        if req is None:
            raise CallError(f"nessuna pratica {reference}")
        office_user(s, actor, req.province)
        if req.status != "identified":
            raise CallError(f"la pratica {reference} è in stato '{req.status}': si rilasciano i codici solo di una "
                            "pratica 'identified', una volta")
        call = s.scalar(select(Identification).where(Identification.request_id == req.id,
                                                     Identification.outcome == "identified")
                        .order_by(Identification.id.desc()))
        if call is None or call.operator != actor:
            raise CallError("rilascia i codici solo l'operatore che ha condotto la videochiamata")
        address = channel_address(req, channel)
        if not call.channel_verified or not address:
            raise CallError("il recapito non è verificato")
        claimed = s.execute(update(Identification)
                            .where(Identification.id == call.id, Identification.released_at.is_(None))
                            .values(released_at=utcnow(), released_by=actor)).rowcount == 1
        if not claimed:
            raise CallError(f"i codici della pratica {reference} sono già stati rilasciati")
        phone, masked = address, mask(address)
        card = s.scalar(select(Document.number).where(Document.request_id == req.id,
                                                      Document.slot == "holder_cns_front"))
        lifecycle.transition(s, req, "released", actor, identification=call.id, channel=masked)
    # After the commit: the release is decided once; now the codes exist, in memory only.
    try:
        codes = issuer.issue(reference, card)
        pin_rest, puk_rest = codes.to_the_channel
        deliver(gateway, phone, SMS_TEXT.format(reference=reference, pin=pin_rest, puk=puk_rest))
    except (IssuerError, GatewayError) as exc:
        with db.session() as s:
            req = s.scalar(select(Request).where(Request.reference == reference))
            lifecycle.record(s, req, "codes_not_delivered", actor, {"reason": str(exc), "channel": masked})
        raise CallError("codici non consegnati: serve una nuova emissione") from None
    with db.session() as s:
        req = s.scalar(select(Request).where(Request.reference == reference))
        lifecycle.record(s, req, "codes_delivered", actor, {"channel": masked})
    pin2, puk2 = codes.on_the_call
    return Released(reference, pin2, puk2, masked)
