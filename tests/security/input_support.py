"""Helpers of the bad-input, briefing-access and fuzz tests: an alarm app, signing in as a
browser does, and Dash callback POSTs built from the app's own ``/_dash-dependencies``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

API_KEYS = {"iot": "iot-key-0123456789", "video": "video-key-0123456789"}
NOW = datetime(2026, 11, 25, 10, 30)
PASSWORD = "password-1"
DASH = "/_dash-update-component"

MINIMAL_SCREENS = """
screens:
  - id: main
    title: 告警测试
    size: 1920x1080
    grid: {columns: 12, rows: 6, gap: 10}
    panels:
      - {id: health, kind: ops_health, col: 1, row: 1, col_span: 12, row_span: 6}
"""


def alarm_settings(tmp_path: Path, **overrides: Any):  # noqa: ANN201
    """Settings of an app over an empty, migrated SQLite (alarms need no city)."""
    from adapters.sql.db import upgrade
    from command_center.settings import Settings
    from tests.conftest import random_secret

    db = tmp_path / "alarms.sqlite"
    url = f"sqlite:///{db}"
    if not db.exists():
        upgrade(url)
    screens = tmp_path / "screens.yaml"
    if not screens.exists():
        screens.write_text(MINIMAL_SCREENS, encoding="utf-8")
    values: dict[str, Any] = {
        "database_url": url,
        "data_dir": tmp_path / "var",
        "screens_file": screens,
        "screens_poll_seconds": 0.5,
        "simulate": False,
        "api_keys": API_KEYS,
        "alarm_fold_seconds": 0.0,
        "secret_key": random_secret(),
        "api_rate_limit": "100000/minute",  # the fuzzers post thousands with one key
    }
    values.update(overrides)
    return Settings(**values)


@contextmanager
def running(cc: Any) -> Iterator[str]:
    """Serve ``cc`` on an ephemeral port; yields the base URL."""
    from command_center.runtime import start_background_server

    server, base = start_background_server(cc)
    try:
        yield base
    finally:
        server.shutdown()
        cc.stop()


def alarm_body(n: int = 1, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source_id": f"sensor-{n}",
        "level": "critical",
        "class_code": "0102",
        "title": "积水告警",
        "lon": 116.4165,
        "lat": 39.9285,
    }
    body.update(changes)
    return body


def add_user(cc: Any, name: str, role: str) -> Any:
    return cc.collab.users.add(name, role, PASSWORD, now=NOW)


def signed_in(base: str, name: str, password: str = PASSWORD) -> requests.Session:
    """A browser session signed in through the login form (with whatever hidden fields the
    form carries, a CSRF token included)."""
    browser = requests.Session()
    form = browser.get(f"{base}/login", timeout=10).text
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form))
    fields.update({"username": name, "password": password, "next": "/wall/duty"})
    answer = browser.post(
        f"{base}/login", data=fields, headers={"Origin": base}, allow_redirects=False, timeout=10
    )
    assert answer.status_code in (302, 303), answer.text[:300]
    return browser


def callback_of(base: str, output: str, http: Any = requests) -> dict[str, Any]:
    """The app's dependency entry whose output string contains ``output``."""
    deps = http.get(f"{base}/_dash-dependencies", timeout=10).json()
    found = [d for d in deps if output in d["output"]]
    assert found, f"no callback with output {output}"
    return found[0]


def _outputs(spec: str) -> Any:
    def one(part: str) -> dict[str, Any]:
        ident, prop = part.rsplit(".", 1)
        return {
            "id": json.loads(ident) if ident.startswith("{") else ident,
            "property": prop.split("@")[0],
        }

    if spec.startswith(".."):
        return [one(p) for p in spec.strip(".").split("...")]
    return one(spec)


def dash_body(
    dep: dict[str, Any], values: dict[str, Any], changed: str, outputs: Any = None
) -> dict[str, Any]:
    """A callback request for ``dep``. Each input/state ``name.prop`` (``name`` the id, or
    the ``role`` of a pattern id) takes ``values["name.prop"]``: a plain value, or for a
    pattern id the concrete item(s) ``{"id": …, "property": …, "value": …}``; absent means
    None. ``changed`` names the input that fired; ``outputs`` replaces pattern outputs."""

    def item(d: dict[str, Any]) -> Any:
        ident = json.loads(d["id"]) if d["id"].startswith("{") else d["id"]
        name = ident.get("role") if isinstance(ident, dict) else ident
        value = values.get(f"{name}.{d['property']}")
        if isinstance(ident, dict) and isinstance(value, (list, dict)):
            return value
        return {"id": ident, "property": d["property"], "value": value}

    return {
        "output": dep["output"],
        "outputs": outputs if outputs is not None else _outputs(dep["output"]),
        "inputs": [item(d) for d in dep["inputs"]],
        "state": [item(d) for d in dep["state"]],
        "changedPropIds": [changed],
    }


def post_dash(base: str, body: Any, http: Any = requests, **kwargs: Any) -> requests.Response:
    headers = {"Content-Type": "application/json", "Origin": base, "Referer": f"{base}/wall/duty"}
    headers.update(kwargs.pop("headers", {}))
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return http.post(f"{base}{DASH}", data=data, headers=headers, timeout=60, **kwargs)


def rss_bytes() -> int:
    """Resident memory of this process (the in-process server's worker)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")
