"""Users, roles, passwords and sessions of the duty consoles (command_center.auth), the
sign-in pages (callbacks.auth) through a real app, and the ``users`` CLI."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from adapters.case.contract import CaseAction
from adapters.sql.db import make_engine
from command_center.auth import (
    AuthError,
    User,
    UserStore,
    actions_for_role,
    may,
    session_user,
    sign_in,
)

NOW = datetime(2026, 11, 25, 10, 0)


@pytest.fixture()
def store(city_copy: str):  # noqa: ANN201
    engine = make_engine(city_copy)
    yield UserStore(engine)
    engine.dispose()


def test_password_is_stored_as_an_argon2id_hash_and_verified(store: UserStore) -> None:
    store.add("wang", "duty_officer", "s3cret-pass", "王五", now=NOW)
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT password_hash FROM cc_users").scalar_one()
    assert stored.startswith("$argon2id$") and "s3cret-pass" not in stored
    user = store.verify("wang", "s3cret-pass")
    assert user is not None and user.role == "duty_officer" and user.label == "王五"


def test_wrong_password_and_unknown_user_are_refused_alike(store: UserStore) -> None:
    store.add("wang", "duty_officer", "s3cret-pass", now=NOW)
    assert store.verify("wang", "wrong-pass") is None
    assert store.verify("nobody", "s3cret-pass") is None


def test_a_disabled_user_cannot_sign_in(store: UserStore) -> None:
    store.add("wang", "duty_officer", "s3cret-pass", now=NOW)
    store.set_active("wang", False)
    assert store.verify("wang", "s3cret-pass") is None


@pytest.mark.parametrize(
    ("name", "role", "password"),
    [("", "admin", "long-enough"), ("li", "janitor", "long-enough"), ("li", "admin", "short")],
)
def test_bad_users_are_refused_with_a_reason(
    store: UserStore, name: str, role: str, password: str
) -> None:
    with pytest.raises(AuthError):
        store.add(name, role, password, now=NOW)


def test_a_name_is_taken_once(store: UserStore) -> None:
    store.add("li", "admin", "long-enough", now=NOW)
    with pytest.raises(AuthError, match="exists"):
        store.add("li", "leader", "long-enough", now=NOW)


def test_roles_keep_supervision_and_command_apart() -> None:
    assert CaseAction.DISPATCH in actions_for_role("dispatcher")
    assert CaseAction.CLOSE not in actions_for_role("dispatcher")
    assert CaseAction.CLOSE in actions_for_role("shift_leader")
    assert CaseAction.REPORT_BACK not in actions_for_role("shift_leader")
    assert actions_for_role("leader") == {CaseAction.URGE, CaseAction.ESCALATE}
    assert actions_for_role("admin") == set(CaseAction)
    assert not may(None, CaseAction.URGE)  # a kiosk without a session


def test_a_session_expires_and_renews_while_used() -> None:
    session: dict = {}
    user = User(1, "wang", "王五", "dispatcher")
    sign_in(session, user, 30, NOW)
    assert session_user(session, NOW + timedelta(minutes=29)) == user
    # renewed on use: 29 + 29 minutes is still inside the sliding window
    session_user(session, NOW + timedelta(minutes=29), minutes=30)
    assert session_user(session, NOW + timedelta(minutes=58)) == user
    assert session_user(session, NOW + timedelta(minutes=60)) is None
    assert session == {}  # the expired session is cleared


def test_sign_in_page_sets_a_session_and_audits_both_outcomes(
    city_copy: str, tmp_path: Path
) -> None:
    from command_center.app import create_app
    from tests.conftest import make_settings

    cc = create_app(make_settings(city_copy, tmp_path), start_background=False)
    try:
        cc.collab.users.add("zhao", "dispatcher", "dispatch-me", now=NOW)
        client = cc.server.test_client()
        page = client.get("/login").get_data(as_text=True)
        assert "值班席位登录" in page
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        bad = client.post(
            "/login", data={"username": "zhao", "password": "nope", "csrf_token": token}
        )
        assert bad.status_code == 401 and "用户名或密码错误" in bad.get_data(as_text=True)
        ok = client.post(
            "/login",
            data={
                "username": "zhao",
                "password": "dispatch-me",
                "next": "/wall/duty",
                "csrf_token": token,
            },
        )
        assert ok.status_code == 302 and ok.headers["Location"].endswith("/wall/duty")
        page = client.get("/login").get_data(as_text=True)  # a new session: a new token
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        evil = client.post(
            "/login",
            data={
                "username": "zhao",
                "password": "dispatch-me",
                "next": "https://evil.example/",
                "csrf_token": token,
            },
        )
        assert evil.headers["Location"].endswith("/wall/duty")
        # only an admin reads the audit log
        assert client.get("/admin/audit").status_code == 403
        results = [(e.action, e.result) for e in cc.collab.audit.entries()]
        assert ("sign_in", "refused") in results and ("sign_in", "ok") in results
        page = client.get("/logout").get_data(as_text=True)  # a form, no sign-out
        assert client.get("/admin/audit").status_code == 403
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        client.post("/logout", data={"csrf_token": token})
        assert client.get("/admin/audit").status_code == 302  # signed out: to /login
    finally:
        cc.stop()


def test_users_cli_adds_and_lists(
    city_copy: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from command_center.cli import main

    monkeypatch.setenv("CC_DATABASE_URL", city_copy)
    assert main(["users", "add", "sun", "--role", "shift_leader", "--password", "leader-pass"]) == 0
    assert main(["users", "add", "sun", "--role", "admin", "--password", "leader-pass"]) == 1
    assert main(["users", "list"]) == 0
    out = capsys.readouterr().out
    assert "sun" in out and "shift_leader" in out


def test_an_older_database_gains_the_department_column_and_its_users_keep_working(
    city_copy: str, tmp_path: Path
) -> None:
    """Migration 0310_user_department on a database that predates it: found missing, applied
    before use, the stored users sign in as before."""
    from sqlalchemy import text

    from command_center.auth import _engine, schema_is_current
    from tests.conftest import make_settings

    engine = make_engine(city_copy)
    UserStore(engine).add("old", "duty_officer", "s3cret-pass", now=NOW)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE cc_users DROP COLUMN department_code"))
        # 0300_users_audit stays applied through the heads that depend on it
        conn.execute(text("DELETE FROM alembic_version WHERE version_num = '0310_user_department'"))
    assert not schema_is_current(engine)
    engine.dispose()
    upgraded = _engine(make_settings(city_copy, tmp_path))
    assert schema_is_current(upgraded)
    user = UserStore(upgraded).verify("old", "s3cret-pass")
    assert user is not None and (user.role, user.department_code) == ("duty_officer", "")
    upgraded.dispose()
