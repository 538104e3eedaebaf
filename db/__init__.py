"""Persistence: SQLAlchemy models, sessions, migrations, the request state machine."""
