"""/healthz, /readyz and /metrics: what the machines watching the service read."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from db.models import MailboxState, utcnow


def _metrics(client) -> dict[str, list]:
    r = client.http.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return {family.name: family.samples for family in text_string_to_metric_families(r.text)}


def test_health_and_readiness_answer_without_a_login_and_to_head(client):
    for path in ("/healthz", "/readyz"):
        assert client.http.get(path).status_code == 200
        assert client.http.head(path).status_code == 200


def test_not_ready_while_the_schema_is_behind_the_code(client, app):
    with app.db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'an-older-one'"))
    r = client.http.get("/readyz")
    assert r.status_code == 503 and "sportello init" in r.text
    assert client.http.get("/healthz").status_code == 200  # alive all the same


def test_metrics_are_prometheus_text_with_the_requests_outbox_and_mailboxes(client, app, seeded):
    with app.db.session() as s:
        s.add(MailboxState(key="imap:mi@example.org/INBOX", province="MI", last_uid=0, last_success_at=utcnow()))
        s.commit()
    families = _metrics(client)

    requests = families["sportello_requests"]
    with app.db.session() as s:
        total = s.scalar(text("SELECT count(*) FROM requests"))
    assert total >= len(seeded.refs) > 0 and sum(sample.value for sample in requests) == total
    assert {sample.labels["province"] for sample in requests} <= {"MI", "BG", "BS", "CO", "CR", "LC", "LO", "MN",
                                                                   "MB", "PV", "SO", "VA"}
    (fetched,) = families["sportello_mailbox_last_success_timestamp_seconds"]
    assert fetched.labels == {"mailbox": "imap:mi@example.org/INBOX", "province": "MI"} and fetched.value > 0
    assert "sportello_queue_oldest_age_seconds" in families and "sportello_outbox" in families
    import sportello.verify  # noqa: F401 - the service imports it: its histogram is then in this process

    assert "sportello_verification_seconds" in _metrics(client)  # what this process measured itself
    body = client.http.get("/metrics").text
    assert "@" not in body.replace("imap:mi@example.org", "")  # no address, no personal data
