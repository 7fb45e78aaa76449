"""Sessions, secret key, sign-in limit and CSRF (issue 13, items 1, 5, 6 and half of 7),
each against a real server: a cookie forged with the old default secret, a cookie kept past
logout, 40 guesses in a row, a cross-site form post, a GET that signs out.

Every test here failed on the code before the fix (signed-cookie sessions, a published
default secret, no limit, no CSRF token, ``GET /logout``).
"""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import DEMO_NOW, ROOT, make_settings, require_service

OLD_DEFAULT = "change-me-in-production"
ADMIN, ADMIN_PW = "admin1", "admin-pass-1"
DUTY, DUTY_PW = "duty1", "duty-pass-1"
SLOW = 60_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the form carries no CSRF token"
    return found.group(1)


def login(http: requests.Session, base: str, name: str, password: str) -> requests.Response:
    """Sign in through the form as a browser does: the page, then the post with its token."""
    token = csrf_of(http.get(f"{base}/login").text)
    return http.post(
        f"{base}/login",
        data={"username": name, "password": password, "csrf_token": token, "next": "/wall/duty"},
        allow_redirects=False,
    )


def logout(http: requests.Session, base: str) -> requests.Response:
    token = csrf_of(http.get(f"{base}/admin/users").text)
    return http.post(f"{base}/logout", data={"csrf_token": token}, allow_redirects=False)


def opens_audit(base: str, cookie: str) -> bool:
    """Whether a bare request carrying only ``cookie`` reads the admin's audit log."""
    r = requests.get(
        f"{base}/admin/audit", headers={"Cookie": f"session={cookie}"}, allow_redirects=False
    )
    return r.status_code == 200


@pytest.fixture()
def app(city_copy: str, tmp_path: Path) -> Iterator[tuple[Any, str]]:
    """A running app over the tiny city with an admin and a duty officer, and its clock
    frozen at the city's "now" (the tests move it)."""
    from command_center.app import create_app
    from command_center.runtime import start_background_server

    cc: Any = create_app(make_settings(city_copy, tmp_path, session_minutes=30))
    clock = {"now": DEMO_NOW}
    cc.collab.clock = lambda: clock["now"]
    cc.clock = clock
    cc.collab.users.add(ADMIN, "admin", ADMIN_PW, "管理员", now=DEMO_NOW)
    cc.collab.users.add(DUTY, "duty_officer", DUTY_PW, "值班员", now=DEMO_NOW)
    server, base = start_background_server(cc)
    yield cc, base
    server.shutdown()
    cc.stop()


# --------------------------------------------------------------------------- item 1


def test_a_cookie_signed_with_the_old_default_secret_opens_nothing(app: Any) -> None:
    from flask import Flask
    from flask.sessions import SecureCookieSessionInterface

    cc, base = app
    forger = Flask("forger")
    forger.secret_key = OLD_DEFAULT
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    assert serializer is not None
    expires = (DEMO_NOW + timedelta(hours=8)).isoformat()
    user = cc.collab.users.get(ADMIN)
    forged = serializer.dumps(
        {"cc_user": {"name": ADMIN, "role": "admin", "id": user.id, "expires": expires}}
    )
    assert not opens_audit(base, forged)
    assert cc.settings.secret_key != OLD_DEFAULT


def _env(tmp_path: Path, city: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CC_")}
    env.update(
        CC_DATABASE_URL=city,
        CC_DATA_DIR=str(tmp_path / "var"),
        CC_SIMULATE="false",
        CC_PORT=str(free_port()),
        **extra,
    )
    return env


@pytest.mark.parametrize("secret", ["", OLD_DEFAULT, "short-but-not-empty"])
def test_serve_refuses_to_start_without_a_real_secret(
    city_copy: str, tmp_path: Path, secret: str
) -> None:
    env = _env(tmp_path, city_copy, CC_SECRET_KEY=secret)
    cli = str(Path(sys.executable).with_name("command-center"))
    try:
        done = subprocess.run(
            [cli, "serve"], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT
        )
    except subprocess.TimeoutExpired:
        pytest.fail("serve started with a secret that is no secret")
    assert done.returncode == 2
    assert "CC_SECRET_KEY" in done.stderr


def test_gunicorn_refuses_to_start_without_a_secret(city_copy: str, tmp_path: Path) -> None:
    env = _env(tmp_path, city_copy)
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    port = env["CC_PORT"]
    args = [gunicorn, "--preload", "-w", "1", "-b", f"127.0.0.1:{port}", "command_center.wsgi:app"]
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("gunicorn started without CC_SECRET_KEY")
    assert proc.returncode != 0
    assert b"CC_SECRET_KEY" in err


def _start_demo(env: dict[str, str]) -> subprocess.Popen[str]:
    cli = str(Path(sys.executable).with_name("command-center"))
    proc = subprocess.Popen(
        [cli, "demo"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{env['CC_PORT']}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            pytest.fail(f"demo exited {proc.returncode}:\n{out}")
        try:
            if requests.get(f"{base}/login", timeout=2).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.5)
    proc.kill()
    pytest.fail("demo did not serve within 90 s")


def test_demo_generates_its_secret_once_keeps_it_private_and_reuses_it(
    city_copy: str, tmp_path: Path
) -> None:
    env = _env(tmp_path, city_copy)
    key_file = tmp_path / "var" / "secret_key"
    first = _start_demo(env)
    try:
        assert key_file.exists()
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        secret = key_file.read_text(encoding="utf-8").strip()
        assert len(secret) >= 32 and secret != OLD_DEFAULT
    finally:
        first.terminate()
        first.wait(timeout=30)
    env["CC_PORT"] = str(free_port())
    second = _start_demo(env)
    try:
        assert key_file.read_text(encoding="utf-8").strip() == secret
    finally:
        second.terminate()
        second.wait(timeout=30)


# --------------------------------------------------------------------------- item 6


def test_a_cookie_saved_before_logout_opens_nothing_after_it(app: Any) -> None:
    _, base = app
    http = requests.Session()
    assert login(http, base, ADMIN, ADMIN_PW).status_code == 302
    saved = http.cookies["session"]
    assert opens_audit(base, saved)
    assert logout(http, base).status_code == 302
    assert not opens_audit(base, saved)


def test_the_cookie_is_a_random_id_with_safe_flags_and_changes_at_sign_in(app: Any) -> None:
    cc, base = app
    http = requests.Session()
    before = http.get(f"{base}/login")  # an anonymous session holds the form's token
    anonymous = http.cookies.get("session")
    r = login(http, base, ADMIN, ADMIN_PW)
    set_cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    assert "Secure" not in set_cookie  # CC_SECURE_COOKIES is off: plain http on loopback
    signed_in = http.cookies["session"]
    assert anonymous and before.status_code == 200 and signed_in != anonymous  # rotated
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", signed_in)  # 256 random bits, nothing else
    assert not opens_audit(base, anonymous)
    # the table keeps no usable id: the id's hash only
    with cc.collab.users.engine.connect() as conn:
        stored = [row[0] for row in conn.exec_driver_sql("SELECT id_hash FROM cc_sessions")]
    assert signed_in not in stored and len(stored) >= 1


def test_a_kiosk_wall_gets_no_cookie_and_leaves_no_session_row(app: Any) -> None:
    cc, base = app
    for path in ("/", "/wall/main", "/wall/duty", "/healthz"):
        assert "Set-Cookie" not in requests.get(f"{base}{path}").headers, path
    with cc.collab.users.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM cc_sessions").scalar_one() == 0


def test_cookies_are_secure_when_the_site_is_served_over_https(
    city_copy: str, tmp_path: Path
) -> None:
    from command_center.app import create_app

    cc: Any = create_app(
        make_settings(city_copy, tmp_path, secure_cookies=True), start_background=False
    )
    try:
        client = cc.server.test_client()
        r = client.get("/login", base_url="https://cc.example")
        assert "Secure" in r.headers["Set-Cookie"] and "HttpOnly" in r.headers["Set-Cookie"]
    finally:
        cc.stop()


def test_password_change_disabling_and_sign_out_everywhere_end_every_session(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from command_center.cli import main

    cc, base = app
    users = cc.collab.users

    def two_sessions() -> list[str]:
        cookies = []
        for _ in range(2):
            http = requests.Session()
            assert login(http, base, ADMIN, ADMIN_PW).status_code == 302
            cookies.append(http.cookies["session"])
        assert all(opens_audit(base, c) for c in cookies)
        return cookies

    cookies = two_sessions()
    users.set_password(ADMIN, ADMIN_PW)
    assert not any(opens_audit(base, c) for c in cookies)

    cookies = two_sessions()
    users.set_active(ADMIN, False)
    assert not any(opens_audit(base, c) for c in cookies)
    users.set_active(ADMIN, True)

    cookies = two_sessions()
    monkeypatch.setenv("CC_DATABASE_URL", cc.settings.effective_database_url)
    assert main(["users", "signout", ADMIN]) == 0
    assert not any(opens_audit(base, c) for c in cookies)

    # the admin's button: a POST form with its token on /admin/users
    cookies = two_sessions()
    admin = requests.Session()
    assert login(admin, base, ADMIN, ADMIN_PW).status_code == 302
    page = admin.get(f"{base}/admin/users").text
    own = admin.cookies["session"]
    assert 'action="/admin/users"' in page
    done = admin.post(f"{base}/admin/users", data={"name": ADMIN, "csrf_token": csrf_of(page)})
    assert done.status_code == 200
    assert not any(opens_audit(base, c) for c in cookies)
    assert not opens_audit(base, own)  # their own too
    assert "session" not in admin.cookies  # and the browser was told to drop it
    actions = [(e.action, e.detail) for e in cc.collab.audit.entries()]
    assert any(a == "sign_out_all" and d.startswith(ADMIN) for a, d in actions)


def test_a_session_expires_after_its_minutes_unused_and_slides_while_used(app: Any) -> None:
    cc, base = app
    http = requests.Session()
    assert login(http, base, ADMIN, ADMIN_PW).status_code == 302
    cookie = http.cookies["session"]
    start: datetime = cc.clock["now"]
    cc.clock["now"] = start + timedelta(minutes=29)
    assert http.get(f"{base}/admin/users").status_code == 200  # used: renewed for 30 more
    cc.clock["now"] = start + timedelta(minutes=58)
    assert opens_audit(base, cookie)
    cc.clock["now"] = start + timedelta(minutes=90)  # 32 minutes unused
    assert not opens_audit(base, cookie)
    with cc.collab.users.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM cc_sessions").scalar_one() >= 1
    # an expired row is gone at the next sign-in
    assert login(requests.Session(), base, DUTY, DUTY_PW).status_code == 302
    with cc.collab.users.engine.connect() as conn:
        expires = [r[0] for r in conn.exec_driver_sql("SELECT expires_at FROM cc_sessions")]
    assert all(str(e) > str(cc.clock["now"]) for e in expires)


# --------------------------------------------------------------------------- item 5


def test_five_failures_lock_a_user_name_even_for_the_right_password(app: Any) -> None:
    cc, base = app
    http = requests.Session()
    for _ in range(5):
        assert login(http, base, ADMIN, "wrong-password").status_code == 401
    locked = login(http, base, ADMIN, ADMIN_PW)
    assert locked.status_code == 429
    assert 1 <= int(locked.headers["Retry-After"]) <= 15 * 60
    assert "session" not in http.cookies or not opens_audit(base, http.cookies["session"])
    refusals = [
        e for e in cc.collab.audit.entries() if e.action == "sign_in" and "locked" in e.detail
    ]
    assert refusals and refusals[0].result == "refused" and refusals[0].user_name == ADMIN


def test_the_limit_counts_per_user_name_and_per_client_address(
    city_copy: str, tmp_path: Path
) -> None:
    from command_center.app import create_app

    cc: Any = create_app(make_settings(city_copy, tmp_path), start_background=False)
    try:
        cc.collab.users.add(ADMIN, "admin", ADMIN_PW, now=DEMO_NOW)
        cc.collab.users.add(DUTY, "duty_officer", DUTY_PW, now=DEMO_NOW)

        def attempt(name: str, password: str, address: str) -> int:
            client = cc.server.test_client()
            env = {"REMOTE_ADDR": address}
            token = csrf_of(client.get("/login", environ_base=env).get_data(as_text=True))
            form = {"username": name, "password": password, "csrf_token": token}
            return client.post("/login", data=form, environ_base=env).status_code

        # one name from five addresses: the name is locked, from a sixth address too
        for i in range(5):
            assert attempt(ADMIN, "wrong-password", f"10.0.0.{i}") == 401
        assert attempt(ADMIN, ADMIN_PW, "10.0.0.99") == 429
        # one address guessing five names: the address is locked, for any name
        for i in range(5):
            assert attempt(f"guess{i}", "wrong-password", "10.0.1.1") == 401
        assert attempt(DUTY, DUTY_PW, "10.0.1.1") == 429
        # others are not: the duty officer elsewhere signs in
        assert attempt(DUTY, DUTY_PW, "10.0.2.2") == 302
    finally:
        cc.stop()


@pytest.mark.redis
def test_two_processes_share_the_failure_counters_in_redis(city_copy: str, tmp_path: Path) -> None:
    from command_center.app import create_app

    require_service("Redis", "127.0.0.1", 6379)
    channel = f"cc-test-{uuid.uuid4().hex[:8]}"
    apps: list[Any] = []
    try:
        for i in range(2):
            (tmp_path / f"p{i}").mkdir()
            settings = make_settings(
                city_copy,
                tmp_path / f"p{i}",
                redis_url="redis://127.0.0.1:6379/0",
                redis_channel=channel,
            )
            apps.append(create_app(settings, start_background=False))
        apps[0].collab.users.add(ADMIN, "admin", ADMIN_PW, now=DEMO_NOW)

        def attempt(cc: Any, password: str) -> int:
            client = cc.server.test_client()
            token = csrf_of(client.get("/login").get_data(as_text=True))
            form = {"username": ADMIN, "password": password, "csrf_token": token}
            return client.post("/login", data=form).status_code

        for _ in range(5):
            assert attempt(apps[0], "wrong-password") == 401
        assert attempt(apps[1], ADMIN_PW) == 429  # the other process knows
    finally:
        for cc in apps:
            cc.stop()


# --------------------------------------------------------------------------- item 7: CSRF


def test_a_cross_site_form_post_to_login_is_refused(app: Any) -> None:
    cc, base = app
    r = requests.post(
        f"{base}/login",
        data={"username": ADMIN, "password": ADMIN_PW, "next": "/admin/audit"},
        headers={"Origin": "https://evil.example", "Referer": "https://evil.example/x"},
        allow_redirects=False,
    )
    assert r.status_code in (400, 403)
    assert not any(e.action == "sign_in" and e.result == "ok" for e in cc.collab.audit.entries())


def test_logout_is_a_post_with_the_token_and_get_signs_nobody_out(app: Any) -> None:
    _, base = app
    http = requests.Session()
    assert login(http, base, ADMIN, ADMIN_PW).status_code == 302
    cookie = http.cookies["session"]
    page = http.get(f"{base}/logout", allow_redirects=False)  # a page with the form, no more
    assert page.status_code in (200, 405)
    if page.status_code == 200:
        assert '<form class="cc-signout" method="post" action="/logout">' in page.text
    assert http.post(f"{base}/logout", allow_redirects=False).status_code == 400  # no token
    assert opens_audit(base, cookie)
    assert logout(http, base).status_code == 302
    assert not opens_audit(base, cookie)


def test_the_admin_s_forms_need_the_token(app: Any) -> None:
    _, base = app
    http = requests.Session()
    assert login(http, base, ADMIN, ADMIN_PW).status_code == 302
    r = http.post(f"{base}/admin/users", data={"name": DUTY}, allow_redirects=False)
    assert r.status_code == 400


def test_dash_callbacks_and_the_alarm_api_need_no_form_token(app: Any) -> None:
    _, base = app
    # the key-authenticated API: refused for its key, not for a missing CSRF token
    api = requests.post(f"{base}/api/alarms", json={}, headers={"X-API-Key": "nope"})
    assert api.status_code != 400 or "CSRF" not in api.text
    dash = requests.post(f"{base}/_dash-update-component", json={})
    assert "CSRF" not in dash.text


# --------------------------------------------------------------------------- browser


@pytest.mark.browser
def test_the_console_signs_out_with_its_button(app: Any, browser: Any, artifacts: Path) -> None:
    cc, base = app
    cc.clock["now"] = datetime.now().replace(microsecond=0)  # Chromium runs on real time
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    try:
        page.goto(f"{base}/login?next=/wall/duty")
        page.fill("input[name=username]", DUTY)
        page.fill("input[name=password]", DUTY_PW)
        page.click("button[type=submit]")
        page.wait_for_url("**/wall/duty")
        button = page.locator("#cc-signout button")
        button.wait_for(state="visible", timeout=SLOW)
        page.wait_for_function(
            "document.querySelector('#cc-signout input[name=csrf_token]').value.length > 0",
            timeout=SLOW,
        )
        page.screenshot(
            path=str(artifacts / "duty-sign-out.png"),
            clip={"x": 0, "y": 0, "width": 1920, "height": 120},
        )
        cookie = next(c["value"] for c in context.cookies() if c["name"] == "session")
        button.click()
        page.wait_for_url("**/login**", timeout=SLOW)
        assert page.locator("input[name=username]").count() == 1
        r = requests.get(
            f"{base}/admin/users", headers={"Cookie": f"session={cookie}"}, allow_redirects=False
        )
        assert r.status_code == 302  # the old cookie opens nothing
        outs = [e for e in cc.collab.audit.entries() if e.action == "sign_out"]
        assert outs and outs[0].user_name == DUTY
    finally:
        context.close()


# --------------------------------------------------------------------------- PostgreSQL

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture()
def pg_url() -> Iterator[str]:
    """A fresh schema with a random name in the local PostgreSQL, migrated, dropped after."""
    from sqlalchemy import create_engine, text

    from adapters.sql.db import upgrade

    require_service("PostgreSQL", "127.0.0.1", 5432)
    schema = f"cc_sessions_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{PG_SERVER}?options=-csearch_path%3D{schema}"
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.postgres
def test_processes_over_one_postgresql_share_sessions_and_their_end(pg_url: str) -> None:
    from types import SimpleNamespace

    from flask import Flask, session

    from adapters.sql.db import make_engine
    from command_center.auth import UserStore, session_user, sign_in
    from command_center.sessions import install_sessions, rotate

    engines = []

    def process() -> Any:
        """One process's app: its own engine and session interface over the shared table."""
        engine = make_engine(pg_url)
        engines.append(engine)
        server = Flask("process")
        settings = SimpleNamespace(secure_cookies=False, session_minutes=30)
        install_sessions(server, engine, lambda: DEMO_NOW, settings)

        @server.post("/in")
        def sign_in_view() -> str:
            session.clear()
            rotate(session)
            sign_in(session, UserStore(engine).get(ADMIN), 30, DEMO_NOW)  # type: ignore[arg-type]
            return "ok"

        @server.get("/who")
        def who() -> str:
            user = session_user(session, DEMO_NOW, store=UserStore(engine))
            return user.name if user else "-"

        _ = (sign_in_view, who)
        return server

    try:
        one, two = process(), process()
        users = UserStore(engines[0])
        users.add(ADMIN, "admin", ADMIN_PW, now=DEMO_NOW)
        first = one.test_client()
        first.post("/in")
        cookie = first.get_cookie("session")
        assert cookie is not None
        other = two.test_client()
        other.set_cookie("session", cookie.value)
        assert other.get("/who").get_data(as_text=True) == ADMIN  # the other process knows it
        users.set_password(ADMIN, "another-pass-1")
        assert other.get("/who").get_data(as_text=True) == "-"
        assert first.get("/who").get_data(as_text=True) == "-"
    finally:
        for engine in engines:
            engine.dispose()
