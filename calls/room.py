"""A call in progress on this node: its two ends, what the assists hold in memory, the operator's steps.

One `Room` per booked request while its call is on; `Rooms` is the node's
registry (both ends of a call must reach the same node: README "Several
nodes"). The room holds in memory only — the document photo's encoding, the
channel proof, the challenge under way — and forgets them when it closes.
The database sees the steps through calls.identification (bands, yes/no, a
masked channel) and the release through calls.release.

Every step is an async method that pushes its result to the ends' sockets
(`say`); the blocking work — face encodings, landmarks, the database — runs
in a worker thread so the media keep flowing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import numpy as np

from calls import faces, identification, liveness
from calls.channels import SmsGateway
from calls.decision import IDENTIFIED, NEEDS_REVIEW
from calls.identification import CallError
from calls.issuer import Issuer
from calls.media import End, answer
from calls.proof import ChannelProof
from calls.release import channel_address, release

log = logging.getLogger(__name__)

Say = Callable[[dict], Awaitable[None]]

CHALLENGE_SECONDS = 7.0  # frames are sampled this long after the prompt is shown
CHALLENGE_FPS = 5
CHALLENGE_TRIES = 3  # a new random challenge each time; then the call cannot pass liveness


@dataclass
class Services:
    """What a room needs from the node: the App, the issuer, the channel and its kind, ICE servers."""

    app: Any
    issuer: Issuer
    gateway: SmsGateway
    channel: str = "sms"
    ice_servers: list[dict] = field(default_factory=list)


class Room:
    def __init__(self, reference: str, services: Services):
        self.reference = reference
        self.services = services
        self.citizen, self.operator = End("citizen"), End("operator")
        self.sockets: dict[str, Say] = {}
        self.call_id: int | None = None
        self.operator_name: str | None = None
        self._document: faces.Encoding | None = None
        self._proof: ChannelProof | None = None
        self.challenge: str | None = None
        self.challenges_left = CHALLENGE_TRIES
        self.busy = asyncio.Lock()
        self.released = False

    def __repr__(self) -> str:
        return f"Room({self.reference})"

    # -- the ends ---------------------------------------------------------------------------------------------

    def end(self, role: str) -> End:
        return self.citizen if role == "citizen" else self.operator

    async def join(self, role: str, say: Say) -> None:
        self.sockets[role] = say
        await self.tell("operator", self.presence())

    async def leave(self, role: str, say: Say) -> None:
        mine = self.sockets.get(role) is say
        if mine:
            del self.sockets[role]
        if role == "citizen":
            # the codes' first parts are for the call only: gone from the console once the citizen leaves
            await self.tell("operator", {"type": "clear"})
        await self.tell("operator", self.presence())
        if mine:
            try:
                await asyncio.wait_for(self.end(role).close(), 10)
            except asyncio.TimeoutError:
                log.warning("a peer connection of %s did not close in time", self.reference)

    def presence(self) -> dict:
        return {"type": "presence", "citizen": "citizen" in self.sockets,
                "citizen_video": self.citizen.video.live}

    @property
    def citizen_present(self) -> bool:
        return "citizen" in self.sockets and self.citizen.connected

    async def tell(self, role: str, message: dict) -> None:
        say = self.sockets.get(role)
        if say is not None:
            try:
                await say(message)
            except Exception:  # noqa: BLE001 - a socket closing under us; its own handler cleans up
                log.debug("could not tell %s of %s", role, self.reference)

    async def offer(self, role: str, sdp: str) -> str:
        other = self.operator if role == "citizen" else self.citizen
        sdp = await answer(self.end(role), other, sdp, self.services.ice_servers)
        return sdp

    async def close(self) -> None:
        self._document = self._proof = None
        for end in (self.citizen, self.operator):
            await end.close()

    # -- the operator's steps ---------------------------------------------------------------------------------

    def _frame(self) -> np.ndarray:
        img = self.citizen.video.image()
        if img is None:
            raise CallError("nessun video dal cittadino: attendi che si colleghi")
        return img

    def _document_encoding(self) -> faces.Encoding:
        if self._document is None:
            self._document = faces.document_encoding(self.services.app, self.reference)
        return self._document

    def _compare(self, rgb: np.ndarray) -> dict:
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        count = len(faces.face_locations(bgr))
        if count != 1:
            return {"type": "face", "faces": count, "band": None,
                    "text": "nessun volto nell'inquadratura" if count == 0 else "più di un volto nell'inquadratura"}
        try:
            band = faces.compare(faces.encode(bgr), self._document_encoding(), self.services.app.settings.call)
        except faces.NoFace as exc:
            return {"type": "face", "faces": count, "band": None, "text": str(exc)}
        identification.record_face(self.services.app.db, self.call_id, band, actor=self.operator_name)
        return {"type": "face", "faces": 1, "band": band}

    async def capture(self) -> dict:
        """A frame of the citizen's video, taken now by the server, compared with the document's photo."""
        rgb = self._frame()
        return await asyncio.to_thread(self._compare, rgb)

    async def run_challenge(self, chooser: Callable[[], str] | None = None) -> dict:
        """The server picks a challenge, shows it to the citizen, samples the frames, judges them."""
        self._frame()
        if self.challenges_left <= 0:
            raise CallError(f"già fatte {CHALLENGE_TRIES} prove di vitalità in questa videochiamata")
        self.challenges_left -= 1
        self.challenge = (chooser or liveness.choose)()
        prompt = liveness.PROMPTS[self.challenge]
        await self.tell("citizen", {"type": "prompt", "text": prompt})
        await self.tell("operator", {"type": "challenge", "text": prompt})
        frames: list[np.ndarray] = []
        deadline = time.monotonic() + CHALLENGE_SECONDS
        while time.monotonic() < deadline:
            img = self.citizen.video.image()
            if img is not None:
                frames.append(img)
            await asyncio.sleep(1 / CHALLENGE_FPS)
        await self.tell("citizen", {"type": "prompt", "text": "Grazie, può tornare a guardare lo schermo."})
        challenge = self.challenge
        verdict = await asyncio.to_thread(self._judge, challenge, frames)
        self.challenge = None
        await asyncio.to_thread(identification.record_liveness, self.services.app.db, self.call_id, verdict.passed,
                                actor=self.operator_name, challenge=challenge)
        return {"type": "liveness", "passed": verdict.passed, "text": verdict.reason, "left": self.challenges_left}

    @staticmethod
    def _judge(challenge: str, frames: list[np.ndarray]) -> liveness.Verdict:
        marks = liveness.landmarks_of(frames, faces.face_recognition())
        return liveness.judge(challenge, marks)

    def _address(self) -> str:
        from sqlalchemy import select

        from db.models import Request

        with self.services.app.db.session() as s:
            req = s.scalar(select(Request).where(Request.reference == self.reference))
            address = channel_address(req, self.services.channel)
        if not address:
            raise CallError("nel modulo manca il recapito a cui inviare il codice")
        return address

    async def send_code(self) -> dict:
        address = await asyncio.to_thread(self._address)
        proof = ChannelProof(self.services.gateway, address)
        try:
            await asyncio.to_thread(proof.send)
        except Exception as exc:  # noqa: BLE001 - the gateway's own error names no code
            raise CallError(f"codice non inviato ({type(exc).__name__}): riprova") from None
        self._proof = proof
        return {"type": "code_sent", "channel": proof.masked}

    async def check_code(self, said: str) -> dict:
        proof = self._proof
        if proof is None:
            raise CallError("invia prima il codice")
        ok = proof.check(said)
        left = proof._attempts_left
        if ok:
            self._proof = None
            await asyncio.to_thread(identification.record_channel, self.services.app.db, self.call_id, True,
                                    actor=self.operator_name, masked=proof.masked)
            return {"type": "code_checked", "ok": True, "left": left}
        if left <= 0:
            self._proof = None
            await asyncio.to_thread(identification.record_channel, self.services.app.db, self.call_id, False,
                                    actor=self.operator_name, masked=proof.masked)
            status = await asyncio.to_thread(identification.conclude, self.services.app.db, self.call_id,
                                             NEEDS_REVIEW, actor=self.operator_name,
                                             reason="codice di verifica non confermato dopo 3 tentativi")
            await self.tell("citizen", {"type": "ended", "text": ENDED_TEXT[status]})
            return {"type": "decided", "status": status, "text": "Tre tentativi falliti: la pratica va in revisione."}
        return {"type": "code_checked", "ok": False, "left": left}

    async def decide(self, decision: str, reason: str | None, supervisor: str | None) -> dict:
        status = await asyncio.to_thread(identification.conclude, self.services.app.db, self.call_id, decision,
                                         actor=self.operator_name, reason=reason, supervisor=supervisor,
                                         app=self.services.app)
        if status != IDENTIFIED:
            await self.tell("citizen", {"type": "ended", "text": ENDED_TEXT[status]})
        return {"type": "decided", "status": status}

    async def release(self) -> dict:
        if not self.citizen_present:
            raise CallError("il cittadino non è collegato: i codici si rilasciano solo durante la videochiamata")
        s = self.services
        out = await asyncio.to_thread(release, s.app.db, self.reference, actor=self.operator_name,
                                      issuer=s.issuer, gateway=s.gateway, channel=s.channel)
        self.released = True
        await self.tell("citizen", {"type": "ended", "text": ENDED_TEXT["released"].format(channel=out.channel)})
        return {"type": "released", "pin": out.pin_on_the_call, "puk": out.puk_on_the_call, "channel": out.channel}


ENDED_TEXT = {
    "identified": "Riconoscimento completato.",
    "released": ("Riconoscimento completato. L'operatore le legge ora le prime 2 cifre del PIN e del PUK; "
                 "le altre le arrivano a {channel}. Le scriva e non le comunichi a nessuno."),
    "needs_review": ("La videochiamata è conclusa. Un operatore deve completare la verifica: riceverà un'e-mail "
                     "con l'esito."),
    "rejected": "La videochiamata è conclusa: il riconoscimento non è riuscito. Riceverà un'e-mail con il motivo.",
}


class Rooms:
    """The calls under way on this node, by request reference."""

    def __init__(self, services: Services):
        self.services = services
        self._rooms: dict[str, Room] = {}

    def get(self, reference: str) -> Room:
        room = self._rooms.get(reference)
        if room is None:
            room = self._rooms[reference] = Room(reference, self.services)
        return room

    def peek(self, reference: str) -> Room | None:
        return self._rooms.get(reference)

    async def discard(self, reference: str) -> None:
        room = self._rooms.pop(reference, None)
        if room is not None:
            await room.close()

    async def close_all(self) -> None:
        for reference in list(self._rooms):
            await self.discard(reference)
