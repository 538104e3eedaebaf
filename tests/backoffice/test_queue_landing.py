"""Issue 18 item 1: /coda opens on the view with work in it, every tab's count shown."""

from __future__ import annotations

import re

from backoffice.labels import CLOSED_TABS, WORK_TABS


def refs_of(html: str) -> list[str]:
    return re.findall(r'class="ref" href="/pratiche/([^"]+)"', html)


def statuses_of(html: str) -> list[str]:
    return re.findall(r'<td data-label="Stato"><span class="status st-(\w+)">', html)


def counts_of(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-status="(\w+)"[^>]*>.*?<span class="count">(\d+)</span>', html, re.S)}


def active_tab(html: str) -> str:
    return re.search(r'data-status="(\w+)" class="tab active[^"]*" aria-current="page"', html).group(1)


def test_without_claimed_requests_the_queue_opens_on_every_open_request_oldest_first(login, seeded):
    mi = login("op.mi")
    html = mi.get("/coda").text
    assert "Nessuna pratica in questa vista" not in html
    assert active_tab(html) == "open"
    # Incomplete and ready requests are there with the ones to review, oldest first.
    statuses = statuses_of(html)
    assert {"needs_review", "incomplete", "ready", "received", "booked", "identified"} <= set(statuses)
    assert not {"released", "rejected", "expired", "not_a_request"} & set(statuses)
    assert refs_of(html)[0] == seeded.refs["a"]  # three days: the oldest
    # Every tab shows its count, zero included.
    counts = counts_of(html)
    assert set(counts) == {"open", "all"} | {c for c, _ in WORK_TABS} | {c for c, _ in CLOSED_TABS}
    assert counts["open"] == len(statuses) == sum(counts[c] for c, _ in WORK_TABS)
    assert counts["needs_review"] == 4 and counts["ready"] == 1 and counts["incomplete"] == 1
    assert counts["released"] == 1


def test_with_claimed_requests_the_queue_opens_on_them(login, seeded):
    mi = login("op.mi")
    for key in ("c", "mi_ready"):
        mi.get(f"/pratiche/{seeded.refs[key]}")
        assert mi.post(f"/pratiche/{seeded.refs[key]}/prendi").status_code == 303
    html = mi.get("/coda").text
    assert sorted(refs_of(html)) == sorted([seeded.refs["c"], seeded.refs["mi_ready"]])
    assert "in carico a te" in html and 'class="toggle on"' in html
    counts = counts_of(html)
    assert counts["open"] == 2 and counts["needs_review"] == 1 and counts["ready"] == 1
    # The toggle leads to every open request; an explicit tab is kept as asked.
    everyone = mi.get("/coda?stato=open").text
    assert len(refs_of(everyone)) > 2
    assert active_tab(mi.get("/coda?stato=needs_review").text) == "needs_review"
    # Another clerk of the province has claimed nothing: all open requests.
    other = login("op.mi2").get("/coda").text
    assert active_tab(other) == "open" and 'class="toggle on"' not in other and len(refs_of(other)) > 2


def test_a_closed_claimed_request_does_not_make_the_landing_empty(login, seeded, app):
    from sqlalchemy import update

    from db.models import Request

    with app.db.session() as s:
        s.execute(update(Request).where(Request.reference == seeded.refs["mi_released"]).values(assigned_to="op.mi"))
    html = login("op.mi").get("/coda").text
    assert 'class="toggle on"' not in html and len(refs_of(html)) > 2
