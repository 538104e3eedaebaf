"""Comparing people's names as written on forms, cards and MRZs.

The same name reaches us as "D'Angelo Maria Rosa", "DANGELO<<MARIA<ROSA",
"DE ANGELIS-ROSSI" or "NICOLO'": accents, apostrophes, hyphens, case and
word order vary, double surnames and second given names come and go, and
the MRZ truncates long names. Two names are compatible when one could be
the other written differently; telling people apart is the codice
fiscale's job, not this module's.
"""

from __future__ import annotations

import re
import unicodedata


def name_tokens(text: str | None) -> tuple[str, ...]:
    """Upper-case words without accents or apostrophes: "D'Angelo-Rossi" → ("DANGELO", "ROSSI")."""
    text = unicodedata.normalize("NFKD", (text or "").upper())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"['’`´]", "", text)  # D'ANGELO = DANGELO; NICOLO' = NICOLÒ
    return tuple(word for word in re.split(r"[^A-Z]+", text) if word)  # "<", "-", " " all separate


def _word_match(a: str, b: str, allow_prefix: bool) -> bool:
    if a == b:
        return True
    # The MRZ truncates the names that do not fit, down to an initial (ICAO 9303 part 3, 4.6).
    return allow_prefix and (a.startswith(b) or b.startswith(a))


def _part_compatible(a: tuple[str, ...], b: tuple[str, ...], allow_prefix: bool) -> bool:
    """Same words run together ("DE LUCA" = "DELUCA"), or one set of words within the other."""
    if not a or not b:
        return False
    if "".join(a) == "".join(b):
        return True
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    return all(any(_word_match(s, w, allow_prefix) for w in longer) for s in shorter)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _close(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """The same letters give or take OCR slips: one edit per four letters ("GRAII" for "GRAZIA",
    "USTEFANO" for "DI STEFANO": the legacy engine loses an MRZ line's first letter)."""
    x, y = "".join(a), "".join(b)
    return bool(x and y) and edit_distance(x, y) <= max(1, max(len(x), len(y)) // 4)


def names_compatible(
    surname_a: str | None,
    given_a: str | None,
    surname_b: str | None,
    given_b: str | None,
    *,
    allow_prefix: bool = False,
    ocr: bool = False,
) -> bool:
    """Whether two (surname, given names) pairs can be the same person's name.

    Missing parts are not evidence of a mismatch: a side with no surname
    compares given names only, and so on. `allow_prefix` tolerates MRZ
    truncation; `ocr` tolerates a few misread letters in names read by OCR
    (no check digit covers a name; another person's name differs by far more).
    """
    sa, ga, sb, gb = (name_tokens(x) for x in (surname_a, given_a, surname_b, given_b))
    if not (sa or ga) or not (sb or gb):
        return True
    # Word order and fields swapped: the same words overall.
    if sorted(sa + ga) == sorted(sb + gb) or "".join(sa + ga) == "".join(sb + gb):
        return True
    surname_ok = not (sa and sb) or _part_compatible(sa, sb, allow_prefix) or (ocr and _close(sa, sb))
    given_ok = not (ga and gb) or _part_compatible(ga, gb, allow_prefix) or (ocr and _close(ga, gb))
    return surname_ok and given_ok
