"""Fixtures of the real-time tests: a running app on an ephemeral port over an empty,
migrated SQLite database (alarms need no city), and Socket.IO clients that record what
they hear."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio
from rt_support import API_KEYS  # type: ignore[import-not-found]

MINIMAL_SCREENS = """
screens:
  - id: main
    title: 告警测试
    size: 1920x1080
    grid: {columns: 12, rows: 6, gap: 10}
    panels:
      - {id: health, kind: ops_health, col: 1, row: 1, col_span: 12, row_span: 6}
"""


def alarm_settings(db_url: str, tmp_path: Path, **overrides: Any):  # noqa: ANN201
    from command_center.settings import Settings

    screens = tmp_path / "screens.yaml"
    if not screens.exists():  # a screen of our own: the shared screens.yaml moves under us
        screens.write_text(MINIMAL_SCREENS, encoding="utf-8")
    values: dict[str, Any] = {
        "database_url": db_url,
        "data_dir": tmp_path / "var",
        "screens_file": screens,
        "screens_poll_seconds": 0.5,
        "simulate": False,
        "api_keys": API_KEYS,
        "alarm_fold_seconds": 0.0,
        "secret_key": secrets.token_urlsafe(32),  # the app refuses to start without one
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture()
def alarm_db(tmp_path: Path) -> str:
    from adapters.sql.db import upgrade

    url = f"sqlite:///{tmp_path / 'alarms.sqlite'}"
    upgrade(url)
    return url


@pytest.fixture()
def make_app(tmp_path: Path, alarm_db: str) -> Iterator[Callable[..., tuple[Any, str]]]:
    """Start apps (settings overrides as keywords); all are stopped after the test."""
    from command_center.app import create_app
    from command_center.runtime import start_background_server

    running: list[tuple[Any, Any]] = []

    def start(**overrides: Any) -> tuple[Any, str]:
        cc = create_app(alarm_settings(alarm_db, tmp_path, **overrides), start_background=False)
        server, base = start_background_server(cc)
        running.append((cc, server))
        return cc, base

    yield start
    for cc, server in running:
        server.shutdown()
        cc.stop()


@pytest.fixture()
def rt_app(make_app: Callable[..., tuple[Any, str]]) -> tuple[Any, str]:
    return make_app()


class Screen:
    """A python-socketio client standing in for a wall: records every event it hears."""

    def __init__(self, base: str, **auth: Any) -> None:
        self.base = base
        self.auth = auth
        self.events: list[tuple[str, Any]] = []
        self.batches = 0
        self._changed = threading.Condition()
        self.client = socketio.Client(reconnection=False)
        for name in ("alarm", "ack", "sync"):
            self.client.on(name, self._recorder(name))
        # a burst arrives as lists: record each item as its own event, in order
        self.client.on("alarms", self._list_recorder("alarm"))
        self.client.on("acks", self._list_recorder("ack"))

    def _recorder(self, name: str) -> Callable[[Any], None]:
        def record(data: Any) -> None:
            with self._changed:
                self.events.append((name, data))
                self._changed.notify_all()

        return record

    def _list_recorder(self, name: str) -> Callable[[Any], None]:
        def record(items: list[Any]) -> None:
            with self._changed:
                self.events.extend((name, item) for item in items)
                self.batches += 1
                self._changed.notify_all()

        return record

    def connect(self, **auth: Any) -> Screen:
        self.auth.update(auth)
        self.client.connect(self.base, transports=["websocket"], auth=self.auth, wait_timeout=5)
        self.wait_for(lambda: self.of("sync"), 5)
        return self

    def disconnect(self) -> None:
        if self.client.connected:
            self.client.disconnect()

    def of(self, name: str) -> list[Any]:
        with self._changed:
            return [data for event, data in self.events if event == name]

    def wait_for(self, condition: Callable[[], Any], timeout: float = 2.0) -> Any:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = condition()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"not heard within {timeout}s; heard {self.events[-5:]}")
                self._changed.wait(left)


@pytest.fixture()
def screens() -> Iterator[Callable[..., Screen]]:
    opened: list[Screen] = []

    def open_screen(base: str, **auth: Any) -> Screen:
        screen = Screen(base, **auth)
        opened.append(screen)
        return screen

    yield open_screen
    # a client's disconnect waits for the close handshake: close them side by side
    closing = [threading.Thread(target=screen.disconnect) for screen in opened]
    for thread in closing:
        thread.start()
    for thread in closing:
        thread.join(timeout=10)
