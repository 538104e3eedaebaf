"""Reading a form by its labels: sections, label positions and the value written after each.

Works on positioned words from any source (PDF text layer, OCR). The form's
sections (SPEC.md "The three forms") bound where each label is looked for —
"Cognome" is the holder's under DATI DEL TITOLARE and the declarant's under
DATI DEL DICHIARANTE; within a section the labels are assigned best match
first, so a slightly garbled "Nome" never takes the "Cognome" line. A value
is the words right of its label, up to the next label on the line; when there
are none, the words just below the label, within its column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median

from verification.forms import layout as forms
from verification.evidence import FormEvidence, PersonFields
from verification.images.boxes import Box
from verification.forms.text import (
    Hit,
    Line,
    clean_value,
    find_phrase,
    fold_words,
    group_lines,
    label_hits,
    parse_card_number,
    parse_cf,
    parse_date,
    parse_email,
    parse_name,
    parse_phone,
)

DECLARATION_START = "Il/La sottoscritto/a"
_SIGNATURE_PHRASES = tuple(dict.fromkeys(forms.SIGNATURE_LABELS.values()))


@dataclass
class LabelledForm:
    """What the labels gave: raw values by field name, and where the labels are (for boxes and ink)."""

    form_type: str
    lines: list[Line]
    values: dict[str, str] = field(default_factory=dict)  # forms.py field name -> raw value
    value_boxes: dict[str, list[Box]] = field(default_factory=dict)  # the words each value was read from
    # Where each field's value is written (read or not): its line, from the label's column to the next label.
    value_regions: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    labels: dict[str, Hit] = field(default_factory=dict)  # field name -> its label
    relationship_labels: dict[str, Hit] = field(default_factory=dict)  # "spouse" -> the "coniuge" label
    signature_label: Hit | None = None
    word_height: float = 0.0

    def raw_fields(self) -> dict[str, str]:
        return raw_fields_of(self.values)


def raw_fields_of(values: dict[str, str]) -> dict[str, str]:
    """SPEC label → value as read, for the operator ("Cognome (dichiarante)": "Bianchi")."""
    out = {}
    for name, value in values.items():
        label = _LABEL_OF.get(name, name)
        if name.startswith("declarant_"):
            label += " (dichiarante)"
        out[label] = value
    return out


_LABEL_OF = {
    name: label
    for name, label in (*forms.HOLDER_FIELDS, *forms.DECLARANT_FIELDS, *forms.CONTACT_FIELDS,
                        (forms.PLACE_DATE_FIELD, forms.PLACE_DATE_LABEL))
}


def guess_sections(text: str) -> str:
    """With no readable second title: read the declarant's section if the form has one."""
    return "delegate" if find_phrase(fold_words(text), forms.DECLARANT_SECTION) else "direct"


def _sections(form_type: str) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    sections = [(forms.HOLDER_SECTION, forms.HOLDER_FIELDS)]
    if forms.has_declarant(form_type):
        relationship = tuple((forms.RELATIONSHIP_PREFIX + v, label) for v, label in forms.RELATIONSHIP_LABELS.items())
        sections.append((forms.DECLARANT_SECTION, (*forms.DECLARANT_FIELDS, *relationship)))
    sections.append((forms.CONTACT_SECTION, forms.CONTACT_FIELDS))
    return sections


def _header_lines(lines: list[Line], form_type: str) -> list[int | None]:
    """The line of each section header, in order; None where it could not be read."""
    found, start = [], 0
    for header, _ in _sections(form_type):
        hits = [h for _, h in label_hits(lines, header, start) if h.first <= 1]
        hit = min(hits, key=lambda h: h.line) if hits else None
        found.append(hit.line if hit else None)
        if hit:
            start = hit.line + 1
    return found


def _assign(lines: list[Line], labels: tuple[tuple[str, str], ...], first: int, last: int, taken: set) -> dict:
    """Labels to hits within lines [first, last): best ratio first, each word used once."""
    candidates = []
    for name, phrase in labels:
        for ratio, hit in label_hits(lines, phrase, first, last):
            candidates.append((ratio, len("".join(fold_words(phrase))), name, hit))
    # Letters matched, not the ratio alone: "fratello o sorella" inside the nephew/niece label must
    # go to that longer label, not to "fratello/sorella".
    candidates.sort(key=lambda c: (-c[0] * c[1], c[3].line, c[3].x0))
    out: dict[str, Hit] = {}
    for _, _, name, hit in candidates:
        span = {(hit.line, i) for i in range(hit.first, hit.end)}
        if name in out or span & taken:
            continue
        out[name] = hit
        taken |= span
    return out


def read_labels(boxes: list[Box], form_type: str) -> LabelledForm:
    """Find every label of `form_type`'s sections and the value after it."""
    lines = group_lines([b for b in boxes if b.text.strip()])
    heights = [w.height for line in lines for w in line.words]
    result = LabelledForm(form_type, lines, word_height=median(heights) if heights else 0.0)
    headers = _header_lines(lines, form_type)
    end_of_form = _end_line(lines, headers)
    taken: set = set()
    previous_end = 0
    hits: dict[str, Hit] = {}
    for i, (_, labels) in enumerate(_sections(form_type)):
        first = headers[i] + 1 if headers[i] is not None else previous_end
        later = [h for h in headers[i + 1 :] if h is not None]
        last = later[0] if later else end_of_form
        found = _assign(lines, labels, first, last, taken)
        hits |= found
        previous_end = max([h.line + 1 for h in found.values()], default=first)
    # After the declaration: place and date (the signature box is found apart).
    hits |= _assign(lines, ((forms.PLACE_DATE_FIELD, forms.PLACE_DATE_LABEL),), end_of_form, len(lines), taken)
    result.signature_label = _signature_label(lines, headers)
    stops = list(hits.values()) + [_header_hit(lines, h) for h in headers if h is not None]
    stops += [result.signature_label] if result.signature_label else []
    page_right = max((b.x1 for line in lines for b in line.boxes), default=0.0)
    places = {}
    for name, hit in hits.items():
        if name.startswith(forms.RELATIONSHIP_PREFIX):
            result.relationship_labels[name.removeprefix(forms.RELATIONSHIP_PREFIX)] = hit
            continue
        result.labels[name] = hit
        value, words, place = _value_of(lines, hit, stops, result.word_height)
        if value:
            result.values[name] = value
            result.value_boxes[name] = words
            places[name] = place
    # Values sit right of their labels or below them, the same way all over one layout.
    below = sum(p == "below" for p in places.values()) > len(places) / 2
    for name, hit in result.labels.items():
        column_end = min([s.x0 for s in stops if s.line == hit.line and s.x0 > hit.x1], default=page_right)
        h = max(hit.height, result.word_height)
        words = result.value_boxes.get(name)
        if words:
            top, bottom = min(w.top for w in words), max(w.bottom for w in words)
        else:
            top, bottom = (hit.bottom, hit.bottom + 2.6 * h) if below else (hit.top, hit.bottom)
        if places.get(name, "below" if below else "right") == "below":
            x0 = hit.x0 - h
        else:  # never back into the label's own letters
            x0 = hit.x1 + 0.6 * h
        if words:
            x0 = max(x0, min(w.x0 for w in words) - h)
        result.value_regions[name] = (x0, top, column_end, bottom)
    return result


def _header_hit(lines: list[Line], index: int) -> Hit:
    words = lines[index].words
    return Hit(index, 0, len(words), min(w.x0 for w in words), lines[index].top,
               max(w.x1 for w in words), lines[index].bottom)


def _end_line(lines: list[Line], headers: list[int | None]) -> int:
    """Where the declaration text starts: nothing after it is a field (bar place, date and signature)."""
    start = max([h for h in headers if h is not None], default=0)
    hits = [h for _, h in label_hits(lines, DECLARATION_START, start) if h.first == 0]
    return min(h.line for h in hits) if hits else len(lines)


def _signature_label(lines: list[Line], headers: list[int | None]) -> Hit | None:
    start = max([h for h in headers if h is not None], default=0)
    best = None
    for phrase in _SIGNATURE_PHRASES:
        for ratio, hit in label_hits(lines, phrase, start):
            if best is None or ratio > best[0]:
                best = (ratio, hit)
    return best[1] if best else None


def _value_of(lines: list[Line], hit: Hit, stops: list[Hit], word_height: float) -> tuple[str, list[Box], str]:
    """The words right of the label on its line, else those just below it in its column.

    Returns (value, its words, "right" or "below"); an empty value when there is none.
    """
    line = lines[hit.line]
    right_stops = [s.x0 for s in stops if s.line == hit.line and s.x0 > hit.x1]
    column_end = min(right_stops, default=float("inf"))
    h = max(hit.height, word_height)
    right = [b for b in line.boxes if (b.x0 + b.x1) / 2 > hit.x1 and b.x1 <= column_end + h]
    value = clean_value(" ".join(b.text for b in right))
    if value:
        return value, right, "right"
    # Below: the next line, if it starts within a line height and holds no label in this column.
    for index in range(hit.line + 1, min(hit.line + 3, len(lines))):
        below = lines[index]
        if below.top - hit.bottom > 1.6 * h:
            break
        column = [b for b in below.boxes if hit.x0 - 2 * h <= (b.x0 + b.x1) / 2 < column_end]
        if not column:
            continue
        if any(s.line == index and s.x1 > hit.x0 - h and s.x0 < column_end for s in stops):
            break
        return clean_value(" ".join(b.text for b in column)), column, "below"
    return "", [], ""


def evidence_from_values(
    form_type: str | None,
    values: dict[str, str],
    relationship: str | None,
    *,
    signed: bool,
    signature_kind: str | None,
    signer_cf: str | None = None,
) -> FormEvidence:
    """The typed evidence from raw values keyed by verification.forms.layout field names."""

    def person(role: str) -> PersonFields:
        return PersonFields(
            surname=parse_name(values.get(f"{role}_surname")),
            given_names=parse_name(values.get(f"{role}_given_names")),
            codice_fiscale=parse_cf(values.get(f"{role}_codice_fiscale")),
            birth_date=parse_date(values.get(f"{role}_birth_date")),
            birth_place=parse_name(values.get(f"{role}_birth_place")),
        )

    has_declarant = form_type in ("delegate", "guardian") or any(k.startswith("declarant_") for k in values)
    return FormEvidence(
        form_type=form_type,
        holder=person("holder"),
        declarant=person("declarant") if has_declarant else None,
        relationship=relationship if has_declarant else None,
        phone=parse_phone(values.get("phone")),
        email=parse_email(values.get("email")),
        signed=signed,
        signature_kind=signature_kind if signed else None,
        signer_cf=signer_cf,
        ts_card_number=parse_card_number(values.get("holder_card_number")),
        ts_expiry=parse_date(values.get("holder_card_expiry")),
    )
