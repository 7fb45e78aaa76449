"""Keys of the alarm API (issue 13, item 4, and the per-key rate limit of item 5): a key acts
on its own source's alarms only, ``by`` is the key, keys are stored hashed and made,
rotated and revoked from the CLI, every use is audited, and a key past its rate gets 429
with ``Retry-After`` (counted in Redis when several processes share it).

Against running servers over a migrated SQLite database (alarms need no city)."""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import require_service

SCREENS = """
screens:
  - id: main
    title: 密钥测试
    size: 1920x1080
    grid: {columns: 12, rows: 6, gap: 10}
    panels:
      - {id: health, kind: ops_health, col: 1, row: 1, col_span: 12, row_span: 6}
"""

ENV_KEYS = {"iot": "key-iot", "video": "key-video"}


def alarm(n: int, source: str = "iot", **kw: Any) -> dict[str, Any]:
    body = {
        "source": source,
        "source_id": f"k-{n}",
        "level": "重大",
        "class_code": f"07{n % 90 + 1:02d}",
        "title": "积水超限",
        "grid_code": "11010100100101",
    }
    body.update(kw)
    return body


@pytest.fixture()
def db_url(tmp_path: Path) -> str:
    from adapters.sql.db import upgrade

    url = f"sqlite:///{tmp_path / 'keys.sqlite'}"
    upgrade(url)
    return url


@pytest.fixture()
def make_app(tmp_path: Path, db_url: str) -> Iterator[Callable[..., tuple[Any, str]]]:
    from command_center.app import create_app
    from command_center.runtime import start_background_server
    from command_center.settings import Settings
    from tests.conftest import random_secret

    running: list[tuple[Any, Any]] = []
    (tmp_path / "screens.yaml").write_text(SCREENS, encoding="utf-8")

    def start(**overrides: Any) -> tuple[Any, str]:
        values: dict[str, Any] = {
            "database_url": db_url,
            "data_dir": tmp_path / "var",
            "screens_file": tmp_path / "screens.yaml",
            "simulate": False,
            "alarm_fold_seconds": 0.0,
            "secret_key": random_secret(),
        }
        values.update(overrides)
        cc = create_app(Settings(**values), start_background=False)
        server, base = start_background_server(cc)
        running.append((cc, server))
        return cc, base

    yield start
    for cc, server in running:
        server.shutdown()
        cc.stop()


@pytest.fixture()
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str, capsys: Any):  # noqa: ANN201
    """``command-center …`` on the test's database: returns (exit code, stdout lines)."""
    from command_center.cli import main

    monkeypatch.setenv("CC_DATABASE_URL", db_url)
    monkeypatch.setenv("CC_DATA_DIR", str(tmp_path / "var"))

    def run(*argv: str) -> tuple[int, list[str]]:
        code = main(list(argv))
        out = capsys.readouterr().out
        return code, out.strip().splitlines()

    return run


def new_key(cli: Callable[..., Any], source: str, name: str = "") -> tuple[str, str]:
    """(key id, the key) from ``apikeys add``."""
    code, lines = cli("apikeys", "add", source, *(["--name", name] if name else []))
    assert code == 0, lines
    secret = lines[-1]
    key_id = secret.split("_")[1]
    assert f"{source}:{key_id}" in lines[0]
    return key_id, secret


def audited(cc: Any, action: str | None = None) -> list[Any]:
    return [
        e
        for e in cc.api_guard.audit.entries(limit=1000)
        if e.action.startswith("api_") and (action is None or e.action == action)
    ]


# --------------------------------------------------------------------------- scope


def test_the_iot_key_neither_acknowledges_nor_lists_video_alarms(make_app) -> None:  # noqa: ANN001
    """The finding as reproduced (keys from the setting, as then)."""
    cc, base = make_app(api_keys=ENV_KEYS)
    iot, video = {"X-API-Key": "key-iot"}, {"X-API-Key": "key-video"}
    posted = requests.post(f"{base}/api/alarms", json=alarm(1, "video"), headers=video, timeout=5)
    alarm_id = posted.json()["alarm"]["id"]
    ack = requests.post(
        f"{base}/api/alarms/{alarm_id}/ack", json={"by": "anyone"}, headers=iot, timeout=5
    )
    assert ack.status_code == 403
    assert cc.alarms.store.get(alarm_id).status == "open"
    listed = requests.get(f"{base}/api/alarms?since=0", headers=iot, timeout=5).json()
    assert listed["alarms"] == []


def test_a_key_acknowledges_only_its_own_source_s_alarms(make_app, cli) -> None:  # noqa: ANN001
    cc, base = make_app()
    _iot_id, iot = new_key(cli, "iot")
    video_id, video = new_key(cli, "video")
    posted = requests.post(
        f"{base}/api/alarms", json=alarm(1, "video"), headers={"X-API-Key": video}, timeout=5
    )
    assert posted.status_code == 201
    alarm_id = posted.json()["alarm"]["id"]
    answer = requests.post(
        f"{base}/api/alarms/{alarm_id}/ack",
        json={"by": "王值班", "note": "x"},
        headers={"X-API-Key": iot},
        timeout=5,
    )
    assert answer.status_code == 403
    assert cc.alarms.store.get(alarm_id).status == "open"
    refused = audited(cc, "api_alarm_ack")[0]
    assert refused.user_name.startswith("iot:") and refused.result == "refused"
    assert f"#{alarm_id}" in refused.detail and "403" in refused.detail
    own = requests.post(
        f"{base}/api/alarms/{alarm_id}/ack",
        json={"by": "王值班", "note": "已派人"},
        headers={"X-API-Key": video},
        timeout=5,
    )
    assert own.status_code == 200 and own.json()["acknowledged"] is True
    stored = cc.alarms.store.get(alarm_id)
    assert stored.acknowledged_by == f"video:{video_id}"  # the key, not the free text
    assert stored.ack_note == "已派人"


def test_a_key_lists_only_its_own_source_s_alarms(make_app, cli) -> None:  # noqa: ANN001
    _cc, base = make_app()
    _i, iot = new_key(cli, "iot")
    _v, video = new_key(cli, "video")
    iot_ids = []
    for n in range(3):
        for source, key in (("iot", iot), ("video", video)):
            answer = requests.post(
                f"{base}/api/alarms", json=alarm(n, source), headers={"X-API-Key": key}, timeout=5
            )
            assert answer.status_code == 201
            if source == "iot":
                iot_ids.append(answer.json()["alarm"]["id"])
    listed = requests.get(f"{base}/api/alarms?since=0", headers={"X-API-Key": iot}, timeout=5)
    assert listed.status_code == 200
    assert [a["id"] for a in listed.json()["alarms"]] == iot_ids
    assert {a["source"] for a in listed.json()["alarms"]} == {"iot"}
    assert listed.json()["last_id"] == iot_ids[-1]


def test_note_is_length_limited(make_app, cli) -> None:  # noqa: ANN001
    cc, base = make_app()
    _i, iot = new_key(cli, "iot")
    alarm_id = requests.post(
        f"{base}/api/alarms", json=alarm(1), headers={"X-API-Key": iot}, timeout=5
    ).json()["alarm"]["id"]
    for note in ("x" * 501, 12, ["a"]):
        answer = requests.post(
            f"{base}/api/alarms/{alarm_id}/ack",
            json={"note": note},
            headers={"X-API-Key": iot},
            timeout=5,
        )
        assert answer.status_code == 422 and answer.json()["fields"][0]["field"] == "note"
    assert cc.alarms.store.get(alarm_id).status == "open"


# --------------------------------------------------------------------------- store and CLI


def test_keys_are_stored_hashed_never_in_the_clear(make_app, cli, db_url: str) -> None:  # noqa: ANN001
    from sqlalchemy import create_engine, text

    key_id, secret = new_key(cli, "iot", "gateway-1")
    assert secret.startswith(f"cc_{key_id}_") and len(secret) >= 40
    engine = create_engine(db_url)
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT source, name, key_hash, revoked_at FROM cc_api_keys WHERE key_id = :k"),
            {"k": key_id},
        ).one()
    engine.dispose()
    assert row.source == "iot" and row.name == "gateway-1" and row.revoked_at is None
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    database = Path(db_url.removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    assert secret.split("_", 2)[2].encode() not in stored
    code, lines = cli("apikeys", "list")
    assert code == 0 and any(key_id in line and "gateway-1" in line for line in lines)
    assert all(secret not in line for line in lines)


def test_rotate_and_revoke_from_the_cli(make_app, cli) -> None:  # noqa: ANN001
    from command_center.api_keys import CACHE_SECONDS

    cc, base = make_app()
    old_id, old = new_key(cli, "iot", "gw")

    def status(key: str) -> int:
        return requests.get(f"{base}/api/alarms", headers={"X-API-Key": key}, timeout=5).status_code

    def soon(key: str, expected: int) -> None:  # a process trusts what it read for a moment
        deadline = time.monotonic() + CACHE_SECONDS + 3
        while status(key) != expected:
            assert time.monotonic() < deadline, f"{key[:12]} still not {expected}"
            time.sleep(0.2)

    assert status(old) == 200
    code, lines = cli("apikeys", "rotate", old_id)
    assert code == 0 and f"iot:{old_id} revoked" in lines[0]
    new = lines[-1]
    assert new != old and status(new) == 200
    soon(old, 401)
    code, lines = cli("apikeys", "list", "--all")
    assert any(old_id in line and "revoked" in line for line in lines)
    code, _ = cli("apikeys", "revoke", "gw")  # by name: the one live key called gw
    assert code == 0
    soon(new, 401)
    code, lines = cli("apikeys", "list")
    assert code == 0 and lines == []
    assert cli("apikeys", "revoke", "nope")[0] == 1
    assert cli("apikeys", "add", "bad source!")[0] == 1
    refused = [e for e in audited(cc, "api_alarm_list") if e.result == "refused"]
    assert refused and all(e.user_name == "(no key)" for e in refused)


def test_every_use_is_audited_under_the_key(make_app, cli) -> None:  # noqa: ANN001
    cc, base = make_app()
    key_id, key = new_key(cli, "iot")
    h = {"X-API-Key": key}
    posted = requests.post(f"{base}/api/alarms", json=alarm(1), headers=h, timeout=5).json()
    alarm_id = posted["alarm"]["id"]
    requests.post(f"{base}/api/alarms/{alarm_id}/ack", json={"note": "ok"}, headers=h, timeout=5)
    requests.get(f"{base}/api/alarms?since=0", headers=h, timeout=5)
    requests.post(f"{base}/api/alarms", json=alarm(2, "video"), headers=h, timeout=5)  # 403
    requests.post(f"{base}/api/alarms", json=alarm(3), headers={"X-API-Key": "guess"}, timeout=5)
    entries = list(reversed(audited(cc)))
    assert [(e.action, e.result) for e in entries] == [
        ("api_alarm_post", "ok"),
        ("api_alarm_ack", "ok"),
        ("api_alarm_list", "ok"),
        ("api_alarm_post", "refused"),
        ("api_alarm_post", "refused"),
    ]
    assert {e.user_name for e in entries[:4]} == {f"iot:{key_id}"}
    assert entries[4].user_name == "(no key)" and "127.0.0.1" in entries[4].detail
    assert f"#{alarm_id}" in entries[0].detail and entries[0].screen == "/api/alarms"
    # written into the same chain as the consoles' entries, under the app's own key
    assert cc.collab.audit.verify().ok


def test_deprecated_setting_still_works_hashed_with_a_warning(make_app, caplog) -> None:  # noqa: ANN001
    with caplog.at_level(logging.WARNING, logger="command_center.api_keys"):
        cc, base = make_app(api_keys=ENV_KEYS)
    assert any("CC_API_KEYS is deprecated" in r.getMessage() for r in caplog.records)
    answer = requests.post(
        f"{base}/api/alarms", json=alarm(1), headers={"X-API-Key": "key-iot"}, timeout=5
    )
    assert answer.status_code == 201
    alarm_id = answer.json()["alarm"]["id"]
    other = requests.post(
        f"{base}/api/alarms/{alarm_id}/ack", headers={"X-API-Key": "key-video"}, timeout=5
    )
    assert other.status_code == 403
    ack = requests.post(
        f"{base}/api/alarms/{alarm_id}/ack", headers={"X-API-Key": "key-iot"}, timeout=5
    )
    assert ack.json()["alarm"]["acknowledged_by"] == "iot:env"
    assert "key-iot" not in repr(cc.api_keys.__dict__)
    # the API's entries join the consoles' chain, under the key of this app's data folder
    assert cc.collab.audit.verify().ok, cc.collab.audit.verify()


# --------------------------------------------------------------------------- rate limit


def test_a_key_past_its_rate_gets_429_with_retry_after(make_app, cli) -> None:  # noqa: ANN001
    cc, base = make_app(api_rate_limit="5/minute")
    _a, first = new_key(cli, "iot")
    _b, second = new_key(cli, "iot")
    codes = [
        requests.get(f"{base}/api/alarms", headers={"X-API-Key": first}, timeout=5)
        for _ in range(6)
    ]
    assert [c.status_code for c in codes] == [200] * 5 + [429]
    assert 1 <= int(codes[-1].headers["Retry-After"]) <= 60
    other = requests.post(
        f"{base}/api/alarms", json=alarm(1), headers={"X-API-Key": second}, timeout=5
    )
    assert other.status_code == 201  # a key's own count
    guesses = [
        requests.get(f"{base}/api/alarms", headers={"X-API-Key": f"guess-{n}"}, timeout=5)
        for n in range(6)
    ]
    assert [g.status_code for g in guesses] == [401] * 5 + [429]  # no key: per address
    assert len([e for e in audited(cc) if e.user_name == "(no key)"]) == 5


@pytest.mark.redis
def test_the_rate_is_counted_in_redis_across_processes(make_app, cli) -> None:  # noqa: ANN001
    require_service("Redis", "127.0.0.1", 6379)
    shared = {
        "api_rate_limit": "4/minute",
        "redis_url": "redis://127.0.0.1:6379/0",
        "redis_channel": f"cc-test-{uuid.uuid4().hex[:8]}",
    }
    _a, base_a = make_app(**shared)
    _b, base_b = make_app(**shared)
    _k, key = new_key(cli, "iot")
    codes = [
        requests.get(f"{base}/api/alarms", headers={"X-API-Key": key}, timeout=5).status_code
        for base in (base_a, base_b, base_a, base_b, base_a)
    ]
    assert codes == [200, 200, 200, 200, 429]


def test_ops_figures_take_a_stored_key(make_app, cli) -> None:  # noqa: ANN001
    cc, base = make_app()
    key_id, key = new_key(cli, "monitor")
    assert requests.get(f"{base}/api/ops", timeout=5).status_code == 401
    assert requests.get(f"{base}/api/ops", headers={"X-API-Key": key}, timeout=5).ok
    assert [(e.user_name, e.result) for e in reversed(audited(cc, "api_ops"))] == [
        ("(no key)", "refused"),
        (f"monitor:{key_id}", "ok"),
    ]
