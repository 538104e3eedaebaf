"""Which request a message belongs to: the clues a message carries.

Pure functions over header and body text; the lookups happen in the caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from config.settings import PROVINCES

REFERENCE_RE = re.compile(r"\bSR-(?:%s)-\d{4}-\d{6}\b" % "|".join(PROVINCES))
# Our mails carry this line in the body: providers may rewrite Message-IDs,
# but a citizen's reply usually quotes the text.
MARKER_PREFIX = "Codice pratica:"
MARKER_RE = re.compile(re.escape(MARKER_PREFIX) + r"\s*(SR-[A-Z]{2}-\d{4}-\d{6})")


def marker_line(reference: str) -> str:
    return f"{MARKER_PREFIX} {reference}"


@dataclass(frozen=True)
class ThreadClues:
    subject_references: tuple[str, ...]
    message_ids: tuple[str, ...]  # In-Reply-To first, then References, newest first
    body_references: tuple[str, ...]


def clues(subject: str | None, in_reply_to: str | None, references: list[str], body: str | None) -> ThreadClues:
    ids: list[str] = []
    for mid in ([in_reply_to] if in_reply_to else []) + list(reversed(references or [])):
        mid = mid.strip()
        if mid and mid not in ids:
            ids.append(mid)
    body = body or ""
    body_refs = MARKER_RE.findall(body) + REFERENCE_RE.findall(body)
    return ThreadClues(
        subject_references=tuple(dict.fromkeys(REFERENCE_RE.findall(subject or ""))),
        message_ids=tuple(ids),
        body_references=tuple(dict.fromkeys(body_refs)),
    )
