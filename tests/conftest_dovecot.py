"""Pytest plugin: a real Dovecot for the IMAP tests (see tests/dovecot.py).

Load it from the root conftest with ``pytest_plugins = ["tests.conftest_dovecot"]``.

``dovecot``         a fresh server per test: free to stop, kill, restart.
``dovecot_server``  one server for the whole session; give each test its own
                    user (``dovecot_user``) so tests do not see each other's mail.
``dovecot_user``    a new user with a random password on ``dovecot_server``.

Tests using them are skipped when no dovecot binary is installed.
"""

from __future__ import annotations

import itertools
import secrets

import pytest

from tests.dovecot import Dovecot, dovecot_available

_user_numbers = itertools.count(1)


def _require_dovecot() -> None:
    if not dovecot_available():
        pytest.skip("dovecot is not installed (Debian: apt-get install dovecot-imapd)")


# Each server makes its own temp dir (deleted at the end; keep it with
# SPORTELLO_TEST_KEEP_DOVECOT=1): pytest's tmp_path is 0700, which Dovecot's
# unprivileged processes cannot enter when the tests run as root.


@pytest.fixture
def dovecot():
    _require_dovecot()
    server = Dovecot()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def dovecot_server():
    _require_dovecot()
    server = Dovecot()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def dovecot_user(dovecot_server) -> str:
    user = f"user{next(_user_numbers)}"
    dovecot_server.add_user(user, secrets.token_urlsafe(12))
    return user
