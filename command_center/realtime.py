"""The real-time layer: Flask-SocketIO on the app's Flask server, rooms, replay, and the
event bus over Redis.

Threading mode with simple-websocket (the maintainers' advice for new apps): it runs under
werkzeug's threaded server (tests, ``command-center demo``) and under gunicorn's gthread
worker with one worker per process (``gunicorn -w 1 --threads N``). Several processes need a
proxy with sticky sessions (the long-polling transport must reach the same process) and
``CC_REDIS_URL``: Socket.IO then uses Redis as its message queue, and the event bus is
bridged over Redis pub/sub, so every process hears every event and every client every alarm.

Protocol (namespace ``/``):

client → server
  connect ``auth``: ``{"screen": id, "region": code?, "last_seen": alarm id?}`` — the screen
  joins ``screen:<id>`` and its scope: ``city``, or for a screen scoped to a street or
  community (``region:`` of the screen in screens.yaml, which wins; else ``auth.region``)
  ``region:<code>`` plus ``citywide``, the room of alarms at or above
  ``CC_ALARM_CITYWIDE_LEVEL`` (特别重大 by default) that every screen must hear.
  ``replay`` ``{"last_seen": id}``: ask again for what was missed.
  ``heartbeat``: optional, the engine.io ping already keeps ``last_heartbeat`` fresh.
server → client
  ``alarm``: an alarm (new, or folded: same id, higher ``count``), wire form ``Alarm.as_dict``.
  ``ack``: ``{"id", "acknowledged_by", "acknowledged_at"}``: clear it.
  ``alarms`` / ``acks``: lists of the above, in order, when a burst queued up several: in a
  storm a screen gets at most one message per room every ``BURST_GAP`` seconds, however
  many alarms (the first alarm after a quiet spell goes out at once).
  ``sync``: on connect and on ``replay``: ``{"open": [...], "missed": [...], "last_id"}``;
  ``missed`` are the alarms after ``last_seen`` in id order (sent only when the client said
  what it had seen), ``open`` the most recent open alarms in its scope (at most
  ``CC_ALARM_OPEN_LIMIT``), oldest first, ``open_total`` how many are open in all; a scoped
  screen's scope is its region and the city-wide levels.

Several processes (``CC_REDIS_URL``): the ops figures are the deployment's, not one
process's: alarms, acknowledgements and events per minute are counted in Redis
(``SharedCounts``), and every process lists the screens connected to it in a Redis hash that
the ops screen of any process reads (``ScreenDirectory``).
"""

from __future__ import annotations

import json
import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from flask import request
from flask_socketio import SocketIO, join_room

from command_center.alarms import Alarm, alarm_in_scope, local_now
from command_center.domain.calendar import from_epoch_seconds

log = logging.getLogger(__name__)

CITY_ROOM = "city"
CITYWIDE_ROOM = "citywide"
#: in a storm, at most one message per room this often (the first after a lull at once)
BURST_GAP = 0.1
#: most alarm events in one message
BATCH_LIMIT = 2000


def alarm_rooms(alarm: Alarm, citywide: Sequence[str] = ()) -> list[str]:
    """Where an alarm is heard: screens of the whole city and those of each region it is in;
    one of the ``citywide`` levels reaches scoped screens through their ``citywide`` room."""
    if alarm.level in citywide:
        return [CITY_ROOM, CITYWIDE_ROOM]
    return [CITY_ROOM, *(f"region:{code}" for code in alarm.region_codes)]


def scope_rooms(region: str) -> list[str]:
    """The rooms a screen of that scope joins (a screen joins ``screen:<id>`` too)."""
    return [f"region:{region}", CITYWIDE_ROOM] if region else [CITY_ROOM]


PROCESS = f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class ScreenConnection:
    sid: str
    screen: str
    region: str
    since: datetime
    address: str
    transport: str = ""
    last_heartbeat: datetime = field(default_factory=local_now)
    process: str = PROCESS

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("since", "last_heartbeat"):
            out[key] = out[key].isoformat(timespec="seconds")
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScreenConnection:
        values = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        for key in ("since", "last_heartbeat"):
            values[key] = datetime.fromisoformat(values[key])
        return cls(**values)


class ScreenRegistry:
    """The screens connected to this process: which screen, since when, last heartbeat."""

    def __init__(self) -> None:
        self._by_sid: dict[str, ScreenConnection] = {}
        self._lock = threading.Lock()

    def add(self, conn: ScreenConnection) -> None:
        with self._lock:
            self._by_sid[conn.sid] = conn

    def remove(self, sid: str) -> None:
        with self._lock:
            self._by_sid.pop(sid, None)

    def beat(self, sid: str, at: datetime | None = None) -> None:
        with self._lock:
            conn = self._by_sid.get(sid)
            if conn is not None:
                conn.last_heartbeat = at or local_now()

    def all(self) -> list[ScreenConnection]:
        with self._lock:
            return sorted(self._by_sid.values(), key=lambda c: (c.screen, c.since))

    def __len__(self) -> int:
        return len(self._by_sid)


class RedisBusBridge:
    """Every local event goes to Redis; every other process's event is published locally.

    A thread-local flag stops an event relayed from Redis from being sent back out."""

    def __init__(self, bus: Any, redis_url: str, channel: str) -> None:
        import redis

        self.bus = bus
        self.channel = channel
        self.origin = uuid.uuid4().hex
        self.redis = redis.Redis.from_url(redis_url)
        self._relaying = threading.local()
        self._stop = threading.Event()
        self._pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(channel)
        self._thread = threading.Thread(target=self._listen, daemon=True, name="cc-bus-redis")
        self.relayed = 0
        bus.subscribe("*", self._forward)
        self._thread.start()

    def relaying(self) -> bool:
        """True on the thread that is publishing another process's event here."""
        return bool(getattr(self._relaying, "on", False))

    def _forward(self, topic: str, payload: dict[str, Any]) -> None:
        if self.relaying():
            return
        message = json.dumps(
            {"origin": self.origin, "topic": topic, "payload": payload},
            ensure_ascii=False,
            default=str,
        )
        self.redis.publish(self.channel, message)

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                message = self._pubsub.get_message(timeout=1.0)
            except Exception as exc:  # noqa: BLE001 - Redis restarted: retry, do not die
                log.warning("event bus bridge lost Redis: %s", exc)
                time.sleep(1.0)
                continue
            if not message:
                continue
            try:
                data = json.loads(message["data"])
            except (TypeError, ValueError):
                continue
            if data.get("origin") == self.origin:
                continue
            self._relaying.on = True
            try:
                self.relayed += 1
                self.bus.publish(data["topic"], data.get("payload") or {})
            finally:
                self._relaying.on = False

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=3)
        try:
            self._pubsub.close()
            self.redis.close()
        except Exception:  # noqa: BLE001 - closing on the way out
            pass


class SharedCounts:
    """Per-minute counts of the whole deployment in Redis: every process adds what it did
    (``RateCounter`` hands it its counts), the ops screen of any process reads the sums.

    Counts are buffered and written once a second by one thread, so an alarm never waits
    for Redis; a Redis that is away costs the ops figures, never an alarm."""

    def __init__(self, redis_url: str, prefix: str, minutes: int = 15) -> None:
        import redis

        self.redis = redis.Redis.from_url(redis_url, socket_timeout=2)
        self.prefix = prefix
        self.minutes = minutes
        self._pending: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="cc-shared-counts")
        self._thread.start()

    def _key(self, name: str) -> str:
        return f"{self.prefix}.rate.{name}"

    def add(self, name: str, minute: int, n: int) -> None:
        with self._lock:
            self._pending[(name, minute)] = self._pending.get((name, minute), 0) + n

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return
        try:
            pipe = self.redis.pipeline(transaction=False)
            for (name, minute), n in pending.items():
                pipe.hincrby(self._key(name), str(minute), n)
                pipe.hincrby(self._key(name), "total", n)
                pipe.expire(self._key(name), 24 * 3600)  # a deployment idle for a day restarts
            pipe.execute()
        except Exception as exc:  # noqa: BLE001 - keep the counts for the next round
            log.warning("shared ops counts not written: %s", exc)
            with self._lock:
                for key, n in pending.items():
                    self._pending[key] = self._pending.get(key, 0) + n

    def read(self, name: str) -> tuple[dict[int, int], int]:
        """(count per minute, total) of the deployment, with this process's unwritten ones."""
        raw = self.redis.hgetall(self._key(name))
        per_minute: dict[int, int] = {}
        total, old = 0, []
        oldest = int(time.time() // 60) - self.minutes
        for key, value in raw.items():
            field_name = key.decode() if isinstance(key, bytes) else str(key)
            if field_name == "total":
                total = int(value)
            elif int(field_name) < oldest:
                old.append(field_name)  # a hash field has no TTL of its own: readers prune
            else:
                per_minute[int(field_name)] = int(value)
        if old:
            self.redis.hdel(self._key(name), *old)
        with self._lock:
            for (pending_name, minute), n in self._pending.items():
                if pending_name == name:
                    per_minute[minute] = per_minute.get(minute, 0) + n
                    total += n
        return per_minute, total

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.flush()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=3)
        self.flush()
        self.redis.close()


class ScreenDirectory:
    """The screens connected to every process of the deployment, for the ops screen.

    Without Redis it is this process's registry. With Redis every process writes its own
    connections as one field of a hash (``<channel>.screens``: process → JSON with the time
    written) at once on a connect or disconnect and every ``beat_seconds`` as a heartbeat;
    readers take the fields written within ``3 × beat_seconds`` and delete the older ones,
    so the screens of a process that died leave the list by themselves."""

    def __init__(
        self,
        local: Callable[[], list[ScreenConnection]],
        redis_url: str = "",
        key: str = "",
        beat_seconds: float = 5.0,
    ) -> None:
        self.local = local
        self.key = key
        self.beat_seconds = max(0.5, beat_seconds)
        self.redis: Any = None
        self._changed = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if redis_url:
            import redis

            self.redis = redis.Redis.from_url(redis_url, socket_timeout=2)
            self._thread = threading.Thread(target=self._run, daemon=True, name="cc-screens-beat")
            self._thread.start()

    @property
    def ttl(self) -> float:
        return 3 * self.beat_seconds

    def changed(self) -> None:
        """A screen connected or left: write the list now, not at the next beat."""
        self._changed.set()

    def publish(self) -> None:
        record = {"at": time.time(), "screens": [c.as_dict() for c in self.local()]}
        pipe = self.redis.pipeline(transaction=False)
        pipe.hset(self.key, PROCESS, json.dumps(record, ensure_ascii=False))
        pipe.expire(self.key, int(self.ttl) + 1)
        pipe.execute()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.publish()
            except Exception as exc:  # noqa: BLE001 - Redis away: the next beat retries
                log.warning("screen heartbeat not written: %s", exc)
            self._changed.wait(self.beat_seconds)
            self._changed.clear()

    def all(self) -> list[ScreenConnection]:
        """Every process's screens (this process's live), by screen and since."""
        mine = self.local()
        if self.redis is None:
            return mine
        out = list(mine)
        try:
            fields = self.redis.hgetall(self.key)
        except Exception as exc:  # noqa: BLE001 - show at least this process's screens
            log.warning("screens of the other processes unknown: %s", exc)
            return mine
        now, stale = time.time(), []
        for raw_process, raw in fields.items():
            process = raw_process.decode() if isinstance(raw_process, bytes) else raw_process
            if process == PROCESS:
                continue
            try:
                record = json.loads(raw)
                if now - float(record["at"]) > self.ttl:
                    stale.append(process)
                    continue
                out.extend(ScreenConnection.from_dict(c) for c in record["screens"])
            except (KeyError, TypeError, ValueError):
                stale.append(process)
        if stale:
            try:
                self.redis.hdel(self.key, *stale)
            except Exception:  # noqa: BLE001 - the next reader deletes them
                pass
        return sorted(out, key=lambda c: (c.screen, c.since, c.process))

    def close(self) -> None:
        self._stop.set()
        self._changed.set()
        if self._thread is not None:
            self._thread.join(timeout=3)
        if self.redis is not None:
            try:
                self.redis.hdel(self.key, PROCESS)
                self.redis.close()
            except Exception:  # noqa: BLE001 - the TTL removes it
                pass


class Realtime:
    """``cc.realtime``: the Socket.IO server, the screen registry and the broadcasts."""

    def __init__(self, cc: Any) -> None:
        settings = cc.settings
        self.cc = cc
        self.screens = ScreenRegistry()
        self.emitted = 0
        self.messages = 0
        self.socketio = SocketIO(
            cc.server,
            async_mode="threading",
            message_queue=settings.redis_url or None,
            channel=f"{settings.redis_channel}.socketio",
            # same origin only (the walls are served by this app); engine.io checks Origin
            cors_allowed_origins=None,
            ping_interval=10,
            ping_timeout=10,
            json=_WireJson,
        )
        self.bridge = (
            RedisBusBridge(cc.bus, settings.redis_url, f"{settings.redis_channel}.events")
            if settings.redis_url
            else None
        )
        self.directory = ScreenDirectory(
            self.connected_screens,
            settings.redis_url,
            f"{settings.redis_channel}.screens",
            settings.alarm_watch_seconds,
        )
        self.shared_counts = (
            SharedCounts(settings.redis_url, settings.redis_channel) if settings.redis_url else None
        )
        if self.shared_counts is not None:
            relaying = self.bridge.relaying if self.bridge is not None else None
            cc.alarms.share_counts(self.shared_counts, relaying)
        self._register_handlers()
        self._outbox: queue.Queue[tuple[str, Alarm] | None] = queue.Queue()
        self._sender = threading.Thread(target=self._send_loop, daemon=True, name="cc-broadcast")
        self._sender.start()
        cc.alarms.listen(self.broadcast)

    # --- outgoing -----------------------------------------------------------------------
    def broadcast(self, what: str, alarm: Alarm) -> None:
        """Called after the store committed: queue it for every screen whose rooms hear it.

        One sender thread emits in order. The first alarm after a lull goes out at once; in
        a burst the sender waits ``BURST_GAP`` after each send, and what queued up meanwhile
        goes out as one ``alarms`` / ``acks`` list per room, so a storm of a thousand alarms
        is a handful of messages for a wall, not a thousand (a browser pays for each)."""
        self._outbox.put((what, alarm))

    def _send_loop(self) -> None:
        last_sent = 0.0
        while True:
            item = self._outbox.get()
            if item is None:
                return
            lull = last_sent + BURST_GAP - time.monotonic()
            if lull > 0:  # still in a burst: let the rest of it queue up
                time.sleep(lull)
            batch = [item]
            stop = False
            while len(batch) < BATCH_LIMIT:
                try:
                    more = self._outbox.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            try:
                self._emit_batch(batch)
            except Exception:  # noqa: BLE001 - stored alarms replay on reconnect
                log.exception("broadcast of %d alarm events failed", len(batch))
            last_sent = time.monotonic()
            if stop:
                return

    def _emit_batch(self, batch: list[tuple[str, Alarm]]) -> None:
        citywide = self.cc.alarms.citywide_levels
        if len(batch) == 1:  # the common case: one message to every room that hears it
            what, alarm = batch[0]
            payload = _ack_payload(alarm) if what == "ack" else alarm.as_dict()
            self.socketio.emit(what, payload, to=alarm_rooms(alarm, citywide))
            self.emitted += 1
            self.messages += 1
            return
        # several: one list per room, in order, alarms before the acks of the same batch;
        # a screen is in exactly one room that hears a given alarm, so it hears it once
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for what, alarm in batch:
            payload = _ack_payload(alarm) if what == "ack" else alarm.as_dict()
            for room in alarm_rooms(alarm, citywide):
                groups.setdefault((what, room), []).append(payload)
        for (what, room), payloads in sorted(groups.items(), key=lambda g: g[0][0] == "ack"):
            if len(payloads) == 1:
                self.socketio.emit(what, payloads[0], to=room)
            else:
                self.socketio.emit(f"{what}s", payloads, to=room)
            self.messages += 1
        self.emitted += len(batch)

    def sync_payload(self, region: str | None, last_seen: int | None) -> dict[str, Any]:
        """What a screen of that scope gets on (re)connect: open alarms, and those after
        ``last_seen`` (its region's and the city-wide levels', when scoped)."""
        alarms = self.cc.alarms
        also = alarms.citywide_levels if region else ()
        # first the last id, then the count of what is open up to it: an alarm stored while
        # this is put together comes as an event after the sync and is counted then, once
        last_id = alarms.store.last_id()
        missed: list[dict[str, Any]] = []
        if last_seen is not None:
            missed = [
                a.as_dict() for a in alarms.since(last_seen) if alarm_in_scope(a, region, also)
            ]
        return {
            "open": [a.as_dict() for a in alarms.open_alarms(region or None, with_citywide=True)],
            "missed": missed,
            "open_total": alarms.store.open_count(region or None, also, up_to=last_id),
            "last_id": last_id,
            "sound_levels": list(self.cc.settings.alarm_sound_levels),
            "region": region or "",
        }

    def screen_region(self, screen: str, asked: Any) -> str:
        """A screen's scope: its ``region`` in screens.yaml, else what the client asked."""
        spec = self.cc.watcher.current.get(screen) if screen else None
        if spec is not None and spec.region:
            return spec.region
        asked = str(asked or "")
        return asked if asked.isdigit() else ""

    # --- incoming -----------------------------------------------------------------------
    def _register_handlers(self) -> None:
        sio = self.socketio

        @sio.on("connect")
        def connect(auth: Any = None) -> None:
            auth = auth if isinstance(auth, dict) else {}
            screen = str(auth.get("screen") or _screen_from_path(auth.get("pathname")) or "")
            region = self.screen_region(screen, auth.get("region"))
            join_room(f"screen:{screen or '-'}")
            for room in scope_rooms(region):
                join_room(room)
            self.screens.add(
                ScreenConnection(
                    sid=request.sid,  # type: ignore[attr-defined]
                    screen=screen,
                    region=region,
                    since=local_now(),
                    address=request.remote_addr or "",
                    transport=request.args.get("transport", ""),
                )
            )
            self.directory.changed()
            last_seen = _int_or_none(auth.get("last_seen"))
            sio.emit("sync", self.sync_payload(region, last_seen), to=request.sid)  # type: ignore[attr-defined]

        @sio.on("disconnect")
        def disconnect(*_args: Any) -> None:
            self.screens.remove(request.sid)  # type: ignore[attr-defined]
            self.directory.changed()

        @sio.on("replay")
        def replay(data: Any = None) -> None:
            data = data if isinstance(data, dict) else {}
            sid = request.sid  # type: ignore[attr-defined]
            conn = next((c for c in self.screens.all() if c.sid == sid), None)
            region = conn.region if conn else ""
            sio.emit("sync", self.sync_payload(region, _int_or_none(data.get("last_seen"))), to=sid)

        @sio.on("heartbeat")
        def heartbeat(*_args: Any) -> None:
            self.screens.beat(request.sid)  # type: ignore[attr-defined]

        _ = (connect, disconnect, replay, heartbeat)

    def connected_screens(self) -> list[ScreenConnection]:
        """This process's connections, with the heartbeat refreshed from engine.io's pings."""
        out = []
        eio = self.socketio.server.eio if self.socketio.server else None
        manager = self.socketio.server.manager if self.socketio.server else None
        for conn in self.screens.all():
            try:
                eio_sid = manager.eio_sid_from_sid(conn.sid, "/") if manager else None
                sock = eio.sockets.get(eio_sid) if eio and eio_sid else None
                if sock is not None and sock.last_ping:
                    conn.last_heartbeat = from_epoch_seconds(int(sock.last_ping))
            except Exception:  # noqa: BLE001 - the registry's own value is good enough
                pass
            out.append(conn)
        return out

    def all_screens(self) -> list[ScreenConnection]:
        """The screens connected to every process (with Redis), else to this one."""
        return self.directory.all()

    def close(self) -> None:
        self._outbox.put(None)
        self._sender.join(timeout=3)
        self.directory.close()
        if self.shared_counts is not None:
            self.shared_counts.close()
        if self.bridge is not None:
            self.bridge.close()


class _WireJson:
    """JSON for the wire: Chinese as is, dates as ISO text."""

    @staticmethod
    def dumps(obj: Any, **kw: Any) -> str:
        kw.setdefault("ensure_ascii", False)
        kw.setdefault("default", str)
        return json.dumps(obj, **kw)

    @staticmethod
    def loads(text: str | bytes, **kw: Any) -> Any:
        return json.loads(text, **kw)


def _ack_payload(alarm: Alarm) -> dict[str, Any]:
    at = alarm.acknowledged_at
    return {
        "id": alarm.id,
        "acknowledged_by": alarm.acknowledged_by,
        "acknowledged_at": at.isoformat(timespec="seconds") if at else None,
    }


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _screen_from_path(pathname: Any) -> str:
    """dash-socketio sends the page's pathname: /wall/<screen>."""
    if isinstance(pathname, str) and pathname.startswith("/wall/"):
        return pathname[len("/wall/") :].strip("/")
    return ""


def install_realtime(cc: Any, start: bool = True) -> Realtime:
    """Alarms, Socket.IO, the alarm API and the ops watcher on
    ``cc`` (``cc.alarms``, ``cc.realtime``, ``cc.socketio``, ``cc.ops_watch``); with
    ``start`` the escalation and health-watch threads run until ``cc.stop()``."""
    from command_center.alarms import install_alarms

    if not hasattr(cc, "alarms"):
        install_alarms(cc)
    realtime = Realtime(cc)
    cc.realtime = realtime
    cc.socketio = realtime.socketio
    _install_optional(cc)
    if start:
        cc.alarms.start()
        watch = getattr(cc, "ops_watch", None)
        if watch is not None:
            watch.start()
    app_stop = cc.stop

    def stop() -> None:
        cc.alarms.stop()
        watch = getattr(cc, "ops_watch", None)
        if watch is not None:
            watch.stop()
        realtime.close()
        app_stop()

    cc.stop = stop  # the app's own stop, after ours
    return realtime


def _install_optional(cc: Any) -> None:
    """The API and the ops watcher, each in its own module."""
    import importlib

    for module, function in (
        ("command_center.alarms_api", "install_alarms_api"),
        ("command_center.ops_monitor", "install_ops_monitor"),
    ):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        getattr(mod, function)(cc)
