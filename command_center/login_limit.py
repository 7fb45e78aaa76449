"""The sign-in brute-force limit: failed sign-ins counted per user name and per address.

After ``CC_LOGIN_MAX_FAILURES`` failures within ``CC_LOGIN_LOCK_MINUTES`` for one user name
or from one client address, ``/login`` answers 429 with ``Retry-After`` until the oldest of
them leaves the window, even for the right password: guessing gets 5 tries per quarter hour.
A successful sign-in clears its user name's count (not its address's). The counters are a
moving window of the ``limits`` library: in Redis when ``CC_REDIS_URL`` is set, so every
process of a deployment counts together, else in this process's memory.
"""

from __future__ import annotations

import math
import time
from typing import Any

from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


def moving_window(redis_url: str) -> MovingWindowRateLimiter:
    """A moving-window limiter whose counts live in Redis when the deployment has one (every
    process counts together), else in this process's memory."""
    return MovingWindowRateLimiter(storage_from_string(redis_url or "memory://"))  # type: ignore[arg-type]


class LoginThrottle:
    def __init__(self, settings: Any) -> None:
        self.limiter = moving_window(settings.redis_url)
        minutes = max(1, math.ceil(settings.login_lock_minutes))
        self.limit = RateLimitItemPerMinute(max(1, settings.login_max_failures), minutes)
        self.prefix = settings.redis_channel  # one deployment's counters, like its channels

    def _keys(self, name: str, address: str) -> list[tuple[str, ...]]:
        return [
            (self.prefix, "login-user", name[:64]),
            (self.prefix, "login-addr", address or "?"),
        ]

    def retry_after(self, name: str, address: str) -> int:
        """Seconds until ``name`` from ``address`` may try again; 0: now."""
        wait = 0.0
        for key in self._keys(name, address):
            if not self.limiter.test(self.limit, *key):
                reset = self.limiter.get_window_stats(self.limit, *key).reset_time
                wait = max(wait, reset - time.time(), 1.0)
        return math.ceil(wait)

    def failed(self, name: str, address: str) -> None:
        for key in self._keys(name, address):
            self.limiter.hit(self.limit, *key)

    def succeeded(self, name: str) -> None:
        self.limiter.clear(self.limit, *self._keys(name, "")[0])
