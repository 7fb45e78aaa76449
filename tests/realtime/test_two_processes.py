"""Two gunicorn processes (the Procfile's ``gunicorn -w 1 --threads N``, scaled to two)
sharing the real Redis on this machine and one database: an alarm posted to one is heard by
the screens of both, an acknowledgement on the other clears it on both, and an event
published on the bus of either process is ingested once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from conftest import MINIMAL_SCREENS, Screen  # type: ignore[import-not-found]
from rt_support import API_KEYS, alarm_body  # type: ignore[import-not-found]

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/0"
IOT = {"X-API-Key": API_KEYS["iot"]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def two_processes(alarm_db: str, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    from tests_support_redis import require_redis  # type: ignore[import-not-found]

    require_redis()
    screens = tmp_path / "screens.yaml"
    screens.write_text(MINIMAL_SCREENS, encoding="utf-8")
    channel = f"cc-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "CC_DATABASE_URL": alarm_db,
        "CC_DATA_DIR": str(tmp_path / "var"),
        "CC_SCREENS_FILE": str(screens),
        "CC_SIMULATE": "false",
        "CC_REDIS_URL": REDIS_URL,
        "CC_REDIS_CHANNEL": channel,
        "CC_API_KEYS": json.dumps(API_KEYS),
        "CC_ALARM_FOLD_SECONDS": "0",
    }
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    procs, bases = [], []
    for _ in range(2):
        port = free_port()
        procs.append(
            subprocess.Popen(
                [
                    gunicorn,
                    "-w",
                    "1",
                    "--threads",
                    "8",
                    "--graceful-timeout",
                    "2",
                    "-b",
                    f"127.0.0.1:{port}",
                    "command_center.wsgi:app",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=(tmp_path / f"gunicorn-{port}.log").open("w"),
            )
        )
        bases.append(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        for base in bases:
            while True:
                try:
                    if requests.get(f"{base}/api/alarms", headers=IOT, timeout=5).ok:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    logs = [p.read_text() for p in tmp_path.glob("gunicorn-*.log")]
                    raise AssertionError(f"gunicorn did not start: {logs}")
                time.sleep(0.3)
        yield bases[0], bases[1], channel
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def test_alarm_posted_to_one_process_reaches_screens_of_both(two_processes) -> None:  # noqa: ANN001
    base_a, base_b, _channel = two_processes
    on_a = Screen(base_a, screen="main").connect()
    on_b = Screen(base_b, screen="duty").connect()
    try:
        answer = requests.post(f"{base_a}/api/alarms", json=alarm_body(1), headers=IOT, timeout=5)
        assert answer.status_code == 201
        alarm_id = answer.json()["alarm"]["id"]
        for screen in (on_a, on_b):
            heard = screen.wait_for(lambda s=screen: s.of("alarm"), timeout=3)
            assert heard[0]["id"] == alarm_id
        # acknowledged through the other process: cleared on both
        ack = requests.post(f"{base_b}/api/alarms/{alarm_id}/ack", headers=IOT, timeout=5)
        assert ack.status_code == 200
        for screen in (on_a, on_b):
            assert screen.wait_for(lambda s=screen: s.of("ack"), timeout=3)[0]["id"] == alarm_id
        time.sleep(0.3)
        assert len(on_a.of("alarm")) == len(on_b.of("alarm")) == 1
    finally:
        on_a.disconnect()
        on_b.disconnect()


def test_bus_event_over_redis_is_ingested_once(two_processes) -> None:  # noqa: ANN001
    base_a, base_b, channel = two_processes
    on_a = Screen(base_a, screen="main").connect()
    on_b = Screen(base_b, screen="duty").connect()
    try:
        client = redis.Redis.from_url(REDIS_URL)
        message = {"origin": "test", "topic": "alarm.raised", "payload": alarm_body(9)}
        assert client.publish(f"{channel}.events", json.dumps(message)) == 2
        client.close()
        for screen in (on_a, on_b):
            screen.wait_for(lambda s=screen: s.of("alarm"), timeout=5)
        time.sleep(0.5)
        assert len(on_a.of("alarm")) == len(on_b.of("alarm")) == 1
        listed = requests.get(f"{base_b}/api/alarms?since=0", headers=IOT, timeout=5).json()
        assert [a["source_id"] for a in listed["alarms"]] == ["t-9"]
    finally:
        on_a.disconnect()
        on_b.disconnect()
