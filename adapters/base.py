"""What every adapter shares: health reporting and the errors the core understands.

Adapters are the only code that talks to a backend. They know nothing of Dash or of the
event bus: the data services in ``command_center`` call them and publish what happened.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Health:
    """One health probe of a backend, as the ops screen shows it."""

    up: bool
    latency_ms: float
    detail: str = ""
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class AdapterError(Exception):
    """A backend failed or refused a request; the message is shown to an operator."""


class BackendUnavailable(AdapterError):
    """The backend cannot be reached at all (connection refused, timeout)."""


class AdapterConfigError(AdapterError):
    """An adapter is missing or misconfigured; the message names the setting at fault."""


class NotFound(AdapterError):
    """The record asked for does not exist."""


class Adapter:
    """Base of every adapter: built from its options mapping, probed by ``health``."""

    #: the kind this adapter serves: "case", "gis", "video" or "sms"
    kind: str = ""

    def __init__(self, **options: Any) -> None:
        self.options = options

    def health(self) -> Health:
        """Probe the backend cheaply; never raise, report ``up=False`` with the reason."""
        started = time.perf_counter()
        try:
            self.ping()
        except Exception as exc:  # noqa: BLE001 - a probe reports, it does not raise
            return Health(False, (time.perf_counter() - started) * 1000, str(exc))
        return Health(True, (time.perf_counter() - started) * 1000)

    def ping(self) -> None:
        """Raise if the backend is not usable; the default ``health`` times this call."""

    def close(self) -> None:
        """Release connections; called when the app shuts down."""
