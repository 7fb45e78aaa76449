"""The event bus: what happened (new case, status change, alarm, SLA breach) fans out here.

In one process (the demo) it is a plain in-memory dispatcher. With ``CC_REDIS_URL`` the
real-time layer bridges it over Redis so that every process hears every event.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any]], None]

# Topics, one word per concept
CASE_REPORTED = "case.reported"
CASE_CHANGED = "case.changed"  # payload: case id, action, from/to status, actor
WORKER_MOVED = "worker.moved"
ALARM_RAISED = "alarm.raised"
ALARM_ACKED = "alarm.acked"  # payload: alarm_id, by, note
SCREENS_RELOADED = "screens.reloaded"


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self._lock = threading.Lock()
        self.published = 0

    def subscribe(self, topic: str, handler: Handler) -> None:
        """Call ``handler(topic, payload)`` for every event of ``topic`` ("*" for all)."""
        with self._lock:
            self._handlers[topic].append(handler)

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        """Deliver to every subscriber; a failing subscriber is logged, never propagated."""
        with self._lock:
            handlers = [*self._handlers.get(topic, ()), *self._handlers.get("*", ())]
            self.published += 1
        for handler in handlers:
            try:
                handler(topic, payload)
            except Exception:  # noqa: BLE001 - one broken subscriber must not stop the rest
                log.exception("event handler failed for %s", topic)
