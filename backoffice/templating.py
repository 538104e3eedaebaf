"""Jinja2 set-up: autoescaping everywhere, Italian formats, the common page context."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.templating import Jinja2Templates

from backoffice import labels, sla
from backoffice.badges import failed_intake_count
from backoffice.security import csrf_token
from config.settings import PROVINCE_NAMES
from db.models import as_utc

ROME = ZoneInfo("Europe/Rome")
TEMPLATES_DIR = Path(__file__).parent / "templates"


def fmt_datetime(value: datetime | None) -> str:
    if value is None:
        return "—"
    return as_utc(value).astimezone(ROME).strftime("%d/%m/%Y %H:%M")


def fmt_date(value: date | datetime | str | None) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = as_utc(value).astimezone(ROME).date()
    return value.strftime("%d/%m/%Y")


def fmt_value(value: Any) -> str:
    """An extracted field's value as text (dates the Italian way)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "sì" if value else "no"
    if isinstance(value, (date, datetime)):
        return fmt_date(value)
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        return fmt_date(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{labels.field_label(str(k))}: {fmt_value(v)}" for k, v in value.items())
    return str(value)


def ago(value: datetime | None) -> str:
    if value is None:
        return "—"
    return sla.format_age(datetime.now(timezone.utc) - as_utc(value))


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(
        dt=fmt_datetime,
        d=fmt_date,
        value=fmt_value,
        ago=ago,
        status_label=lambda c: labels.label(labels.STATUS_LABELS, c),
        slot_label=lambda c: labels.label(labels.SLOT_LABELS, c),
        doc_label=lambda c: labels.label(labels.DOC_TYPE_LABELS, c),
        form_label=lambda c: labels.label(labels.FORM_LABELS, c, "non riconosciuto"),
        severity_label=lambda c: labels.label(labels.SEVERITY_LABELS, c),
        rel_label=lambda c: labels.label(labels.RELATIONSHIP_LABELS, c),
        event_label=lambda c: labels.label(labels.EVENT_LABELS, c),
        role_label=lambda c: labels.label(labels.ROLE_LABELS, c),
        field_label=labels.field_label,
        province_name=lambda c: PROVINCE_NAMES.get(c, c),
    )
    env.globals.update(PROVINCE_NAMES=PROVINCE_NAMES)
    return env


templates = Jinja2Templates(env=_env())


def flash(request: Request, kind: str, text: str) -> None:
    """A one-time notice for the next page: kind is 'ok', 'warn' or 'error'."""
    request.session.setdefault("flash", [])
    request.session["flash"] = [*request.session["flash"], [kind, text]][-5:]


def render(request: Request, name: str, *, user=None, status_code: int = 200, **context: Any):
    state = request.app.state
    ctx = {
        "user": user,
        "csrf_token": csrf_token(request),
        "flashes": request.session.pop("flash", []),
        "failed_intake": failed_intake_count(state.sportello, user.provinces) if user else 0,
        "nav": context.pop("nav", ""),
        **context,
    }
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
