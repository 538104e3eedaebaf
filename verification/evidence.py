"""What reading a request produced: the typed input of the verification rules.

The reader (classification, text layer, OCR, barcodes, faces) builds these;
the rules only look at them. Everything is plain data: no image, no clock —
`RequestEvidence.today` is the date every validity check uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from verification.mrz.text import MrzData

# SPEC.md "Document slots".
SLOTS = (
    "form",
    "holder_id_front",
    "holder_id_back",
    "holder_cns_front",
    "holder_cns_back",
    "declarant_id_front",
    "declarant_id_back",
)
# SPEC.md "Command line", export record: doc_type.
DOC_TYPES = ("cie", "paper_id", "passport", "driving_licence", "ts_cns", "ts_no_chip", "form")
ID_DOC_TYPES = ("cie", "paper_id", "passport", "driving_licence")
FORM_TYPES = ("direct", "delegate", "guardian")
# SPEC.md "Command line": relationship values. The delegation order reaches the
# first ten, up to great_grandchild (verification.rules.eligibility).
RELATIONSHIPS = (
    "spouse",
    "child",
    "parent",
    "sibling",
    "grandparent",
    "grandchild",
    "uncle_aunt",
    "nephew_niece",
    "great_grandparent",
    "great_grandchild",
    "cousin",
    "guardian",
    "other",
)

Slot = Literal[
    "form",
    "holder_id_front",
    "holder_id_back",
    "holder_cns_front",
    "holder_cns_back",
    "declarant_id_front",
    "declarant_id_back",
]
DocType = Literal["cie", "paper_id", "passport", "driving_licence", "ts_cns", "ts_no_chip", "form"]
FormType = Literal["direct", "delegate", "guardian"]
Person = Literal["holder", "declarant"]


@dataclass(frozen=True)
class SourceRef:
    """Where a page came from: the attachment's file name and the page in it (1-based)."""

    filename: str
    page: int = 1


@dataclass(frozen=True)
class DocumentEvidence:
    """One document side (or a passport's data page) as read.

    `codice_fiscale` is the reader's best value; `cf_sources` keeps every
    value read, by where it was read: "front_text", "back_text", "barcode",
    "ehic_field6" (the TS back, field 6), "form_field". `mrz` is set when an
    MRZ was found, valid or not. `face_count` counts clear faces on the photo
    (not the CIE's small ghost image); None when not looked for.
    """

    slot: Slot
    doc_type: DocType | None = None
    source: SourceRef | None = None
    readable: bool = True
    unreadable_reason: str | None = None  # "blurred", "too_small", "cut_off", …
    number: str | None = None
    issue_date: date | None = None
    expiry: date | None = None
    surname: str | None = None
    given_names: str | None = None
    birth_date: date | None = None
    codice_fiscale: str | None = None
    cf_sources: dict[str, str] = field(default_factory=dict)
    mrz: MrzData | None = None
    has_chip: bool | None = None  # TS-CNS front: the contact plate is there
    face_count: int | None = None

    @property
    def person(self) -> Person | None:
        """Whose document this is, from the slot."""
        if self.slot.startswith("holder_"):
            return "holder"
        if self.slot.startswith("declarant_"):
            return "declarant"
        return None


@dataclass(frozen=True)
class PersonFields:
    """A person as written in the form."""

    surname: str | None = None
    given_names: str | None = None
    codice_fiscale: str | None = None
    birth_date: date | None = None
    birth_place: str | None = None


@dataclass(frozen=True)
class FormEvidence:
    """The request form as read (fillable fields, text layer or OCR of a paper copy)."""

    form_type: FormType | None
    holder: PersonFields = field(default_factory=PersonFields)
    declarant: PersonFields | None = None
    relationship: str | None = None  # one of RELATIONSHIPS
    phone: str | None = None
    email: str | None = None
    signed: bool = False
    signature_kind: Literal["ink", "digital"] | None = None
    signer_cf: str | None = None  # from the digital signature's certificate
    ts_card_number: str | None = None
    ts_expiry: date | None = None
    read_by_ocr: bool = False  # a paper copy's picture: its values are OCR's reading of print or handwriting


@dataclass(frozen=True)
class RejectedAttachment:
    filename: str
    reason: str  # "unsafe", "oversized", "unsupported", …


@dataclass(frozen=True)
class RequestEvidence:
    """Everything the rules look at for one request.

    `paper_id_invalid_from` is the setting for EU Reg. 2019/1157 art. 5(2)(a)
    (2026-08-03). A passport's data page fills both `*_id_front` and
    `*_id_back`: the reader may put it in either; `in_slot` sees it in both.
    """

    today: date
    form: FormEvidence | None = None
    documents: tuple[DocumentEvidence, ...] = ()
    rejected_attachments: tuple[RejectedAttachment, ...] = ()
    paper_id_invalid_from: date = date(2026, 8, 3)
    # Notes of content intake or reading could not take in (a part not read, a limit reached).
    content_lost: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Accept lists (and (filename, reason) pairs) from callers; store tuples.
        object.__setattr__(self, "documents", tuple(self.documents))
        object.__setattr__(self, "content_lost", tuple(self.content_lost))
        object.__setattr__(
            self,
            "rejected_attachments",
            tuple(
                r if isinstance(r, RejectedAttachment) else RejectedAttachment(*r) for r in self.rejected_attachments
            ),
        )

    def in_slot(self, slot: str) -> tuple[DocumentEvidence, ...]:
        """The documents filling `slot`, readable or not; a passport fills front and back."""
        twin = _PASSPORT_TWIN.get(slot)
        return tuple(
            d
            for d in self.documents
            if d.slot == slot or (twin is not None and d.slot == twin and d.doc_type == "passport")
        )

    def readable_in_slot(self, slot: str) -> tuple[DocumentEvidence, ...]:
        return tuple(d for d in self.in_slot(slot) if d.readable)

    def slot_state(self, slot: str) -> Literal["missing", "unreadable", "ok"]:
        """`unreadable` only when no copy of that side can be read: one good copy is enough."""
        documents = self.in_slot(slot)
        if not documents:
            return "missing"
        return "ok" if any(d.readable for d in documents) else "unreadable"

    def id_documents(self, person: str, readable_only: bool = True) -> tuple[DocumentEvidence, ...]:
        """Both sides of that person's identity document."""
        slots = (f"{person}_id_front", f"{person}_id_back")
        return tuple(d for d in self.documents if d.slot in slots and (d.readable or not readable_only))

    def cns_documents(self, readable_only: bool = True) -> tuple[DocumentEvidence, ...]:
        return tuple(
            d
            for d in self.documents
            if d.slot in ("holder_cns_front", "holder_cns_back") and (d.readable or not readable_only)
        )

    @property
    def form_type(self) -> str | None:
        return self.form.form_type if self.form else None

    @property
    def form_readable(self) -> bool:
        """False when every page classified as the form is unreadable."""
        return self.slot_state("form") != "unreadable"

    @property
    def has_declarant(self) -> bool:
        """Delegate and guardian forms have a declarant besides the holder."""
        return self.form_type in ("delegate", "guardian")


_PASSPORT_TWIN = {
    "holder_id_front": "holder_id_back",
    "holder_id_back": "holder_id_front",
    "declarant_id_front": "declarant_id_back",
    "declarant_id_back": "declarant_id_front",
}
