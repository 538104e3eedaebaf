"""as_utc: the one reading of stored timestamps, naive from SQLite and aware from PostgreSQL."""

from datetime import datetime, timedelta, timezone

from db.models import as_utc


def test_naive_is_utc_aware_is_converted_none_stays():
    assert as_utc(datetime(2026, 12, 7, 10, 0)) == datetime(2026, 12, 7, 10, 0, tzinfo=timezone.utc)
    rome = timezone(timedelta(hours=1))
    got = as_utc(datetime(2026, 12, 7, 11, 0, tzinfo=rome))
    assert got.tzinfo == timezone.utc and got.hour == 10
    assert as_utc(None) is None
