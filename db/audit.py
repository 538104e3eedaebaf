"""The event log as hash chains: each event carries the hash of the one before it.

One chain per request (its head, the last seq and hash, sits on the request
row) and one for the events of no request (logins, accounts: the
`audit_heads` row "global"). Appending takes the head with one
`UPDATE … RETURNING`, so the row lock that orders a request's events is the
request's own row — the one every status change already locks — and no
second lock can deadlock with it.

`verify` recomputes every chain and names the first event that was changed
(its hash no longer matches what it says), removed (a seq missing, or the
head further on than the last event) or inserted (no seq, a seq taken twice,
or a link to a predecessor that is not the one before it).

Without a secret key the chain shows tampering by anyone who edits rows
without recomputing every later hash; someone who rewrites the whole chain
and the heads is not detected (a keyed HMAC or an external anchor would be
the next step).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, Integer, String, column, select, table, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

GENESIS = "0" * 64
GLOBAL = "global"


def _when(at: datetime | None) -> str:
    """`at` as UTC without zone: SQLite gives naive datetimes back, PostgreSQL aware ones."""
    if at is None:
        return ""
    if at.tzinfo is not None:
        at = at.astimezone(timezone.utc).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


def event_hash(prev_hash: str, *, seq: int, request_id: int | None, at: datetime | None, actor: str, kind: str,
               from_status: str | None, to_status: str | None, detail: dict | None) -> str:
    body = json.dumps(
        {"seq": seq, "request": request_id, "at": _when(at), "actor": actor, "kind": kind, "from": from_status,
         "to": to_status, "detail": detail or {}},
        sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


# Only the columns the chain reads and writes: the same code serves the running
# application and migration 0003, whatever columns later migrations add.
_EVENTS = table("events", column("id", Integer), column("request_id", Integer), column("at", DateTime(timezone=True)),
                column("actor", String), column("kind", String), column("from_status", String),
                column("to_status", String), column("detail", JSON), column("seq", Integer),
                column("prev_hash", String), column("hash", String))
_REQUESTS = table("requests", column("id", Integer), column("audit_seq", Integer), column("audit_hash", String))
_HEADS = table("audit_heads", column("name", String), column("seq", Integer), column("hash", String))


def _tables():
    return _EVENTS, _REQUESTS, _HEADS


def _take_head(conn: Connection, request_id: int | None) -> tuple[int, str]:
    """The next seq of the chain and the hash it links to; locks the head until commit."""
    events, requests, heads = _tables()
    if request_id is not None:
        row = conn.execute(
            update(requests).where(requests.c.id == request_id)
            .values(audit_seq=requests.c.audit_seq + 1).returning(requests.c.audit_seq, requests.c.audit_hash)
        ).one()
    else:
        row = conn.execute(
            update(heads).where(heads.c.name == GLOBAL).values(seq=heads.c.seq + 1).returning(heads.c.seq, heads.c.hash)
        ).one_or_none()
        if row is None:
            conn.execute(heads.insert().values(name=GLOBAL, seq=1, hash=GENESIS))
            row = (1, GENESIS)
    return row[0], row[1] or GENESIS


def _set_head(conn: Connection, request_id: int | None, digest: str) -> None:
    events, requests, heads = _tables()
    if request_id is not None:
        conn.execute(update(requests).where(requests.c.id == request_id).values(audit_hash=digest))
    else:
        conn.execute(update(heads).where(heads.c.name == GLOBAL).values(hash=digest))


def chain(session: Session, event) -> None:
    """Give a new Event (not yet flushed) its place in its chain: seq, prev_hash, hash."""
    request = event.request
    if request is not None and request.id is None:
        session.flush()  # the request's row must exist to hold its chain's head
    request_id = request.id if request is not None else None
    conn = session.connection()
    seq, prev = _take_head(conn, request_id)
    event.request_id = request_id
    event.seq, event.prev_hash = seq, prev
    event.hash = event_hash(prev, seq=seq, request_id=request_id, at=event.at, actor=event.actor, kind=event.kind,
                            from_status=event.from_status, to_status=event.to_status, detail=event.detail)
    _set_head(conn, request_id, event.hash)


@dataclass(frozen=True)
class Break:
    event_id: int | None
    what: str  # "changed" | "removed" | "inserted"
    explanation: str

    def __str__(self) -> str:
        who = f"event {self.event_id}" if self.event_id is not None else "the log"
        return f"{who}: {self.what} ({self.explanation})"


def verify(conn: Connection) -> list[Break]:
    """Every chain checked; the breaks found, the first of each chain, in event order."""
    events, requests, heads = _tables()
    rows = conn.execute(select(events).order_by(events.c.request_id, events.c.seq, events.c.id)).mappings().all()
    by_chain: dict[int | None, list] = {}
    for row in rows:
        by_chain.setdefault(row["request_id"], []).append(row)
    tips = {r.id: (r.audit_seq or 0, r.audit_hash or GENESIS)
            for r in conn.execute(select(requests.c.id, requests.c.audit_seq, requests.c.audit_hash))}
    global_head = conn.execute(select(heads.c.seq, heads.c.hash).where(heads.c.name == GLOBAL)).one_or_none()
    tips[None] = (global_head[0], global_head[1]) if global_head else (0, GENESIS)
    breaks = []
    for request_id in sorted(set(by_chain) | set(tips), key=lambda k: (k is not None, k or 0)):
        found = _verify_chain(by_chain.get(request_id, []), *tips.get(request_id, (0, GENESIS)))
        if found is not None:
            breaks.append(found)
    return sorted(breaks, key=lambda b: b.event_id if b.event_id is not None else 1 << 62)


def _verify_chain(rows: list, head_seq: int, head_hash: str) -> Break | None:
    unchained = [r for r in rows if r["seq"] is None]
    if unchained:
        return Break(unchained[0]["id"], "inserted", "it has no place in the chain")
    expected, prev_hash, prev_id = 1, GENESIS, None
    for row in rows:
        if row["seq"] < expected:
            return Break(row["id"], "inserted", f"seq {row['seq']} is taken by event {prev_id}")
        if row["seq"] > expected:
            missing = f"seq {expected}" if row["seq"] == expected + 1 else f"seq {expected}-{row['seq'] - 1}"
            return Break(row["id"], "removed", f"{missing} missing before it")
        recomputed = event_hash(row["prev_hash"] or "", seq=row["seq"], request_id=row["request_id"], at=row["at"],
                                actor=row["actor"], kind=row["kind"], from_status=row["from_status"],
                                to_status=row["to_status"], detail=row["detail"])
        if recomputed != row["hash"]:
            return Break(row["id"], "changed", "its content does not match its hash")
        if row["prev_hash"] != prev_hash:
            return Break(row["id"], "inserted", "it does not link to the event before it"
                         + (f" ({prev_id})" if prev_id else ""))
        expected, prev_hash, prev_id = row["seq"] + 1, row["hash"], row["id"]
    if head_seq != expected - 1 or (head_seq and head_hash != prev_hash):
        return Break(prev_id, "removed", f"the chain's head is at seq {head_seq}, its last event at seq {expected - 1}")
    return None


def chain_existing(conn: Connection) -> int:
    """Chain the events written before the chain existed (migration 0003), in id order."""
    events, requests, heads = _tables()
    tips: dict[int | None, tuple[int, str]] = {}
    count = 0
    for row in conn.execute(select(events).where(events.c.seq.is_(None)).order_by(events.c.id)).mappings().all():
        seq, prev = tips.get(row["request_id"], (0, GENESIS))
        seq += 1
        digest = event_hash(prev, seq=seq, request_id=row["request_id"], at=row["at"], actor=row["actor"],
                            kind=row["kind"], from_status=row["from_status"], to_status=row["to_status"],
                            detail=row["detail"])
        conn.execute(update(events).where(events.c.id == row["id"]).values(seq=seq, prev_hash=prev, hash=digest))
        tips[row["request_id"]] = (seq, digest)
        count += 1
    tips.setdefault(None, (0, GENESIS))  # the global head exists from the start: no race to create it
    for request_id, (seq, digest) in tips.items():
        if request_id is None:
            conn.execute(heads.delete().where(heads.c.name == GLOBAL))
            conn.execute(heads.insert().values(name=GLOBAL, seq=seq, hash=digest))
        else:
            conn.execute(update(requests).where(requests.c.id == request_id).values(audit_seq=seq, audit_hash=digest))
    return count
