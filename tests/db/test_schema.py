import threading

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from db.migrate import upgrade
from db.models import Base, Office
from db.references import next_reference
from db.session import Database


def test_migrations_match_the_models_and_rerun_cleanly(db_url):
    db = Database(db_url)
    first = upgrade(db.engine)
    assert upgrade(db.engine) == first  # idempotent
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"
    assert set(Base.metadata.tables) <= set(inspect(db.engine).get_table_names())
    with db.session() as s:
        assert s.query(Office).count() == 12
    db.dispose()


def test_references_are_sequential_per_province_and_year(app):
    with app.db.session() as s:
        refs = [next_reference(s, "MI", 2026) for _ in range(3)]
        refs.append(next_reference(s, "BG", 2026))
        refs.append(next_reference(s, "MI", 2027))
    assert refs == ["SR-MI-2026-000001", "SR-MI-2026-000002", "SR-MI-2026-000003",
                    "SR-BG-2026-000001", "SR-MI-2027-000001"]


def test_concurrent_allocations_never_collide(app):
    got, errors = [], []

    def worker():
        try:
            for _ in range(10):
                with app.db.session() as s:
                    got.append(next_reference(s, "CO", 2026))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(got) == 40 and len(set(got)) == 40
