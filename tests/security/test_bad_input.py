"""Bad input gets a 4xx with a clear message, never a 500 or a traceback (issue 13, item 9).

Against running servers: JSON nested 100,000 deep, ids beyond a database integer, NUL bytes
in screens.yaml, request bodies past ``CC_MAX_REQUEST_BYTES`` (413 before the body is read,
the worker does not grow by it) while a signed-in officer's photo upload still works, and
the generic error handler that keeps tracebacks out of every answer.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from tests.conftest import ROOT
from tests.security.input_support import (
    API_KEYS,
    DASH,
    add_user,
    alarm_body,
    alarm_settings,
    dash_body,
    post_dash,
    rss_bytes,
    running,
    signed_in,
)

IOT = {"X-API-Key": API_KEYS["iot"]}
HUGE = 10**30
DEEP = 100_000


@pytest.fixture()
def alarm_app(tmp_path: Path) -> Iterator[tuple[Any, str]]:
    from command_center.app import create_app

    cc = create_app(alarm_settings(tmp_path), start_background=False)
    with running(cc) as base:
        yield cc, base


def deep_json(depth: int = DEEP) -> list[str]:
    return ["[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth]


def no_traceback(answer: requests.Response) -> None:
    assert "Traceback" not in answer.text and 'File "' not in answer.text


# ------------------------------------------------------------------ deep JSON, huge ids


def test_json_nested_100000_deep_is_a_400_from_the_alarm_api_and_from_dash(alarm_app) -> None:  # noqa: ANN001
    _cc, base = alarm_app
    for body in deep_json():
        headers = {**IOT, "Content-Type": "application/json"}
        api = requests.post(f"{base}/api/alarms", data=body, headers=headers, timeout=10)
        assert api.status_code == 400, api.text[:200]
        assert api.json()["error"] == "bad_request" and "JSON object" in api.json()["detail"]
        dash = post_dash(base, body)
        assert dash.status_code == 400, dash.text[:200]
        no_traceback(dash)


def test_ids_beyond_a_database_integer_are_4xx_naming_the_field(alarm_app) -> None:  # noqa: ANN001
    cc, base = alarm_app
    made = requests.post(f"{base}/api/alarms", json=alarm_body(), headers=IOT, timeout=5)
    assert made.status_code == 201
    for since in (str(HUGE), str(2**63), "-1", "1e3", "١٢"):
        answer = requests.get(f"{base}/api/alarms", params={"since": since}, headers=IOT, timeout=5)
        assert answer.status_code == 422, (since, answer.text[:200])
        assert answer.json()["fields"][0]["field"] == "since"
        assert "integer from 0 to" in answer.json()["fields"][0]["message"]
    largest = requests.get(f"{base}/api/alarms?since={2**63 - 1}", headers=IOT, timeout=5)
    assert largest.status_code == 200 and largest.json()["alarms"] == []
    for alarm_id in (HUGE, 2**63):
        ack = requests.post(f"{base}/api/alarms/{alarm_id}/ack", headers=IOT, timeout=5)
        assert ack.status_code == 404, ack.text[:200]
        assert ack.json() == {"error": "not_found", "detail": f"no alarm {alarm_id}"}
    assert cc.alarms.store.get(made.json()["alarm"]["id"]).status == "open"


def test_photo_ids_beyond_a_database_integer_are_404(live_app) -> None:  # noqa: ANN001
    _cc, base = live_app
    for path in (f"/photos/{HUGE}", f"/photos/{HUGE}/thumb", f"/photos/{2**63}"):
        answer = requests.get(f"{base}{path}", timeout=5)
        assert answer.status_code == 404, (path, answer.text[:200])
        assert "no photo" in answer.text
        no_traceback(answer)


def test_the_drawer_refuses_case_ids_that_are_not_record_ids_with_a_4xx(live_app) -> None:  # noqa: ANN001
    cc, base = live_app
    add_user(cc, "root", "admin")
    browser = signed_in(base, "root")
    # a map click hands the drawer a case id: text or a number past int64 is a 400
    from_map = next(
        d
        for d in browser.get(f"{base}/_dash-dependencies", timeout=10).json()
        if d["inputs"] == [{"id": "cc-focus-case", "property": "data"}]
        and "cc-drawer-case.data" in d["output"]
    )
    for bad in ("abc", "1e3", None, [1], HUGE):
        body = dash_body(from_map, {"cc-focus-case.data": {"case_id": bad}}, "cc-focus-case.data")
        answer = post_dash(base, body, http=browser)
        if bad is None:
            assert answer.status_code == 204  # nothing picked: nothing to do
            continue
        assert answer.status_code == 400, (bad, answer.status_code, answer.text[:200])
        assert "case_id must be a record id" in answer.text
    # the drawer's actions: "put on the wall" and a workflow action on case 10**30
    deps = browser.get(f"{base}/_dash-dependencies", timeout=10).json()
    on_wall = next(d for d in deps if d["inputs"][0]["id"] == "cc-drawer-onwall")
    act = next(d for d in deps if '"cc-act"' in d["inputs"][0]["id"])
    where = {"cc-url.pathname": "/wall/duty", "cc-url.search": ""}
    for case in ({"case_id": HUGE}, {"case_id": "x"}, ["not", "a", "dict"]):
        body = dash_body(
            on_wall,
            {"cc-drawer-onwall.n_clicks": 1, "cc-drawer-case.data": case, **where},
            "cc-drawer-onwall.n_clicks",
        )
        answer = post_dash(base, body, http=browser)
        assert answer.status_code == 400, (case, answer.text[:200])
        button = {"role": "cc-act", "action": "urge"}
        clicks = [{"id": button, "property": "n_clicks", "value": 1}]
        body = dash_body(
            act,
            {"cc-act.n_clicks": clicks, "cc-drawer-case.data": case, **where},
            '{"action":"urge","role":"cc-act"}.n_clicks',
        )
        answer = post_dash(base, body, http=browser)
        assert answer.status_code == 400, (case, answer.text[:200])
        no_traceback(answer)


def test_a_dash_post_that_fits_no_callback_of_the_app_is_a_400(alarm_app) -> None:  # noqa: ANN001
    _cc, base = alarm_app
    page = {
        "output": "cc-page.children",
        "outputs": {"id": "cc-page", "property": "children"},
        "inputs": [{"id": "cc-url", "property": "pathname", "value": "/wall/main"}],
        "changedPropIds": ["cc-url.pathname"],
    }
    for body in ([], {}, {**page, "output": "nope.children"}, page, {**page, "outputs": []}):
        answer = post_dash(base, body)
        assert answer.status_code == 400, (body, answer.status_code)
        assert "not a callback of this app" in answer.text
    url = [*page["inputs"], {"id": "cc-url", "property": "search", "value": ""}]
    assert post_dash(base, {**page, "inputs": url}).status_code == 200


# ------------------------------------------------------------------ screens.yaml


def nul_in(path: Path, line: int) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert ":" in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(":", ":\x00", 1)
    path.write_text("".join(lines), encoding="utf-8")


def test_nul_bytes_in_screens_yaml_are_a_file_line_error_from_check(tmp_path: Path) -> None:
    screens = tmp_path / "screens.yaml"
    screens.write_bytes((ROOT / "screens.yaml").read_bytes())
    nul_in(screens, 8)
    done = subprocess.run(
        [sys.executable, "-m", "command_center.cli", "screens", "check", str(screens)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "CC_DATA_DIR": str(tmp_path / "var")},
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "Traceback" not in out
    assert f"{screens}:8: (top level): control character U+0000 at column" in out


def test_nul_bytes_keep_the_last_good_layout_and_show_on_the_ops_screen_and_list(
    live_app,  # noqa: ANN001
) -> None:
    cc, base = live_app
    screens = cc.settings.screens_file
    before = cc.watcher.version
    nul_in(screens, 8)
    deadline = time.monotonic() + 10
    while cc.watcher.last_error is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert cc.watcher.last_error is not None, "the watcher says nothing is wrong"
    assert cc.watcher.version == before and cc.watcher.current.screens
    status = requests.get(f"{base}/healthz", timeout=10).json()["screens"]
    assert f"{screens}:8: " in status["error"] and "U+0000" in status["error"]
    warning = cc.screens_warning("zh")  # the screen list's banner
    assert warning and f"{screens}:8: " in warning and "U+0000" in warning
    assert requests.get(f"{base}/wall/main", timeout=10).status_code == 200


def test_control_characters_anywhere_are_located_by_line_and_column(tmp_path: Path) -> None:
    from command_center.panels import default_registry
    from command_center.screens.loader import check_file

    original = (ROOT / "screens.yaml").read_text(encoding="utf-8")
    lines = original.splitlines(keepends=True)
    for char in ("\x00", "\x07", "\x1b", "\ufffe", "\ud800"):
        broken = tmp_path / "screens.yaml"
        text = "".join(lines[:6]) + "  " + char + lines[6] + "".join(lines[7:])
        broken.write_text(text, encoding="utf-8", errors="surrogatepass")
        issues = check_file(broken, default_registry())
        assert len(issues) == 1 and issues[0].line in (1, 7), (repr(char), issues)


# ------------------------------------------------------------------ request size


def raw_post(base: str, path: str, declared: int, send: int, headers: str = "") -> tuple[str, int]:
    """POST declaring ``declared`` bytes and sending up to ``send`` of them in 1 MB chunks
    while the server has not answered; returns (status line, bytes sent)."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {declared}\r\n{headers}\r\n"
    )
    sock.sendall(head.encode())
    chunk = b"[" + b"0," * (2**19 - 1)
    sent = 0
    sock.setblocking(False)
    answer = b""
    try:
        while sent < send:
            try:
                answer += sock.recv(4096)
                if answer:
                    break
            except BlockingIOError:
                pass
            try:
                sent += sock.send(chunk)
            except BlockingIOError:
                time.sleep(0.01)
        sock.setblocking(True)
        sock.settimeout(30)
        while b"\r\n" not in answer:
            more = sock.recv(4096)
            if not more:
                break
            answer += more
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        sock.close()
    return answer.split(b"\r\n", 1)[0].decode(errors="replace"), sent


def test_a_100_mb_unauthenticated_dash_post_is_413_at_once_and_does_not_grow_the_worker(
    alarm_app,  # noqa: ANN001
) -> None:
    _cc, base = alarm_app
    requests.get(f"{base}/healthz", timeout=10)  # warm up
    rss = rss_bytes()
    started = time.monotonic()
    status, sent = raw_post(base, DASH, 100 * 2**20, 100 * 2**20)
    took = time.monotonic() - started
    grown = rss_bytes() - rss
    assert status.startswith("HTTP/1.1 413"), status
    assert took < 5, took
    assert grown < 32 * 2**20, f"worker grew by {grown / 2**20:.0f} MB ({sent} bytes sent)"


def test_every_request_is_bounded_by_the_setting_with_a_clear_message(tmp_path: Path) -> None:
    from command_center.app import create_app

    cc = create_app(alarm_settings(tmp_path, max_request_bytes=4096), start_background=False)
    with running(cc) as base:
        big = json.dumps(alarm_body(title="积" * 3000))
        headers = {**IOT, "Content-Type": "application/json"}
        api = requests.post(f"{base}/api/alarms", data=big, headers=headers, timeout=10)
        assert api.status_code == 413
        assert api.json()["error"] == "request_entity_too_large"
        assert "at most 4096" in api.json()["detail"]
        small = requests.post(f"{base}/api/alarms", json=alarm_body(), headers=IOT, timeout=10)
        assert small.status_code == 201
        login = requests.post(f"{base}/login", data={"username": "x" * 5000}, timeout=10)
        assert login.status_code == 413
        dash = post_dash(base, big)
        assert dash.status_code == 413 and "sign" in dash.text


def noise_png(width: int, height: int) -> bytes:
    """A photo that does not compress: its base64 is well past the small request limit."""
    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_a_signed_in_photo_upload_works_and_the_same_post_without_a_session_is_413(
    live_app,  # noqa: ANN001
) -> None:
    from tests.command_center.test_collaboration import new_case

    cc, base = live_app
    admin = add_user(cc, "root", "admin")
    case_id = new_case(cc)
    for action, kw in [("accept", {}), ("register", {}), ("dispatch", {"department_code": "D02"})]:
        assert cc.collab.perform(admin, case_id, action, **kw).ok
    photo = noise_png(1500, 1200)
    contents = "data:image/png;base64," + base64.b64encode(photo).decode()
    assert len(contents) > cc.settings.max_request_bytes
    browser = signed_in(base, "root")
    deps = browser.get(f"{base}/_dash-dependencies", timeout=10).json()
    act = next(d for d in deps if '"cc-act"' in d["inputs"][0]["id"])
    button = {"role": "cc-act", "action": "report_back"}
    body = dash_body(
        act,
        {
            "cc-act.n_clicks": [{"id": button, "property": "n_clicks", "value": 1}],
            "cc-drawer-case.data": {"case_id": case_id},
            "cc-act-note.value": "已清运",
            "cc-act-photo.contents": contents,
            "cc-url.pathname": "/wall/duty",
            "cc-url.search": "",
        },
        '{"action":"report_back","role":"cc-act"}.n_clicks',
    )
    anonymous = post_dash(base, body)
    assert anonymous.status_code == 413, anonymous.text[:200]
    answer = post_dash(base, body, http=browser)
    assert answer.status_code == 200, answer.text[:300]
    photos = cc.services.case_detail(case_id).photos
    assert [p.by for p in photos] == ["root"]


# ------------------------------------------------------------------ no traceback, ever


def test_an_unexpected_error_is_logged_once_and_shows_no_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from command_center.app import create_app

    cc = create_app(alarm_settings(tmp_path), start_background=False)

    def broken() -> Any:
        raise RuntimeError("secret internals at /srv/app.py")

    cc.server.add_url_rule("/api/broken", "api_broken", broken)
    cc.server.add_url_rule("/broken", "broken", broken)
    with caplog.at_level(logging.ERROR), running(cc) as base:
        api = requests.get(f"{base}/api/broken", timeout=5)
        page = requests.get(f"{base}/broken", timeout=5)
    assert api.status_code == 500 and api.json()["error"] == "internal_error"
    assert page.status_code == 500 and page.headers["Content-Type"].startswith("text/plain")
    for answer in (api, page):
        no_traceback(answer)
        assert "secret internals" not in answer.text
    logged = [r for r in caplog.records if r.exc_info and "secret internals" in str(r.exc_info[1])]
    assert len(logged) == 2  # once per request
