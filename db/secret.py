"""The installation's secret: it signs the back office's sessions and the citizens' booking links.

The same on every node (from the environment variable `[backoffice] secret_key_env` names), or,
on one machine, a random one kept in data_dir/secret_key (created 0600 on first use).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from config.settings import Settings


def load_secret_key(settings: Settings) -> str:
    """From the configured environment variable, else data_dir/secret_key (created 0600)."""
    env = settings.backoffice.secret_key_env
    if env:
        value = os.environ.get(env)
        if not value or len(value) < 32:
            raise RuntimeError(f"back office: environment variable {env} must hold a secret of at least 32 characters")
        return value
    path = Path(settings.data_dir) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_hex(32))
    return path.read_text(encoding="ascii").strip()
