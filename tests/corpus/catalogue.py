"""Every case of the corpus, as a recipe: what the citizen sent and what the verdict must say.

A `Spec` changes one or two things from a complete, valid request; `codes`
are the finding codes (SPEC.md "Finding codes") the verdict must contain —
the status follows from their severities. Ids are stable: a failing case is
regenerated alone with `python -m tests.corpus.cli write DIR --case ID`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# How the documents were captured.
CAPTURES = ("phone", "heic", "scan", "scan_one_page", "tiff", "pdf")
# Captures a second hand brings (not in the rotation above): phone screenshots of the photos.
OTHER_CAPTURES = ("screenshot",)
# How the form came back (tests/corpus/form_copies.py).
FORM_COPIES = ("fillable", "flattened", "scanned", "scanned_pdf", "photographed", "photographed_blurred")
# Another office's fillable edition: its own layout, fonts and field names (tests/corpus/foreign_forms.py).
OTHER_FORM_COPIES = ("foreign_fillable",)


@dataclass(frozen=True)
class Spec:
    form_type: str | None  # None: no form sent
    description: str
    codes: frozenset[str] = frozenset()
    relationship: str | None = None
    holder_age: int | None = None
    holder_name: tuple[str, str] | None = None  # (surname, given names)
    holder_id: str = "cie"  # doc_type of the holder's identity document
    declarant_id: str = "cie"
    cns: str = "ts_cns"  # or ts_no_chip
    capture: str = "phone"
    form_copy: str = "fillable"
    variant: int = 0  # form layout
    signed: bool = True
    phone: bool = True  # the Cellulare field filled
    missing: tuple[str, ...] = ()  # slots not sent
    unreadable: tuple[tuple[str, str], ...] = ()  # (slot, "blurred" | "cut_off" | "low_res")
    expired: tuple[str, ...] = ()  # "holder_id", "declarant_id", "holder_cns"
    no_face: tuple[tuple[str, str], ...] = ()  # (person, "landscape" | "blank") on the ID photo
    form_holder_cf: str = "ok"  # ok | invalid (wrong check character) | other (another person's valid code)
    form_declarant_cf: str = "ok"
    form_holder_given_names: str | None = None  # written differently from the documents
    retitle: str | None = None  # the form's second title line replaced: a form we do not know
    extra: tuple[str, ...] = ()  # extra attachments the intake rejects: "exe", "docx"
    tags: tuple[str, ...] = field(default=())


def _c(*codes: str) -> frozenset[str]:
    return frozenset(codes)


def _ready() -> dict[str, Spec]:
    specs: dict[str, Spec] = {}
    # Each form type complete and valid in each capture style, with the form copies rotating.
    copies = {"phone": "fillable", "heic": "photographed", "scan": "scanned", "scan_one_page": "scanned_pdf",
              "tiff": "flattened", "pdf": "scanned"}
    relationships = {"delegate": ("spouse", "child", "sibling", "parent", "grandchild", "nephew_niece"),
                     "guardian": ("parent",) * 4 + ("guardian", "parent")}
    for form_type in ("direct", "delegate", "guardian"):
        for i, capture in enumerate(CAPTURES):
            relationship = relationships[form_type][i] if form_type != "direct" else None
            specs[f"{form_type}-ready-{capture}"] = Spec(
                form_type, f"{form_type} form, complete and valid; documents: {capture}; form: {copies[capture]}",
                relationship=relationship, capture=capture, form_copy=copies[capture], variant=i % 2,
            )
    for form_type in ("direct", "delegate", "guardian"):
        for copy in ("fillable", "flattened", "scanned", "photographed"):
            specs[f"{form_type}-ready-form-{copy}-v1"] = Spec(
                form_type, f"{form_type} form, layout variant 1, returned {copy}", form_copy=copy, variant=1,
                capture="scan" if copy == "photographed" else "phone",
            )
    delegate_more = ("grandparent", "uncle_aunt", "great_grandparent", "great_grandchild")
    for i, relationship in enumerate(delegate_more):
        specs[f"delegate-ready-{relationship}"] = Spec(
            "delegate", f"delegate form signed by a {relationship} (allowed, SPEC.md 'Delegation order')",
            relationship=relationship, capture=CAPTURES[i % 3], form_copy=FORM_COPIES[i % 4], variant=i % 2,
        )
    specs["guardian-ready-tutore-adult-ward"] = Spec(
        "guardian", "guardian form: a tutore for an adult ward", relationship="guardian", holder_age=54)
    specs["guardian-ready-tutore-minor"] = Spec(
        "guardian", "guardian form: a tutore for a minor", relationship="guardian", holder_age=9, capture="scan")
    specs["guardian-ready-toddler"] = Spec(
        "guardian", "guardian form for a 2-year-old (CIE valid 3 years)", relationship="parent", holder_age=2)
    specs["direct-ready-passport-phone"] = Spec("direct", "passport data page photographed (fills both ID slots)",
                                                holder_id="passport")
    specs["direct-ready-passport-scan"] = Spec("direct", "passport data page scanned", holder_id="passport",
                                               capture="scan", form_copy="scanned")
    specs["direct-ready-licence-phone"] = Spec("direct", "driving licence front and back photographed",
                                               holder_id="driving_licence")
    specs["direct-ready-licence-pdf"] = Spec("direct", "driving licence scanned to PDF", holder_id="driving_licence",
                                             capture="pdf", form_copy="flattened")
    specs["delegate-ready-declarant-passport"] = Spec(
        "delegate", "the declarant identifies with a passport", relationship="child", declarant_id="passport")
    specs["delegate-ready-declarant-licence"] = Spec(
        "delegate", "the declarant identifies with a driving licence", relationship="spouse",
        declarant_id="driving_licence", capture="scan")
    specs["direct-ready-apostrophe-accent"] = Spec(
        "direct", "name with apostrophe and accent: D'ANGELO NICOLÒ", holder_name=("D'Angelo", "Nicolò"))
    specs["direct-ready-double-surname"] = Spec(
        "direct", "double surname and two given names", holder_name=("De Luca Brambilla", "Maria Grazia"),
        capture="scan", form_copy="scanned")
    specs["direct-ready-long-name"] = Spec(
        "direct", "name longer than the TD1 MRZ line (truncated there)",
        holder_name=("Dell'Orto Sant'Ambrogio", "Carlo Alberto Giovanni"), form_copy="flattened")
    specs["direct-ready-attachment-exe"] = Spec(
        "direct", "complete, plus a Windows executable (rejected, info only)", codes=_c("attachment_rejected"),
        extra=("exe",))
    specs["delegate-ready-attachment-docx"] = Spec(
        "delegate", "complete, plus a Word document (unsupported, info only)", codes=_c("attachment_rejected"),
        relationship="spouse", extra=("docx",))
    # A second hand: another office's fillable form, phone screenshots.
    for form_type, relationship in (("direct", None), ("delegate", "spouse"), ("delegate", "grandchild"),
                                    ("guardian", "parent")):
        name = f"{form_type}-{relationship}" if relationship else form_type
        specs[f"{name}-ready-foreign-form"] = Spec(
            form_type, f"{form_type} form in another office's fillable edition (own layout and field names)",
            relationship=relationship, form_copy="foreign_fillable", tags=("second_hand",))
    specs["direct-ready-screenshot"] = Spec(
        "direct", "every side sent as a phone screenshot of its photo (PNG, black around)", capture="screenshot",
        form_copy="flattened", tags=("second_hand",))
    specs["delegate-ready-screenshot-foreign-form"] = Spec(
        "delegate", "screenshots and another office's fillable form", relationship="child", capture="screenshot",
        form_copy="foreign_fillable", tags=("second_hand",))
    return specs


def _defects() -> dict[str, Spec]:
    specs: dict[str, Spec] = {
        "form-missing": Spec(None, "documents only, no form", _c("form_missing")),
        "form-missing-scan": Spec(None, "documents scanned, no form", _c("form_missing"), capture="scan"),
        "form-type-unknown": Spec("direct", "a form whose second title line is none of the three",
                                  _c("form_type_unknown"), form_copy="scanned", retitle="MODULO DI RICHIESTA CODICI"),
        "form-unsigned-fillable": Spec("direct", "fillable form filled, signature box empty", _c("form_unsigned")),
        "form-unsigned-flattened": Spec("delegate", "printed to PDF, signature box empty", _c("form_unsigned"),
                                        relationship="spouse", form_copy="flattened"),
        "form-unsigned-scanned": Spec("guardian", "printed and scanned, never signed", _c("form_unsigned"),
                                      form_copy="scanned", variant=1),
        "phone-missing-fillable": Spec("direct", "Cellulare left empty", _c("phone_missing"), phone=False),
        "phone-missing-scanned": Spec("delegate", "Cellulare left empty on a scanned form", _c("phone_missing"),
                                      relationship="child", phone=False, form_copy="scanned"),
        "unreadable-form": Spec("direct", "the form photographed shaken: nothing legible", _c("unreadable_form"),
                                form_copy="photographed_blurred"),
    }
    for slot in ("holder_id_front", "holder_id_back", "holder_cns_front", "holder_cns_back"):
        specs[f"missing-{slot}"] = Spec("direct", f"{slot} not sent", _c(f"missing_{slot}"), missing=(slot,))
    for i, slot in enumerate(("declarant_id_front", "declarant_id_back")):
        specs[f"missing-{slot}"] = Spec(("delegate", "guardian")[i], f"{slot} not sent", _c(f"missing_{slot}"),
                                        relationship=("spouse", "parent")[i], missing=(slot,))
    specs["missing-declarant-id"] = Spec(
        "delegate", "the declarant's identity document not sent at all",
        _c("missing_declarant_id_front", "missing_declarant_id_back"), relationship="sibling",
        missing=("declarant_id_front", "declarant_id_back"))
    specs["missing-cns-both-sides"] = Spec(
        "direct", "no TS-CNS at all", _c("missing_holder_cns_front", "missing_holder_cns_back"),
        missing=("holder_cns_front", "holder_cns_back"), capture="scan")
    unreadable = (
        ("holder_id_front", "blurred", "direct", None),
        ("holder_id_back", "cut_off", "direct", None),
        ("holder_cns_front", "low_res", "direct", None),
        ("holder_cns_back", "blurred", "delegate", "spouse"),
        ("declarant_id_front", "cut_off", "delegate", "child"),
        ("declarant_id_back", "low_res", "guardian", "parent"),
        ("holder_cns_back", "cut_off", "direct", None),
        ("holder_id_front", "low_res", "guardian", "parent"),
    )
    for slot, style, form_type, relationship in unreadable:
        specs[f"unreadable-{slot}-{style}"] = Spec(
            form_type, f"{slot} {style.replace('_', ' ')}", _c(f"unreadable_{slot}"), relationship=relationship,
            unreadable=((slot, style),))
    specs.update({
        "expired-holder-cie": Spec("direct", "the holder's CIE expired", _c("expired_holder_id"),
                                   expired=("holder_id",)),
        "expired-holder-passport": Spec("direct", "the holder's passport expired", _c("expired_holder_id"),
                                        holder_id="passport", expired=("holder_id",), capture="scan"),
        "expired-holder-licence": Spec("delegate", "the holder's driving licence expired", _c("expired_holder_id"),
                                       relationship="spouse", holder_id="driving_licence", expired=("holder_id",)),
        "expired-declarant-id": Spec("delegate", "the declarant's CIE expired", _c("expired_declarant_id"),
                                     relationship="child", expired=("declarant_id",)),
        "expired-declarant-id-guardian": Spec("guardian", "the parent's CIE expired", _c("expired_declarant_id"),
                                              relationship="parent", expired=("declarant_id",), capture="tiff"),
        "expired-holder-cns": Spec("direct", "the TS-CNS expired", _c("expired_holder_cns"), expired=("holder_cns",)),
        "expired-holder-cns-scan": Spec("guardian", "the minor's TS-CNS expired", _c("expired_holder_cns"),
                                        relationship="parent", expired=("holder_cns",), capture="scan"),
        "paper-id-holder": Spec("direct", "paper identity card, not accepted since 2026-08-03",
                                _c("id_type_not_accepted_holder"), holder_id="paper_id"),
        "paper-id-holder-scan": Spec("delegate", "the holder's paper identity card, scanned",
                                     _c("id_type_not_accepted_holder"), relationship="spouse", holder_id="paper_id",
                                     capture="scan"),
        "paper-id-holder-expired": Spec("direct", "an expired paper ID: not accepted (the expiry no longer matters)",
                                        _c("id_type_not_accepted_holder"), holder_id="paper_id",
                                        expired=("holder_id",)),
        "paper-id-declarant": Spec("delegate", "the declarant's paper identity card",
                                   _c("id_type_not_accepted_declarant"), relationship="child", declarant_id="paper_id"),
        "paper-id-declarant-guardian": Spec("guardian", "the parent's paper identity card",
                                            _c("id_type_not_accepted_declarant"), relationship="parent",
                                            declarant_id="paper_id", capture="pdf"),
        "ts-without-chip": Spec("direct", "a Tessera Sanitaria issued without chip", _c("cns_without_chip"),
                                cns="ts_no_chip"),
        "ts-without-chip-scan": Spec("delegate", "a TS without chip, scanned", _c("cns_without_chip"),
                                     relationship="spouse", cns="ts_no_chip", capture="scan"),
        "cf-invalid-holder": Spec("direct", "holder's codice fiscale on the form: wrong check character",
                                  _c("cf_invalid"), form_holder_cf="invalid"),
        "cf-invalid-declarant": Spec("delegate", "declarant's codice fiscale on the form: wrong check character",
                                     _c("cf_invalid"), relationship="spouse", form_declarant_cf="invalid"),
        "cf-mismatch-form": Spec("direct", "the form carries another valid codice fiscale than the cards",
                                 _c("cf_mismatch"), form_holder_cf="other", form_copy="flattened"),
        "cf-mismatch-scanned": Spec("guardian", "a scanned form with another valid codice fiscale",
                                    _c("cf_mismatch"), relationship="parent", form_holder_cf="other",
                                    form_copy="scanned"),
        "name-mismatch": Spec("direct", "the form's given name differs from the documents'", _c("name_mismatch"),
                              form_holder_given_names="*other*"),
        "minor-direct-form": Spec("direct", "a 16-year-old signs the direct form himself",
                                  _c("holder_minor_needs_guardian_form"), holder_age=16),
        "minor-delegate-form": Spec("delegate", "a parent uses the delegate form for a minor",
                                    _c("holder_minor_needs_guardian_form"), relationship="parent", holder_age=11),
        "relationship-cousin": Spec("delegate", "a cousin (4th degree) signs the delegate form",
                                    _c("delegate_relationship_not_allowed"), relationship="cousin"),
        "relationship-other": Spec("delegate", "'altro' ticked on the delegate form",
                                   _c("delegate_relationship_not_allowed"), relationship="other", form_copy="scanned"),
        "relationship-sibling-guardian": Spec("guardian", "a sibling signs the guardian form",
                                              _c("delegate_relationship_not_allowed"), relationship="sibling",
                                              holder_age=15),
        "face-not-found-holder-landscape": Spec("direct", "the holder's CIE photo area shows a landscape",
                                                _c("face_not_found_holder_id"), no_face=(("holder", "landscape"),)),
        "face-not-found-holder-blank": Spec("direct", "the holder's licence photo area is blank",
                                            _c("face_not_found_holder_id"), holder_id="driving_licence",
                                            no_face=(("holder", "blank"),), capture="scan"),
        "face-not-found-declarant": Spec("delegate", "the declarant's CIE photo area shows a landscape",
                                         _c("face_not_found_declarant_id"), relationship="spouse",
                                         no_face=(("declarant", "landscape"),)),
        "face-not-found-declarant-passport": Spec("guardian", "the parent's passport photo area is blank",
                                                  _c("face_not_found_declarant_id"), relationship="parent",
                                                  declarant_id="passport", no_face=(("declarant", "blank"),)),
        "unsigned-and-no-cns-back": Spec("direct", "two problems: unsigned form, TS back missing",
                                         _c("form_unsigned", "missing_holder_cns_back"), signed=False,
                                         missing=("holder_cns_back",)),
        "expired-id-and-no-phone": Spec("delegate", "two problems: expired holder CIE, no mobile number",
                                        _c("expired_holder_id", "phone_missing"), relationship="child",
                                        expired=("holder_id",), phone=False),
        "no-chip-and-blurred-id": Spec("direct", "TS without chip and the ID front blurred",
                                       _c("cns_without_chip", "unreadable_holder_id_front"), cns="ts_no_chip",
                                       unreadable=(("holder_id_front", "blurred"),)),
        "rejected-and-missing": Spec("direct", "an executable attached and the ID back missing",
                                     _c("attachment_rejected", "missing_holder_id_back"), extra=("exe",),
                                     missing=("holder_id_back",)),
    })
    # The form_unsigned defect needs signed=False; the spec above says so by code.
    for case_id, spec in specs.items():
        if "form_unsigned" in spec.codes and spec.signed:
            specs[case_id] = _replace(spec, signed=False)
    return specs


def _replace(spec: Spec, **changes) -> Spec:
    from dataclasses import replace

    return replace(spec, **changes)


CATALOGUE: dict[str, Spec] = {**_ready(), **_defects()}
