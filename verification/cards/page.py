"""Every card on one page image: find the cards, judge their quality, read them."""

from __future__ import annotations

from datetime import date

import numpy as np

from verification.cards.side import read_card
from verification.evidence import SourceRef
from verification.cards.find import assess, find_cards
from verification.readings import CardReading


def read_cards_on_image(img: np.ndarray, source: SourceRef, today: date) -> list[CardReading]:
    """One CardReading per card found, in reading order (top to bottom, left to right).

    A card too blurred, too small or cut off still yields a reading, with
    readable=False, the reason, and the best guess of its type and side
    (doc_type None when even that cannot be told): the citizen must be told
    which document to send again.
    """
    readings = []
    for card in find_cards(img):
        readable, reason = assess(card)
        readings.append(read_card(card, source, today, readable=readable, unreadable_reason=reason))
    return readings
