"""The face band and the supervisor rule of the identification call."""

import pytest

from calls.decision import DOUBT, MATCH, NO_MATCH, band, needs_supervisor


@pytest.mark.parametrize("distance, expected", [
    (0.0, MATCH), (0.5, MATCH), (0.5001, DOUBT), (0.6, DOUBT), (0.61, NO_MATCH), (1.3, NO_MATCH)])
def test_band_edges(distance, expected):
    assert band(distance, 0.5, 0.6) == expected


def test_thresholds_out_of_order_are_refused():
    with pytest.raises(ValueError):
        band(0.3, 0.7, 0.6)


@pytest.mark.parametrize("decision, face_band, expected", [
    ("identified", MATCH, False),
    ("identified", DOUBT, True),
    ("identified", NO_MATCH, True),
    ("identified", None, True),      # no face compared: the operator alone is not enough
    ("rejected", NO_MATCH, False),
    ("rejected", DOUBT, False),
    ("rejected", MATCH, True),       # rejecting a face the assist found matching
    ("needs_review", MATCH, False),  # a hand-over, never against the band
    ("needs_review", NO_MATCH, False),
])
def test_a_decision_against_the_band_needs_a_supervisor(decision, face_band, expected):
    assert needs_supervisor(decision, face_band) is expected


def test_unknown_values_are_refused():
    with pytest.raises(ValueError):
        needs_supervisor("released", MATCH)
    with pytest.raises(ValueError):
        needs_supervisor("identified", "forse")
