"""Scheduling: office calendars, free slots, bookings of the identification call.

`scheduling.calendar` is the pure core (no database, no clock);
`scheduling.clock` the clock behind SPORTELLO_NOW / SPORTELLO_TODAY;
`scheduling.office` turns the `[calendar]` settings into calendars;
`scheduling.bookings` writes bookings through db/ and db/lifecycle.py.
"""
