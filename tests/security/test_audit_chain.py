"""Issue 13, item 8: the audit log is tamper-evident.

Every row carries an HMAC chained to the previous row's (key not in the database, time from
the server's clock), ``command-center audit verify`` names the first broken link, concurrent
writers build one chain, and on PostgreSQL an app role that owns neither table nor triggers
can append but cannot erase.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DatabaseError, ProgrammingError

from adapters.sql.db import make_engine, upgrade
from command_center.audit import (
    CHAIN_START,
    CHANGED,
    HEAD,
    INSERTED,
    MISSING,
    OK,
    REFUSED,
    TRUNCATED,
    AuditLog,
    audit_key,
    audit_t,
)
from tests.conftest import ROOT, require_service

KEY = b"test-audit-key-0123456789abcdef-0123456789abcdef"
SERVER_NOW = datetime(2026, 11, 25, 10, 30, 0, 123456)
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def server_clock() -> datetime:
    return SERVER_NOW


def new_schema() -> str:
    return f"cc_audit_sec_{uuid.uuid4().hex[:10]}"


def pg_url(schema: str, server: str = PG_SERVER) -> str:
    return f"{server}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database at head: a SQLite file, or a PostgreSQL schema with a random name."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'audit.sqlite'}"
        upgrade(url)
        yield url
        return
    require_service("PostgreSQL", "127.0.0.1", 5432)
    schema = new_schema()
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = pg_url(schema)
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture()
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'audit.sqlite'}"
    upgrade(url)
    return url


def fill(log: AuditLog, n: int) -> list[int]:
    return [
        log.record(user_name=f"u{i}", role="dispatcher", action="urge", result=OK, case_id=i)
        for i in range(1, n + 1)
    ]


def raw(url: str, *sql: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for statement in sql:
                conn.execute(text(statement))
    finally:
        engine.dispose()


# --- the chain ---------------------------------------------------------------------------
def test_each_row_is_chained_with_the_servers_time(db_url: str) -> None:
    engine = make_engine(db_url)
    log = AuditLog(engine, KEY, clock=server_clock)
    client_time = datetime(2020, 1, 1, 0, 0)  # a caller's time is never stored
    first = log.record(at=client_time, user_name="wang", action="dispatch", result=OK)
    second = log.record(user_name="li", action="close", result=REFUSED, case_id=8)
    with engine.connect() as conn:
        rows = conn.execute(select(audit_t).order_by(audit_t.c.id)).all()
        head = conn.execute(text("SELECT * FROM cc_audit_head")).one()
    assert [r.at for r in rows] == [SERVER_NOW, SERVER_NOW]
    assert rows[0].prev_hash == "" and len(rows[0].hash) == 64
    assert rows[1].prev_hash == rows[0].hash
    assert (head.last_id, head.entries, head.last_hash) == (second, 2, rows[1].hash)
    result = log.verify()
    assert result.ok and (result.verified_id, result.count) == (second, 2), result.describe()
    assert first < second
    # the chain is keyed: the same rows with another key do not verify
    assert not AuditLog(engine, b"another key" * 4, clock=server_clock).verify().ok
    engine.dispose()


def test_a_row_inserted_with_the_apps_own_role_is_reported(db_url: str) -> None:
    """A back-dated INSERT through the app's database connection: it cannot carry a valid
    hash (no key), so verify names it, before and after the app appends again."""
    engine = make_engine(db_url)
    log = AuditLog(engine, KEY, clock=server_clock)
    ids = fill(log, 3)
    forged = ids[-1] + 1
    raw(
        db_url,
        "INSERT INTO cc_audit (id, at, user_name, role, action, screen, result, detail, "
        f"prev_hash, hash) VALUES ({forged}, '2026-11-01 08:00:00', 'admin1', 'admin', "
        f"'sign_in', '', 'ok', '', '', '{'0' * 64}')",
    )
    result = log.verify()
    assert not result.ok and (result.broken_id, result.problem) == (forged, INSERTED)
    assert result.verified_id == ids[-1]
    after = log.record(user_name="wang", action="urge", result=OK)
    assert after > forged  # the app keeps appending, chained past the forged row
    result = log.verify()
    assert (result.broken_id, result.problem) == (forged, INSERTED), result.describe()
    engine.dispose()


def test_concurrent_threads_build_one_valid_chain(db_url: str) -> None:
    engine = make_engine(db_url)
    log = AuditLog(engine, KEY)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(25):
                log.record(user_name=f"t{n}", action="urge", result=OK, case_id=i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = log.verify()
    assert result.ok and result.count == 200, result.describe()
    engine.dispose()


WRITER = """
import sys
from adapters.sql.db import make_engine
from command_center.audit import AuditLog
log = AuditLog(make_engine(sys.argv[1]), sys.argv[2].encode())
for i in range(int(sys.argv[3])):
    log.record(user_name="p", action="urge", result="ok", case_id=i)
"""


def test_concurrent_processes_build_one_valid_chain(db_url: str) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, db_url, KEY.decode(), "20"], cwd=ROOT)
        for _ in range(3)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    engine = make_engine(db_url)
    result = AuditLog(engine, KEY).verify()
    assert result.ok and result.count == 60, result.describe()
    engine.dispose()


# --- tampering with the file: SQLite, where anyone with the file can drop the triggers -----
def drop_triggers(url: str) -> None:
    raw(
        url,
        "DROP TRIGGER cc_audit_no_update",
        "DROP TRIGGER cc_audit_no_delete",
        "DROP TRIGGER cc_audit_head_no_delete",
    )


def test_sqlite_update_after_dropping_the_trigger_is_reported(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    log = AuditLog(engine, KEY)
    ids = fill(log, 5)
    drop_triggers(sqlite_url)
    raw(sqlite_url, f"UPDATE cc_audit SET result = 'refused' WHERE id = {ids[2]}")
    result = log.verify()
    assert not result.ok and (result.broken_id, result.problem) == (ids[2], CHANGED)
    assert result.verified_id == ids[1]
    engine.dispose()


def test_sqlite_deleted_row_is_reported(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    log = AuditLog(engine, KEY)
    ids = fill(log, 5)
    drop_triggers(sqlite_url)
    raw(sqlite_url, f"DELETE FROM cc_audit WHERE id = {ids[1]}")
    result = log.verify()
    assert (result.ok, result.broken_id, result.problem) == (False, ids[1], MISSING)
    engine.dispose()


def test_sqlite_back_dated_inserted_row_is_reported(sqlite_url: str) -> None:
    """A back-dated row written straight into the file, claiming to follow an early entry
    (its prev_hash copied from it), with a made-up hash: verify names it."""
    engine = make_engine(sqlite_url)
    log = AuditLog(engine, KEY)
    ids = fill(log, 4)
    with engine.connect() as conn:
        prev = conn.execute(text(f"SELECT hash FROM cc_audit WHERE id = {ids[0]}")).scalar()
    raw(
        sqlite_url,
        "INSERT INTO cc_audit (at, user_name, role, action, screen, result, detail, "
        f"prev_hash, hash) VALUES ('2026-01-01 00:00:00', 'admin1', 'admin', 'sign_in', '', "
        f"'ok', '', '{prev}', '{'f' * 64}')",
    )
    result = log.verify()
    assert (result.ok, result.broken_id, result.problem) == (False, ids[-1] + 1, INSERTED)
    engine.dispose()


def test_sqlite_truncation_is_reported(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    log = AuditLog(engine, KEY)
    ids = fill(log, 5)
    drop_triggers(sqlite_url)
    raw(sqlite_url, f"DELETE FROM cc_audit WHERE id > {ids[2]}")  # the tail
    result = log.verify()
    assert (result.ok, result.broken_id, result.problem) == (False, ids[3], TRUNCATED)
    assert "5 entries" in result.detail
    raw(sqlite_url, "DELETE FROM cc_audit")  # everything
    result = log.verify()
    assert (result.ok, result.problem) == (False, TRUNCATED)
    engine.dispose()


def test_cli_verify_names_the_first_broken_link(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from command_center.cli import main

    monkeypatch.setenv("CC_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("CC_AUDIT_KEY", KEY.decode())
    engine = make_engine(sqlite_url)
    ids = fill(AuditLog(engine, KEY), 4)
    assert main(["audit", "verify"]) == 0
    assert f"4 entries up to id {ids[-1]}" in capsys.readouterr().out
    drop_triggers(sqlite_url)
    raw(sqlite_url, f"UPDATE cc_audit SET user_name = 'nobody' WHERE id = {ids[1]}")
    assert main(["audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert f"BROKEN at id {ids[1]}" in err and CHANGED in err
    engine.dispose()


def test_incremental_verify_goes_on_from_a_checkpoint_and_sees_the_tail_go(
    sqlite_url: str,
) -> None:
    engine = make_engine(sqlite_url)
    log = AuditLog(engine, KEY)
    ids = fill(log, 3)
    first = log.verify()
    more = fill(log, 2)
    second = log.verify(first.checkpoint)
    assert second.ok and (second.verified_id, second.count) == (more[-1], 5)
    drop_triggers(sqlite_url)
    raw(sqlite_url, f"DELETE FROM cc_audit WHERE id > {ids[0]}")
    third = log.verify(second.checkpoint)
    assert (third.ok, third.broken_id, third.problem) == (False, more[-1], TRUNCATED)
    engine.dispose()


def test_rows_from_before_the_chain_are_sealed_at_first_start(tmp_path: Path) -> None:
    """Existing rows at migration time: 0820 adds the columns, the app's first start seals
    the older rows in one chained ``audit_chain_start`` row; a later change to one of them
    is reported at that row."""
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    upgrade(url, "0300_users_audit")
    raw(
        url,
        *(
            "INSERT INTO cc_audit (at, user_name, role, action, screen, result, detail) "
            f"VALUES ('2026-11-2{i} 09:00:00', 'wang', 'dispatcher', 'urge', 'duty', 'ok', '')"
            for i in range(3)
        ),
    )
    upgrade(url)
    engine = make_engine(url)
    log = AuditLog(engine, KEY)
    assert not log.verify().ok  # not sealed yet
    log.seal()
    log.seal()  # once only
    new = log.record(user_name="li", action="close", result=OK)
    result = log.verify()
    assert result.ok and (result.verified_id, result.count) == (new, 2), result.describe()
    with engine.connect() as conn:
        seal = conn.execute(text("SELECT id, action FROM cc_audit WHERE id = 4")).one()
    assert seal.action == CHAIN_START
    drop_triggers(url)
    raw(url, "UPDATE cc_audit SET user_name = 'li' WHERE id = 2")
    result = log.verify()
    assert (result.ok, result.broken_id, result.problem) == (False, 4, CHANGED)
    engine.dispose()


def test_the_key_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    from command_center.settings import Settings

    settings = Settings(data_dir=tmp_path / "var", audit_key="")
    key = audit_key(settings)
    path = tmp_path / "var" / "audit.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert audit_key(settings) == key and len(key) == 64
    assert audit_key(Settings(data_dir=tmp_path / "other", audit_key="set")) == b"set"


# --- PostgreSQL: an app role that owns nothing -------------------------------------------
@pytest.mark.postgres
def test_postgres_app_role_cannot_erase_but_can_append() -> None:
    """The owner runs the migrations and ``scripts/audit_pg_roles.sql``; the app connects
    as a role with INSERT/SELECT on cc_audit (UPDATE on the head) and USAGE on the sequence."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    schema = new_schema()
    role = f"cc_app_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    app = None
    try:
        upgrade(pg_url(schema))
        script = (ROOT / "scripts" / "audit_pg_roles.sql").read_text(encoding="utf-8")
        env = {**os.environ, "PGHOST": "127.0.0.1", "PGUSER": "postgres", "PGDATABASE": "test"}
        subprocess.run(
            [
                "psql",
                "-v",
                "ON_ERROR_STOP=1",
                "-v",
                f"app_role={role}",
                "-v",
                f"schema={schema}",
                "-c",
                f"CREATE ROLE {role} LOGIN",
                "-f",
                "-",
            ],
            input=script,
            text=True,
            check=True,
            env=env,
            capture_output=True,
        )
        app_url = pg_url(schema, f"postgresql+psycopg://{role}@127.0.0.1:5432/test")
        app = make_engine(app_url)
        log = AuditLog(app, KEY)
        ids = fill(log, 3)
        for sql in (
            "TRUNCATE cc_audit",
            "ALTER TABLE cc_audit DISABLE TRIGGER cc_audit_no_change",
            "ALTER TABLE cc_audit DISABLE TRIGGER ALL",
            "DROP TRIGGER cc_audit_no_change ON cc_audit",
            "UPDATE cc_audit SET result = 'refused'",
            "DELETE FROM cc_audit",
            "DELETE FROM cc_audit_head",
            "TRUNCATE cc_audit_head",
            "DROP TABLE cc_audit",
        ):
            with pytest.raises((ProgrammingError, DatabaseError)):
                with app.begin() as conn:
                    conn.execute(text(sql))
        ids += fill(log, 2)
        result = log.verify()
        assert result.ok and result.count == 5 and result.verified_id == ids[-1]
    finally:
        if app is not None:
            app.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()


# --- the ops screen ----------------------------------------------------------------------
@pytest.fixture()
def ops_app(city_copy: str, tmp_path: Path) -> Iterator[tuple[Any, str]]:
    """The app over the tiny city, its ops watch not running on its own (the test drives it)."""
    from command_center.app import create_app
    from command_center.runtime import start_background_server
    from tests.conftest import make_settings

    settings = make_settings(city_copy, tmp_path, audit_key=KEY.decode(), audit_verify_seconds=3600)
    cc = create_app(settings, start_background=False)
    server, base = start_background_server(cc)
    yield cc, base
    server.shutdown()
    cc.stop()


def test_ops_watch_verifies_the_chain_on_its_own_timer_and_incrementally(ops_app) -> None:  # noqa: ANN001
    from command_center.ops_monitor import snapshot_json
    from layouts.ops_monitor import render_audit

    cc, _base = ops_app
    watch = cc.ops_watch
    ids = fill(cc.collab.audit, 3)
    watch.check()
    first = watch.audit
    assert first.ok and first.verified_id == ids[-1]
    more = fill(cc.collab.audit, 2)
    watch.check()  # the next backend round: not due yet, the chain is not walked again
    watch.snapshot()  # a wall's refresh reads the last result only
    assert watch.audit is first
    second = watch.verify_audit(force=True)
    assert second.ok and second.verified_id == more[-1] and second.count == 5
    assert f"审计日志已核验至 #{more[-1]}" in str(render_audit(watch.snapshot(), "zh"))
    as_json = snapshot_json(watch.snapshot())["audit"]  # GET /api/ops, for monitoring
    assert as_json["ok"] and as_json["verified_id"] == more[-1] and as_json["count"] == 5
    url = cc.settings.effective_database_url
    drop_triggers(url)
    raw(url, f"UPDATE cc_audit SET detail = 'x' WHERE id = {ids[1]}")
    # a round from the checkpoint reads only the rows after it (and the checkpoint's own);
    # every AUDIT_FULL_EVERY rounds the walk starts from the first row again
    assert watch.verify_audit(force=True).ok
    watch._audit_rounds = 0  # noqa: SLF001 - the full-walk round
    broken = watch.verify_audit(force=True)
    assert not broken.ok and broken.broken_id == ids[1]
    text_ = str(render_audit(watch.snapshot(), "zh"))
    assert f"审计日志在 #{ids[1]} 处断链" in text_ and "记录被修改" in text_


@pytest.mark.browser
def test_ops_screen_shows_the_chain_verified_then_broken(ops_app, browser, artifacts) -> None:  # noqa: ANN001
    cc, base = ops_app
    watch = cc.ops_watch
    ids = fill(cc.collab.audit, 4)
    watch.verify_audit(force=True)
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{base}/wall/ops")
    page.wait_for_selector(".cc-ops-audit.ok", timeout=60000)
    assert f"已核验至 #{ids[-1]}" in page.inner_text(".cc-ops-audit")
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / "audit-ops-verified.png"))
    url = cc.settings.effective_database_url
    drop_triggers(url)
    raw(url, f"DELETE FROM cc_audit WHERE id = {ids[1]}")
    watch._audit_rounds = 0  # noqa: SLF001 - the full-walk round
    watch.verify_audit(force=True)
    page.wait_for_selector(".cc-ops-audit.bad", timeout=30000)
    shown = page.inner_text(".cc-ops-audit")
    assert f"审计日志在 #{ids[1]} 处断链" in shown and "记录缺失" in shown
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / "audit-ops-broken.png"))
    page.close()


def test_ops_watch_sees_a_log_emptied_with_its_head_and_keeps_saying_so(ops_app) -> None:  # noqa: ANN001
    """On SQLite a log wiped together with its head record looks new to ``audit verify``;
    the running watch remembers what it verified and keeps the broken result."""
    cc, _base = ops_app
    watch = cc.ops_watch
    ids = fill(cc.collab.audit, 3)
    assert watch.verify_audit(force=True).ok
    url = cc.settings.effective_database_url
    drop_triggers(url)
    raw(url, "DELETE FROM cc_audit", "DELETE FROM cc_audit_head")
    cc.collab.audit.record(user_name="x", action="urge", result=OK)  # a fresh chain
    assert cc.collab.audit.verify().ok  # on its own it looks like a new log
    watch._audit_rounds = 0  # noqa: SLF001 - a full-walk round
    result = watch.verify_audit(force=True)
    assert (result.ok, result.broken_id, result.problem) == (False, ids[-1], TRUNCATED)
    assert watch.verify_audit(force=True) is result  # stays until the process restarts


def test_sqlite_deleted_or_forged_head_is_reported(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    log = AuditLog(engine, KEY)
    ids = fill(log, 3)
    raw(sqlite_url, "UPDATE cc_audit_head SET entries = 2, last_id = 2")  # forged, no key
    result = log.verify()
    assert (result.ok, result.problem) == (False, HEAD) and "tag" in result.detail
    drop_triggers(sqlite_url)
    raw(sqlite_url, "DELETE FROM cc_audit_head")
    assert (log.verify().ok, log.verify().problem) == (False, HEAD)
    resumed = log.record(user_name="wang", action="urge", result=OK) - 1
    result = log.verify()  # the app wrote down that it found the head gone
    assert (result.ok, result.broken_id, result.problem) == (False, resumed, HEAD)
    assert resumed == ids[-1] + 1
    engine.dispose()
