"""The append-only audit log (command_center.audit): entries are written and read back, and
the database itself refuses to change or delete them, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DatabaseError

from adapters.sql.db import make_engine, upgrade
from command_center.audit import OK, REFUSED, AuditLog
from tests.conftest import require_service

NOW = datetime(2026, 11, 25, 10, 0)
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

TEST_KEY = b"audit-chain-key-of-these-tests"  # the app passes audit_key(settings)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'audit.sqlite'}"
        upgrade(url)
        yield url
        return
    require_service("PostgreSQL", "127.0.0.1", 5432)
    schema = f"cc_audit_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{PG_SERVER}?options=-csearch_path%3D{schema}"
        upgrade(url)
        yield url
    finally:
        if not os.environ.get("CC_KEEP_TEST_SCHEMA"):
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_entries_are_read_back_newest_first_and_filtered(db_url: str) -> None:
    engine = make_engine(db_url)
    log = AuditLog(engine, TEST_KEY)
    log.record(
        at=NOW,
        user_name="wang",
        role="dispatcher",
        action="dispatch",
        result=OK,
        screen="duty",
        case_id=7,
        detail="→ D02",
    )
    log.record(
        at=NOW + timedelta(minutes=1),
        user_name="li",
        action="close",
        result=REFUSED,
        screen="duty",
        case_id=8,
        detail="已派遣的案件不能结案",
    )
    entries = log.entries()
    assert [e.action for e in entries] == ["close", "dispatch"]
    assert entries[1].user_name == "wang" and entries[1].screen == "duty"
    assert entries[1].case_id == 7 and entries[1].result == OK
    assert [e.case_id for e in log.entries(case_id=8)] == [8]
    assert [e.user_name for e in log.entries(user_name="wang")] == ["wang"]
    engine.dispose()


def test_the_database_refuses_to_edit_or_delete_entries(db_url: str) -> None:
    engine = make_engine(db_url)
    log = AuditLog(engine, TEST_KEY)
    log.record(at=NOW, user_name="wang", action="dispatch", result=OK, case_id=7)
    for sql in ("UPDATE cc_audit SET result = 'refused'", "DELETE FROM cc_audit"):
        with pytest.raises(DatabaseError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(sql))
    assert [e.result for e in log.entries()] == [OK]
    engine.dispose()


def test_audit_cli_prints_the_log(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from command_center.cli import main

    engine = make_engine(db_url)
    AuditLog(engine, TEST_KEY).record(
        at=NOW, user_name="wang", action="urge", result=OK, case_id=42
    )
    engine.dispose()
    monkeypatch.setenv("CC_DATABASE_URL", db_url)
    assert main(["audit", "--case", "42"]) == 0
    out = capsys.readouterr().out
    assert "wang" in out and "urge" in out and "case=42" in out
