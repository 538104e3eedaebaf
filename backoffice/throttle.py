"""The login throttle: failed logins slow down the address they come from, never the account.

OWASP (Authentication and Credential Stuffing cheat sheets): an account lock-out
that anyone knowing a username can trigger is a denial of service against that
clerk. So failures count per (username, client address) and per client
address, never per username alone: the clerk logging in from their own desk is
never refused because someone elsewhere typed wrong passwords for them.

Each key has tiers over moving windows, so the wait grows the longer an address
keeps failing: after 5 quick failures about 1 minute, then ~4, ~10 and ~45
minutes before each next try, then the rest of the day.
A successful login clears that username's tiers for that address.

The counters live in `limits` storage (`[backoffice] throttle_storage`):
"memory://" for one node, "redis://host:6379" so that every node behind a
balancer counts the same failures.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerHour, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

# One username from one address: 5 failures a minute, 6 in 5 minutes, 7 in 15, 8 an hour, 10 a day.
PAIR_TIERS: tuple[RateLimitItem, ...] = (
    RateLimitItemPerMinute(5, 1),
    RateLimitItemPerMinute(6, 5),
    RateLimitItemPerMinute(7, 15),
    RateLimitItemPerHour(8, 1),
    RateLimitItemPerDay(10, 1),
)
MAX_FAILURES_PER_CLIENT = 20   # any usernames, from one address, within CLIENT_WINDOW_SECONDS
CLIENT_WINDOW_SECONDS = 15 * 60
NAMESPACE = "login"


@dataclass(frozen=True)
class Refusal:
    """A login attempt not even checked: wait `retry_after` seconds."""
    retry_after: int


class LoginThrottle:
    def __init__(self, storage: str = "memory://", *, client_limit: int = MAX_FAILURES_PER_CLIENT,
                 client_window: float = CLIENT_WINDOW_SECONDS, pair_tiers: tuple[RateLimitItem, ...] = PAIR_TIERS):
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage))
        self.client_tiers = (RateLimitItemPerSecond(client_limit, int(client_window)),)
        self.pair_tiers = pair_tiers

    def _keys(self, username: str, client: str):
        for item in self.client_tiers:
            yield item, ("client", client)
        for item in self.pair_tiers:
            yield item, ("pair", client, username)

    def check(self, username: str, client: str) -> Refusal | None:
        """None when this attempt may be checked; else how long the address must wait."""
        now = time.time()
        waits = [self.limiter.get_window_stats(item, NAMESPACE, *key).reset_time - now
                 for item, key in self._keys(username, client) if not self.limiter.test(item, NAMESPACE, *key)]
        if not waits:
            return None
        return Refusal(max(1, math.ceil(max(waits))))

    def failed(self, username: str, client: str) -> None:
        for item, key in self._keys(username, client):
            self.limiter.hit(item, NAMESPACE, *key)

    def succeeded(self, username: str, client: str) -> None:
        """The right password from this address: its earlier typos for this username are forgiven."""
        for item in self.pair_tiers:
            self.limiter.clear(item, NAMESPACE, "pair", client, username)


def wait_text(seconds: int) -> str:
    """'1 minuto', '15 minuti', '2 ore': rounded up, for the refusal message."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 120:
        return "1 minuto" if minutes == 1 else f"{minutes} minuti"
    hours = math.ceil(minutes / 60)
    return f"{hours} ore"
