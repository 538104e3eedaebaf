"""Issue 18 item 9 over HTTP: HEAD wherever GET is, the province column of the all-provinces queue."""

from __future__ import annotations

import re

from tests.backoffice.conftest import Client


def test_head_answers_wherever_get_does(web, login, seeded):
    anon = Client(web)
    mi = login("op.mi")
    ref = seeded.refs["a"]
    cases = [(anon, "/healthz"), (anon, "/readyz"), (anon, "/accesso"), (anon, "/coda"), (anon, "/"),
             (anon, "/static/sportello.css"), (mi, "/coda"), (mi, "/coda?stato=all"), (mi, f"/pratiche/{ref}"),
             (mi, f"/pratiche/{ref}/allegati/{seeded.attachments['a_id']}/pagina/1?dim=mini"),
             (mi, "/pratiche/SR-MI-2026-999999"), (mi, "/calendario"), (mi, "/chiamate")]
    for who, url in cases:
        got = who.http.get(url)
        head = who.http.head(url)
        assert head.status_code == got.status_code != 405, url
        assert head.content == b"", url
        assert head.headers.get("content-type") == got.headers.get("content-type"), url
        assert head.headers.get("location") == got.headers.get("location"), url
        assert head.headers["cache-control"] == got.headers["cache-control"], url
    # A HEAD is no way round the CSRF check or into a POST-only route.
    assert mi.http.head("/esci").status_code == 405
    assert mi.get("/coda").status_code == 200  # still logged in


def province_cells(html: str) -> list[str]:
    return re.findall(r'<td class="province" data-label="Provincia"><abbr title="[^"]+">([A-Z]{2})</abbr></td>', html)


def test_the_all_provinces_queue_shows_each_requests_province(login, seeded):
    sup = login("sup")  # BG and MI
    html = sup.get("/coda?stato=needs_review").text
    assert "<th>Provincia</th>" in html
    assert set(province_cells(html)) == {"BG", "MI"}
    assert 'title="Bergamo"' in html
    one = sup.get("/coda?provincia=MI&stato=needs_review").text
    assert "<th>Provincia</th>" not in one and province_cells(one) == []
    # An operator of one province has no "all provinces" view, so no column either.
    assert "<th>Provincia</th>" not in login("op.mi").get("/coda").text
