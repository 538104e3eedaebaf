"""The back office served by two nodes behind a balancer: a session opened on one is valid on the
other, and a form drawn by one is accepted by the other (same signed cookie, same CSRF token)."""

from backoffice.app import create_app
from tests.backoffice.conftest import Client


def test_a_session_and_its_forms_work_on_either_node(app, seeded):
    a, b = Client(create_app(app)), Client(create_app(app))
    assert b.get("/coda").status_code == 303  # no session: to the login page
    a.login("op.mi")
    b.http.cookies.update(a.http.cookies)
    r = b.get("/coda")
    assert r.status_code == 200 and "Esci" in r.text
    # The token of a form drawn by node A, posted to node B: the logout is accepted there.
    r = b.post("/esci", {"csrf_token": a.token})
    assert r.status_code == 303
    b.http.cookies.clear()
    b.http.cookies.update(r.cookies)
    assert b.get("/coda").status_code == 303
