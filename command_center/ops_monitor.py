"""运维监控 ops watch: backends probed every few seconds, an alarm of its own when one goes
down (source ``ops``, acknowledged by the watch itself when it is back), and the figures the
ops panels show: connected screens, event and alarm throughput, SMS delivery, devices.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from adapters.base import Health
from command_center.alarms import AlarmIn, local_now
from command_center.i18n import t
from command_center.services import Result

log = logging.getLogger(__name__)

OPS_SOURCE = "ops"
#: every this many verifications of the audit chain, walk it from the start again
AUDIT_FULL_EVERY = 60


@dataclass
class BackendState:
    health: Health
    down_since: datetime | None = None
    alarm_id: int | None = None
    last_error: str = ""


@dataclass
class OpsWatch:
    cc: Any
    states: dict[str, BackendState] = field(default_factory=dict)
    checked_at: datetime | None = None

    #: the last verification of the audit log's hash chain (None: not yet / failed)
    audit: Any = None
    audit_error: str = ""

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._audit_due = 0.0  # time.monotonic() of the next verification
        self._audit_rounds = 0

    # --- probing -------------------------------------------------------------------------
    def probes(self) -> dict[str, Health]:
        """Every adapter, the database of the alarm store and (when configured) Redis."""
        out = dict(self.cc.services.health())
        out["database"] = _timed(self._ping_database)
        if self.cc.settings.redis_url:
            out["redis"] = _timed(self._ping_redis)
        return out

    def _ping_database(self) -> None:
        from sqlalchemy import text

        with self.cc.alarms.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def _ping_redis(self) -> None:
        import redis

        client = redis.Redis.from_url(self.cc.settings.redis_url, socket_timeout=2)
        try:
            client.ping()
        finally:
            client.close()

    def check(self) -> dict[str, BackendState]:
        """Probe once; a backend that went down raises an ``ops`` alarm, one that came back
        has its alarm acknowledged by the watch."""
        lang = self.cc.settings.lang
        for name, health in self.probes().items():
            with self._lock:
                state = self.states.get(name)
                if state is None:
                    state = self.states[name] = BackendState(health)
                was_up = state.down_since is None
                state.health = health
            if not health.up:
                state.last_error = health.detail
            if was_up and not health.up:
                state.down_since = local_now()
                state.alarm_id = self._raise(name, health, lang)
            elif not was_up and health.up:
                if state.alarm_id is not None:
                    self.cc.alarms.acknowledge(
                        state.alarm_id, OPS_SOURCE, t("ops.recovered", lang, backend=name)
                    )
                state.down_since, state.alarm_id = None, None
        self.checked_at = local_now()
        self.verify_audit()
        return dict(self.states)

    def verify_audit(self, *, force: bool = False) -> Any:
        """Verify the audit chain every ``audit_verify_seconds`` (never on a wall's refresh):
        from the last good checkpoint, with a full walk every ``AUDIT_FULL_EVERY`` rounds.
        Once broken, the result stays until the process restarts."""
        collab = getattr(self.cc, "collab", None)
        if collab is None or (not force and time.monotonic() < self._audit_due):
            return self.audit
        self._audit_due = time.monotonic() + self.cc.settings.audit_verify_seconds
        last = self.audit
        if last is not None and not last.ok:
            # a broken chain stays reported until the process restarts: evidence that is
            # erased afterwards must not turn the screen green again
            return last
        full = last is None or self._audit_rounds % AUDIT_FULL_EVERY == 0
        self._audit_rounds += 1
        try:
            result = collab.audit.verify(None if full else last.checkpoint)
            if full and result.ok and last is not None and last.ok:
                # rows verified before must still be there: a log emptied together with its
                # head would otherwise pass as a new one
                since = collab.audit.verify(last.checkpoint)
                result = result if since.ok else since
        except Exception as exc:  # noqa: BLE001 - the database may be what is down
            log.exception("audit chain verification failed")
            self.audit_error = f"{type(exc).__name__}: {exc}"
            return self.audit
        if not result.ok:
            log.error("audit log: %s", result.describe())
        self.audit, self.audit_error = result, ""
        return result

    def _raise(self, name: str, health: Health, lang: str) -> int | None:
        backend = t(f"ops.backend.{name}", lang)
        try:
            result = self.cc.alarms.ingest(
                AlarmIn(
                    source=OPS_SOURCE,
                    # the same minute in every process: one alarm however many processes watch
                    source_id=f"{name}-down-{int(time.time()) // 60}",
                    level="critical",
                    class_code="ops.down",
                    title=t("ops.backend_down_alarm", lang, backend=backend),
                )
            )
        except Exception:  # noqa: BLE001 - the store itself may be what is down
            log.exception("cannot raise the ops alarm for %s", name)
            return None
        return result.alarm.id

    # --- figures for the panels ----------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        cc = self.cc
        alarms = cc.alarms
        devices: dict[str, dict[str, int]] = {}
        for layer in ("camera", "sensor"):
            try:
                points = cc.services.points(layer).value
            except Exception:  # noqa: BLE001 - the GIS may be what is down
                points = []
            counts: dict[str, int] = {"online": 0, "offline": 0, "alarm": 0}
            for point in points:
                counts[point.status] = counts.get(point.status, 0) + 1
            devices[layer] = counts
        try:
            sms = alarms.store.sms_counts()
            alarm_counts = alarms.store.counts()
        except Exception:  # noqa: BLE001
            sms, alarm_counts = {}, {}
        with self._lock:
            states = {
                k: BackendState(v.health, v.down_since, v.alarm_id, v.last_error)
                for k, v in self.states.items()
            }
        screens = cc.realtime.all_screens()
        events_minutes, events_total = alarms.event_rate.snapshot()
        alarms_minutes, alarms_total = alarms.ingest_rate.snapshot()
        acks_minutes, acks_total = alarms.ack_rate.snapshot()
        return {
            "screens": screens,
            "region_names": _region_names(cc, {c.region for c in screens if c.region}),
            "events_per_minute": events_minutes,
            "alarms_per_minute": alarms_minutes,
            "acks_per_minute": acks_minutes,
            "events_total": events_total,
            "alarms_total": alarms_total,
            "acks_total": acks_total,
            "alarm_counts": alarm_counts,
            "sms": sms,
            "devices": devices,
            "backends": states,
            "checked_at": self.checked_at,
            "redis": bool(cc.settings.redis_url),
            "audit": self.audit,
            "audit_error": self.audit_error,
        }

    def result(self) -> Result[dict[str, Any]]:
        return Result(self.snapshot(), local_now())

    # --- running -------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True, name="cc-ops-watch")
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                self.check()
            except Exception:  # noqa: BLE001 - keep watching
                log.exception("ops watch round failed")
            if self._stop.wait(self.cc.settings.alarm_watch_seconds):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def _region_names(cc: Any, codes: set[str]) -> dict[str, str]:
    """Names of the streets and communities screens are scoped to ({} when the GIS is down)."""
    if not codes:
        return {}
    from command_center.screens.loader import known_region_names

    try:
        known = known_region_names(lambda level: cc.services.regions(level).value)
    except Exception:  # noqa: BLE001 - the code alone is shown
        return {}
    return {code: known[code] for code in codes if code in known}


def _timed(ping: Any) -> Health:
    started = time.perf_counter()
    try:
        ping()
    except Exception as exc:  # noqa: BLE001 - a probe reports, it does not raise
        return Health(False, (time.perf_counter() - started) * 1000, str(exc))
    return Health(True, (time.perf_counter() - started) * 1000)


def snapshot_json(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The ops figures as JSON (``GET /api/ops``), for a monitoring system."""
    backends = {
        name: {
            "up": state.health.up,
            "latency_ms": round(state.health.latency_ms, 1),
            "last_error": state.last_error,
            "down_since": state.down_since.isoformat(timespec="seconds")
            if state.down_since
            else None,
        }
        for name, state in snapshot["backends"].items()
    }
    checked = snapshot["checked_at"]
    audit = snapshot.get("audit")
    return {
        **{
            k: v
            for k, v in snapshot.items()
            if k not in ("screens", "backends", "checked_at", "audit")
        },
        "screens": [conn.as_dict() for conn in snapshot["screens"]],
        "backends": backends,
        "checked_at": checked.isoformat(timespec="seconds") if checked else None,
        "audit": None
        if audit is None
        else {
            "ok": audit.ok,
            "verified_id": audit.verified_id,
            "count": audit.count,
            "broken_id": audit.broken_id,
            "problem": audit.problem,
            "detail": audit.detail,
            "checked_at": audit.checked_at.isoformat(timespec="seconds"),
        },
    }


def install_ops_monitor(cc: Any) -> OpsWatch:
    from flask import jsonify

    watch = OpsWatch(cc)
    cc.ops_watch = watch
    cc.services.ops_watch = watch  # the ops panels' fetchers reach it through the services

    @cc.server.get("/api/ops")
    def ops_status() -> Any:
        """What the ops screen shows, for the whole deployment; any alarm API key reads it."""
        key, refused = cc.api_guard.check("api_ops")
        if key is None:
            return refused
        cc.api_guard.record(key, "api_ops", "ok")
        return jsonify(snapshot_json(watch.snapshot()))

    _ = ops_status
    return watch
