"""The composition root: settings, database and blob store, wired once; every part takes an App."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from config.settings import Settings, load_settings
from db.blobs import BlobStore
from db.crypto import keyring_from
from db.session import Database


class NotInitialised(Exception):
    pass


def today() -> date:
    """Today's date, or SPORTELLO_TODAY (YYYY-MM-DD) for tests and reprocessing."""
    value = os.environ.get("SPORTELLO_TODAY")
    if value:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"SPORTELLO_TODAY={value!r} is not a date in the form YYYY-MM-DD") from None
    return date.today()


@dataclass
class App:
    settings: Settings
    _db: Database | None = field(default=None, repr=False)

    @classmethod
    def from_config(cls, path: str | None = None) -> "App":
        return cls(load_settings(path))

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(self.settings.database_url)
        return self._db

    @cached_property
    def blobs(self) -> BlobStore:
        return BlobStore(self.settings.blob_dir, keyring_from(self.settings.storage))

    def require_initialised(self) -> None:
        from db.migrate import is_initialised

        if not is_initialised(self.db.engine):
            raise NotInitialised("the database is not initialised: run `sportello init` first")

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None
