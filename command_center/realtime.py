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
  joins ``screen:<id>`` and ``region:<code>`` (or ``city`` when not scoped to a region).
  ``replay`` ``{"last_seen": id}``: ask again for what was missed.
  ``heartbeat``: optional, the engine.io ping already keeps ``last_heartbeat`` fresh.
server → client
  ``alarm``: an alarm (new, or folded: same id, higher ``count``), wire form ``Alarm.as_dict``.
  ``ack``: ``{"id", "acknowledged_by", "acknowledged_at"}``: clear it.
  ``alarms`` / ``acks``: lists of the above, in order, when a burst queued up several.
  ``sync``: on connect and on ``replay``: ``{"open": [...], "missed": [...], "last_id"}``;
  ``missed`` are the alarms after ``last_seen`` in id order (sent only when the client said
  what it had seen), ``open`` the most recent open alarms in its scope (at most
  ``CC_ALARM_OPEN_LIMIT``), oldest first, ``open_total`` how many are open in all.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import request
from flask_socketio import SocketIO, join_room

from command_center.alarms import Alarm, local_now

log = logging.getLogger(__name__)

CITY_ROOM = "city"


def alarm_rooms(alarm: Alarm) -> list[str]:
    """Where an alarm is heard: screens of the whole city and those of each region it is in."""
    return [CITY_ROOM, *(f"region:{code}" for code in alarm.region_codes)]


@dataclass
class ScreenConnection:
    sid: str
    screen: str
    region: str
    since: datetime
    address: str
    transport: str = ""
    last_heartbeat: datetime = field(default_factory=local_now)


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

    def _forward(self, topic: str, payload: dict[str, Any]) -> None:
        if getattr(self._relaying, "on", False):
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


class Realtime:
    """``cc.realtime``: the Socket.IO server, the screen registry and the broadcasts."""

    def __init__(self, cc: Any) -> None:
        settings = cc.settings
        self.cc = cc
        self.screens = ScreenRegistry()
        self.emitted = 0
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
        self._register_handlers()
        self._outbox: queue.Queue[tuple[str, Alarm] | None] = queue.Queue()
        self._sender = threading.Thread(target=self._send_loop, daemon=True, name="cc-broadcast")
        self._sender.start()
        cc.alarms.listen(self.broadcast)

    # --- outgoing -----------------------------------------------------------------------
    def broadcast(self, what: str, alarm: Alarm) -> None:
        """Called after the store committed: queue it for every screen whose rooms hear it.

        One sender thread emits in order. When it falls behind (a burst), what queued up in
        the meantime goes out as one ``alarms`` / ``acks`` list per set of rooms, so a storm
        of a thousand alarms is a handful of messages for a wall, not a thousand."""
        self._outbox.put((what, alarm))

    def _send_loop(self) -> None:
        while True:
            item = self._outbox.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < 500:
                try:
                    more = self._outbox.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._outbox.put(None)
                    break
                batch.append(more)
            try:
                self._emit_batch(batch)
            except Exception:  # noqa: BLE001 - stored alarms replay on reconnect
                log.exception("broadcast of %d alarm events failed", len(batch))

    def _emit_batch(self, batch: list[tuple[str, Alarm]]) -> None:
        # group by (kind, rooms) keeping order; alarms go before the acks of the same batch
        groups: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}
        for what, alarm in batch:
            payload = _ack_payload(alarm) if what == "ack" else alarm.as_dict()
            groups.setdefault((what, tuple(alarm_rooms(alarm))), []).append(payload)
        for (what, rooms), payloads in sorted(groups.items(), key=lambda g: g[0][0] == "ack"):
            if len(payloads) == 1:
                self.socketio.emit(what, payloads[0], to=list(rooms))
            else:
                self.socketio.emit(f"{what}s", payloads, to=list(rooms))
            self.emitted += len(payloads)

    def sync_payload(self, region: str | None, last_seen: int | None) -> dict[str, Any]:
        alarms = self.cc.alarms
        missed: list[dict[str, Any]] = []
        if last_seen is not None:
            for alarm in alarms.since(last_seen):
                if not region or (alarm.grid_code or "").startswith(region):
                    missed.append(alarm.as_dict())
        return {
            "open": [a.as_dict() for a in alarms.open_alarms(region or None)],
            "missed": missed,
            "open_total": alarms.store.open_count(region or None),
            "last_id": alarms.store.last_id(),
            "sound_levels": list(self.cc.settings.alarm_sound_levels),
        }

    # --- incoming -----------------------------------------------------------------------
    def _register_handlers(self) -> None:
        sio = self.socketio

        @sio.on("connect")
        def connect(auth: Any = None) -> None:
            auth = auth if isinstance(auth, dict) else {}
            screen = str(auth.get("screen") or _screen_from_path(auth.get("pathname")) or "")
            region = str(auth.get("region") or "")
            join_room(f"screen:{screen or '-'}")
            join_room(f"region:{region}" if region else CITY_ROOM)
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
            last_seen = _int_or_none(auth.get("last_seen"))
            sio.emit("sync", self.sync_payload(region, last_seen), to=request.sid)  # type: ignore[attr-defined]

        @sio.on("disconnect")
        def disconnect(*_args: Any) -> None:
            self.screens.remove(request.sid)  # type: ignore[attr-defined]

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
                    conn.last_heartbeat = datetime.fromtimestamp(int(sock.last_ping))
            except Exception:  # noqa: BLE001 - the registry's own value is good enough
                pass
            out.append(conn)
        return out

    def close(self) -> None:
        self._outbox.put(None)
        self._sender.join(timeout=3)
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
    """Alarms, Socket.IO, the alarm API, the wall's socket callbacks and the ops watcher on
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
    """The API, the wall callbacks and the ops watcher, each in its own module."""
    import importlib

    for module, function in (
        ("command_center.alarms_api", "install_alarms_api"),
        ("callbacks.alarms", "register_socket_callbacks"),
        ("command_center.ops_monitor", "install_ops_monitor"),
    ):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        getattr(mod, function)(cc)
