"""Failed logins slow down the address they come from, never the account (issue 18, items 11 and 12)."""

from __future__ import annotations

import re
import time
from dataclasses import replace as dc_replace

import pytest
import requests

from backoffice.throttle import LoginThrottle
from tests.backoffice.conftest import CSRF_RE, Client
from tests.backoffice.seed import PASSWORD

ATTACKER, CLERK = "203.0.113.7", "198.51.100.20"


def attempt(client: Client, username: str, password: str):
    client.get("/accesso")
    return client.post("/accesso", {"username": username, "password": password})


def test_wrong_passwords_from_one_address_do_not_lock_the_user_out_elsewhere(web):
    attacker = Client(web, ATTACKER)
    for _ in range(5):
        r = attempt(attacker, "op.mi", "sbagliata!!")
        assert r.status_code == 401 and "Nome utente o password non corretti." in r.text
    # The attacker's address is refused, even with the right password, and told how long to wait.
    r = attempt(attacker, "op.mi", PASSWORD)
    assert r.status_code == 429
    assert "Troppi tentativi non riusciti da questo dispositivo" in r.text and "riprova tra 1 minuto" in r.text
    assert 1 <= int(r.headers["retry-after"]) <= 60
    # The clerk at their own desk logs in at once.
    assert attempt(Client(web, CLERK), "op.mi", PASSWORD).status_code == 303


def test_many_addresses_failing_for_one_user_never_lock_it(web):
    for i in range(6):  # 30 failures in all for op.mi: the old per-username lock tripped at 5
        bot = Client(web, f"192.0.2.{i + 1}")
        for _ in range(5):
            assert attempt(bot, "op.mi", "sbagliata!!").status_code == 401
    assert attempt(Client(web, CLERK), "op.mi", PASSWORD).status_code == 303


def test_one_address_trying_many_usernames_is_refused(web):
    from backoffice.throttle import MAX_FAILURES_PER_CLIENT

    spray = Client(web, ATTACKER)
    for i in range(MAX_FAILURES_PER_CLIENT):
        assert attempt(spray, f"nessuno{i}", "sbagliata!!").status_code == 401
    assert attempt(spray, "sup", PASSWORD).status_code == 429
    assert attempt(Client(web, CLERK), "sup", PASSWORD).status_code == 303


class FakeClock:
    def __init__(self):
        self.now = 1_900_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = FakeClock()
    monkeypatch.setattr(time, "time", c)
    return c


def test_the_wait_grows_while_an_address_keeps_failing(clock):
    throttle = LoginThrottle("memory://")
    waits = []
    for burst in range(5):
        while (refusal := throttle.check("op.mi", ATTACKER)) is None:
            throttle.failed("op.mi", ATTACKER)
            clock.now += 1
        waits.append(refusal.retry_after)
        clock.now += refusal.retry_after + 1
    assert waits[0] <= 60 and waits == sorted(set(waits)) and waits[-1] > 12 * 3600, waits
    assert throttle.check("op.mi", CLERK) is None


def test_the_right_password_forgives_earlier_typos(clock):
    throttle = LoginThrottle("memory://")
    for _ in range(4):
        throttle.failed("op.mi", CLERK)
    throttle.succeeded("op.mi", CLERK)
    for _ in range(4):
        throttle.failed("op.mi", CLERK)
    assert throttle.check("op.mi", CLERK) is None
    throttle.failed("op.mi", CLERK)
    assert throttle.check("op.mi", CLERK) is not None


def test_failures_are_logged_without_the_password(web, caplog):
    attacker = Client(web, ATTACKER)
    with caplog.at_level("INFO"):
        for _ in range(6):
            attempt(attacker, "op.mi", "segreto-sbagliato")
        attempt(attacker, "Password-Nel-Campo-Sbagliato", "x")
    assert "login failed: user op.mi, client 203.0.113.7" in caplog.text
    assert "login throttled: client 203.0.113.7" in caplog.text
    assert "segreto-sbagliato" not in caplog.text and "password-nel-campo-sbagliato" not in caplog.text.lower()


# Item 12: X-Forwarded-For believed only from [backoffice] trusted_proxies, right-most untrusted address.

def _post_login(base: str, username: str, password: str, forwarded_for: str | None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    with requests.Session() as http:
        http.headers.update(headers)
        token = CSRF_RE.search(http.get(f"{base}/accesso", timeout=10).text).group(1)
        return http.post(f"{base}/accesso", data={"username": username, "password": password, "csrf_token": token},
                         allow_redirects=False, timeout=10)


@pytest.fixture
def proxies(request, app):
    """The app with `trusted_proxies` set as the test's parameter says."""
    settings = app.settings.model_copy(update={"backoffice": app.settings.backoffice.model_copy(
        update={"trusted_proxies": request.param})})
    return dc_replace(app, settings=settings)


@pytest.fixture
def served(proxies, seeded):
    from sportello.service import _web_server
    from tests.backoffice.conftest import _serve, free_port

    yield from _serve(_web_server(proxies, "127.0.0.1", free_port()))


@pytest.mark.parametrize("proxies", [["127.0.0.1", "10.0.0.0/8"]], indirect=True)
def test_a_forged_forwarded_for_does_not_escape_the_limit(served):
    # The attacker puts a new fake address in front each time; the proxies (127.0.0.1, then 10.1.2.3)
    # append what they saw. The right-most address no trusted proxy owns is the attacker's.
    for i in range(5):
        r = _post_login(served, "op.mi", "sbagliata!!", f"192.0.2.{i + 1}, {ATTACKER}, 10.1.2.3")
        assert r.status_code == 401
    r = _post_login(served, "op.mi", PASSWORD, f"192.0.2.99, {ATTACKER}, 10.1.2.3")
    assert r.status_code == 429 and "Troppi tentativi" in r.text
    r = _post_login(served, "op.mi", PASSWORD, ATTACKER)
    assert r.status_code == 429
    # The forged left-most addresses were never blamed.
    assert _post_login(served, "op.mi", PASSWORD, "192.0.2.1").status_code == 303


@pytest.mark.parametrize("proxies", [["10.0.0.1"]], indirect=True)
def test_forwarded_for_from_an_untrusted_peer_is_ignored(served):
    # 127.0.0.1 is no trusted proxy here: its X-Forwarded-For is the client's own claim.
    for i in range(5):
        assert _post_login(served, "op.mi", "sbagliata!!", f"192.0.2.{i + 1}").status_code == 401
    r = _post_login(served, "op.mi", PASSWORD, CLERK)
    assert r.status_code == 429 and re.search(r"riprova tra \d+ minut", r.text)
