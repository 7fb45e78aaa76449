"""Two gunicorn processes (the Procfile's ``gunicorn -w 1 --threads N``, scaled to two)
sharing the real Redis on this machine and one database: an alarm posted to one is heard by
the screens of both, an acknowledgement on the other clears it on both, an event published
on the bus of either process is ingested once, and the ops figures of either process are
the deployment's: acknowledgements made in the other process, and the screens connected to
both (the screens of a process that died leave the list by themselves)."""

from __future__ import annotations

import json
import os
import secrets
import signal
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
PROCESSES: dict[str, subprocess.Popen] = {}  # base URL -> its gunicorn, for a test to kill


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
        "CC_SECRET_KEY": secrets.token_urlsafe(32),
        "CC_ALARM_WATCH_SECONDS": "1",  # screens' heartbeats every second, gone after 3
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
        PROCESSES.update(zip(bases, procs, strict=True))
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


def kill_hard(master: subprocess.Popen) -> None:
    """SIGKILL a gunicorn worker and its master: no clean-up code runs."""
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    for pid in children:
        os.kill(int(pid), signal.SIGKILL)
    master.kill()


def ops(base: str) -> dict:
    answer = requests.get(f"{base}/api/ops", headers=IOT, timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()


def wait_until(condition, timeout: float = 10.0):  # noqa: ANN001, ANN201
    """Poll an HTTP figure until it holds (counts are written to Redis once a second)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_acknowledgements_in_the_other_process_reach_the_ops_counters(two_processes) -> None:  # noqa: ANN001
    base_a, base_b, _channel = two_processes
    answer = requests.post(f"{base_a}/api/alarms", json=alarm_body(1), headers=IOT, timeout=5)
    alarm_id = answer.json()["alarm"]["id"]
    assert requests.post(f"{base_b}/api/alarms/{alarm_id}/ack", headers=IOT, timeout=5).ok
    seen = wait_until(lambda: (s := ops(base_a))["acks_total"] == 1 and s)
    assert seen, ops(base_a)
    assert seen["acks_per_minute"][-1][1] + seen["acks_per_minute"][-2][1] == 1
    assert seen["alarms_total"] == 1  # posted to A, counted once for the deployment
    # each process writes its counts once a second: the other one's arrive within that
    assert wait_until(lambda: (s := ops(base_b))["acks_total"] == s["alarms_total"] == 1)
    assert seen["alarm_counts"] == {"acknowledged": 1}
    # an event published in one process is one event of the deployment, not one per process
    events = seen["events_total"]
    requests.post(f"{base_b}/api/alarms", json=alarm_body(2), headers=IOT, timeout=5)
    after = wait_until(lambda: (s := ops(base_a))["alarms_total"] == 2 and s)
    assert after and after["events_total"] - events == 1


def test_the_ops_screen_lists_the_screens_of_every_process(two_processes) -> None:  # noqa: ANN001
    base_a, base_b, _channel = two_processes
    on_a = Screen(base_a, screen="main").connect()
    on_b = Screen(base_b, screen="duty").connect()
    try:

        def listed(base: str) -> list[tuple[str, str]]:
            return sorted((s["screen"], s["process"]) for s in ops(base)["screens"])

        both = wait_until(lambda: len(listed(base_a)) == 2 and listed(base_a))
        assert both and [screen for screen, _ in both] == ["duty", "main"]
        assert both[0][1] != both[1][1]  # two processes
        assert wait_until(lambda: listed(base_b) == both)
        on_b.disconnect()  # leaves A's list at once, not after the heartbeat's TTL
        assert wait_until(lambda: [s for s, _ in listed(base_a)] == ["main"], timeout=2.5)
        on_b = Screen(base_b, screen="duty").connect()
        assert wait_until(lambda: len(listed(base_a)) == 2)
        kill_hard(PROCESSES[base_b])  # dies without a word: its heartbeats stop
        gone = wait_until(lambda: [s for s, _ in listed(base_a)] == ["main"], timeout=10)
        assert gone, listed(base_a)
    finally:
        on_a.disconnect()
        on_b.disconnect()
