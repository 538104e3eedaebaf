"""What the readers return, before slots are assigned.

A reader looks at one page or image and says what is on it: a form
(`FormReading`) and/or identity cards (`CardReading`). Which slot a card
fills — and so whose it is, holder or declarant — is decided afterwards for
the whole request (verification.assemble), by matching names and codici
fiscali against the form and each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from verification.evidence import DocType, FormEvidence, SourceRef
from verification.mrz.text import MrzData

Side = Literal["front", "back", "data_page"]


@dataclass(frozen=True)
class CardReading:
    """One side of one document found on a page (a passport's data page is side "data_page").

    region: (x, y, w, h) of the card in the page image as loaded (after EXIF
    orientation), for the operator to look at. Fields the reader could not
    read are None; `readable=False` means the side is there but too blurred,
    too small or cut off to be checked (`unreadable_reason` says which).
    """

    doc_type: DocType | None
    side: Side | None
    source: SourceRef
    region: tuple[int, int, int, int] | None = None
    readable: bool = True
    unreadable_reason: str | None = None
    number: str | None = None
    issue_date: date | None = None
    expiry: date | None = None
    surname: str | None = None
    given_names: str | None = None
    birth_date: date | None = None
    codice_fiscale: str | None = None
    cf_sources: dict[str, str] = field(default_factory=dict)
    mrz: MrzData | None = None
    has_chip: bool | None = None
    face_count: int | None = None
    # Anything else read, for the operator (e.g. {"ts_card_number": "8038000…"}).
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FormReading:
    """A request form as read from one file (all its pages)."""

    source: SourceRef
    evidence: FormEvidence
    method: Literal["fields", "text", "ocr"]
    readable: bool = True
    unreadable_reason: str | None = None
    # Label -> raw value as read, for the operator.
    raw_fields: dict[str, str] = field(default_factory=dict)
