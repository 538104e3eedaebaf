"""Health and metrics for the machines that watch the service: /healthz, /readyz, /metrics.

No login and no personal data: counts and ages only. /healthz says the
process answers; /readyz that the database answers and its schema is the
code's newest (a load balancer sends nothing to a node that is not ready);
/metrics is the Prometheus text format, read from the database at each
scrape (so every node tells the same truth) plus what this process measured
itself (verification seconds). The nginx example in deploy/ keeps /metrics
to the monitoring network.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select, text

from db.migrate import is_current
from db.models import MailboxState, Message, OutgoingMail, Request as Req, as_utc, utcnow

log = logging.getLogger(__name__)
router = APIRouter()
OPEN = ("received", "incomplete", "needs_review", "ready", "booked", "identified")


@router.api_route("/healthz", methods=["GET", "HEAD"], include_in_schema=False)
def healthz() -> PlainTextResponse:
    return PlainTextResponse("ok\n")


@router.api_route("/readyz", methods=["GET", "HEAD"], include_in_schema=False)
def readyz(request: Request) -> PlainTextResponse:
    app = request.app.state.sportello
    try:
        with app.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        if not is_current(app.db.engine):
            return PlainTextResponse("database schema not current: run `sportello init`\n", status_code=503)
    except Exception as exc:  # noqa: BLE001 - not ready is an answer, not a crash
        log.warning("not ready: %s", type(exc).__name__)
        return PlainTextResponse("database unreachable\n", status_code=503)
    return PlainTextResponse("ready\n")


class DatabaseCollector:
    """The service's state as the database holds it, read at each scrape."""

    def __init__(self, app):
        self.app = app

    def collect(self):
        now = utcnow()
        requests = GaugeMetricFamily("sportello_requests", "Requests by status and province",
                                     labels=["status", "province"])
        age = GaugeMetricFamily("sportello_queue_oldest_age_seconds",
                                "Age of the oldest open request per status and province", labels=["status", "province"])
        messages = GaugeMetricFamily("sportello_messages", "Stored messages by mailbox and intake status",
                                     labels=["mailbox", "intake_status"])
        outbox = GaugeMetricFamily("sportello_outbox", "Outgoing mails by status", labels=["status"])
        fetched = GaugeMetricFamily("sportello_mailbox_last_success_timestamp_seconds",
                                    "Last successful fetch per mailbox (Unix time)", labels=["mailbox", "province"])
        with self.app.db.session() as s:
            for status, province, count, oldest in s.execute(
                    select(Req.status, Req.province, func.count(), func.min(Req.created_at))
                    .group_by(Req.status, Req.province)):
                requests.add_metric([status, province], count)
                if status in OPEN and oldest is not None:
                    age.add_metric([status, province], max(0.0, (now - as_utc(oldest)).total_seconds()))
            for mailbox, intake_status, count in s.execute(
                    select(Message.mailbox_key, Message.intake_status, func.count())
                    .where(Message.direction == "in").group_by(Message.mailbox_key, Message.intake_status)):
                messages.add_metric([mailbox or "ingest", intake_status], count)
            for status, count in s.execute(select(OutgoingMail.status, func.count()).group_by(OutgoingMail.status)):
                outbox.add_metric([status], count)
            for key, province, at in s.execute(
                    select(MailboxState.key, MailboxState.province, MailboxState.last_success_at)):
                if at is not None:
                    fetched.add_metric([key, province], as_utc(at).timestamp())
        yield from (requests, age, messages, outbox, fetched)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(request.app.state.sportello))
    body = generate_latest(registry) + generate_latest(REGISTRY)  # the database's, then this process's
    return Response(body, media_type=CONTENT_TYPE_LATEST)
