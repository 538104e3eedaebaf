"""Alembic environment: the engine comes from db.migrate (never from an ini file)."""

from alembic import context

from db.models import Base

target_metadata = Base.metadata
engine = context.config.attributes.get("engine")
if engine is None:  # pragma: no cover - only `alembic` run by hand
    from config.settings import load_settings
    from db.session import make_engine

    engine = make_engine(load_settings().database_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
