"""The office calendar (day and week: booked calls, free slots, closures, absences)
and "le mie chiamate di oggi" for an operator."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy import or_, select

from backoffice.auth import CurrentUser, current_user
from backoffice.templating import render
from config.settings import PROVINCE_NAMES
from db.models import Booking, Request as Req
from scheduling import bookings
from scheduling.calendar import closed_reason, day_slots, to_rome
from scheduling import wiring

router = APIRouter()

DAY_NAMES = ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica")


def _day(text: str | None) -> date:
    if not text:
        return wiring.now().date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HTTPException(400) from None


def day_rows(app, province: str, day: date, taken: dict) -> dict:
    cal = wiring.calendar_for(app, province)
    reason = closed_reason(cal, day)
    now = wiring.now()
    rows: dict = {}
    for slot in day_slots(cal, day):
        absent = next((a for a in cal.absences if a.desk == slot.desk and a.start < slot.end and slot.start < a.end),
                      None)
        ref = taken.get((slot.desk, slot.start))
        state = "booked" if ref else "absent" if absent else "past" if slot.start < now else "free"
        rows.setdefault(slot.local_start.strftime("%H:%M"), []).append(
            {"desk": slot.desk, "state": state, "reference": ref,
             "operator": absent.operator if absent else None})
    return {"date": day, "name": f"{DAY_NAMES[day.weekday()]} {day:%d/%m/%Y}", "closed": reason,
            "rows": sorted(rows.items()), "desks": cal.desks}


@router.get("/calendario")
def office_calendar(request: Request, provincia: str | None = None, giorno: str | None = None,
                    vista: str = "giorno", user: CurrentUser = Depends(current_user)):
    province = (provincia or user.provinces[0]).upper()
    if province not in user.provinces:
        raise HTTPException(404)
    first = _day(giorno)
    week = vista == "settimana"
    if week:
        first -= timedelta(days=first.weekday())
    count = 7 if week else 1
    app = request.app.state.sportello
    with app.db.session() as s:
        taken = {(b.desk, b.start): b.reference for b in bookings.booked_in(s, province, first, count)}
    days = [day_rows(app, province, first + timedelta(days=i), taken) for i in range(count)]
    step = timedelta(days=count)
    return render(request, "calendar.html", user=user, nav="calendario", province=province,
                  province_name=PROVINCE_NAMES[province], provinces=user.provinces, days=days, week=week,
                  first=first, prev=first - step, next=first + step, vista="settimana" if week else "giorno")


@router.get("/chiamate")
def my_calls(request: Request, giorno: str | None = None, user: CurrentUser = Depends(current_user)):
    day = _day(giorno)
    app = request.app.state.sportello
    with app.db.session() as s:
        rows = s.execute(
            select(Req, Booking).join(Booking, Booking.request_id == Req.id)
            .where(Booking.status == "active", Req.province.in_(user.provinces),
                   or_(Booking.operator == user.username, Req.assigned_to == user.username))
            .order_by(Booking.start)).all()
        calls = [{"reference": r.reference, "province": r.province, "start": to_rome(b.start),
                  "end": to_rome(b.end), "desk": b.desk, "phone": r.contact_phone}
                 for r, b in rows if to_rome(b.start).date() == day]
    return render(request, "my_calls.html", user=user, nav="chiamate", calls=calls,
                  day_name=f"{DAY_NAMES[day.weekday()]} {day:%d/%m/%Y}")
