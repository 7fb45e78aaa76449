"""The README's own examples work: the curl commands of its alarm API section run, as
written, against a served tiny city, answer the status codes it documents, and the alarm
they post becomes a case (告警立案) in the duty console's service."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCUMENTED_BASE = "http://127.0.0.1:8050"
DOCUMENTED_KEY = "key-of-iot"


@dataclass
class Curl:
    """One curl command of the README, as the request it makes."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    data: str | None = None


def section(title: str) -> str:
    """The README's text under the level-2 heading that starts with ``title``."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}")
    end = text.find("\n## ", start + 4)
    return text[start : end if end > 0 else len(text)]


def shell_commands(text: str) -> list[str]:
    """The commands of the ```sh blocks of ``text``: lines continued by a backslash or by an
    open quote are joined; comments are left for shlex to drop."""
    commands: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        pending = ""
        for line in block.splitlines():
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            pending += line
            try:
                shlex.split(pending, comments=True)
            except ValueError:  # a quote still open: the command goes on
                pending += "\n"
                continue
            commands.append(pending)
            pending = ""
    return commands


def parse_curl(command: str) -> Curl:
    words = shlex.split(command, comments=True)
    assert words[0] == "curl", command
    curl = Curl(method="GET", url="")
    it = iter(words[1:])
    for word in it:
        if word == "-X":
            curl.method = next(it)
        elif word == "-H":
            name, _, value = next(it).partition(":")
            curl.headers[name.strip()] = value.strip()
        elif word in ("-d", "--data"):
            curl.data = next(it)
            if curl.method == "GET":
                curl.method = "POST"
        elif word.startswith("http"):
            curl.url = word
        else:
            raise AssertionError(f"curl option the test does not know: {word} in {command}")
    return curl


def alarm_api_curls() -> list[Curl]:
    return [
        parse_curl(c)
        for c in shell_commands(section("Alarms (告警) and real time"))
        if c.lstrip().startswith("curl")
    ]


def test_the_readme_alarm_section_has_the_three_calls() -> None:
    calls = [(c.method, c.url.split("?")[0]) for c in alarm_api_curls()]
    assert calls == [
        ("POST", f"{DOCUMENTED_BASE}/api/alarms"),
        ("POST", f"{DOCUMENTED_BASE}/api/alarms/17/ack"),
        ("GET", f"{DOCUMENTED_BASE}/api/alarms"),
    ]


def test_the_readme_alarm_examples_run_and_the_alarm_becomes_a_case(
    city_copy: str,
    city_settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    from command_center.app import create_app
    from command_center.auth import User
    from command_center.cli import main
    from command_center.runtime import start_background_server

    monkeypatch.setenv("CC_DATABASE_URL", city_copy)
    monkeypatch.setenv("CC_DATA_DIR", str(tmp_path / "var"))
    assert main(["apikeys", "add", "iot"]) == 0  # the README's way to make `key-of-iot`
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.startswith("cc_")

    cc = create_app(city_settings)
    server, base = start_background_server(cc)
    try:
        post, ack, replay = alarm_api_curls()

        def send(curl: Curl, url: str) -> requests.Response:
            headers = {k: v.replace(DOCUMENTED_KEY, key) for k, v in curl.headers.items()}
            body = curl.data.encode("utf-8") if curl.data is not None else None
            return requests.request(curl.method, url, headers=headers, data=body, timeout=10)

        made = send(post, post.url.replace(DOCUMENTED_BASE, base))
        assert made.status_code == 201, made.text  # documented: 201 {"outcome": "new", ...}
        assert made.json()["outcome"] == "new"
        alarm = made.json()["alarm"]
        again = send(post, post.url.replace(DOCUMENTED_BASE, base))
        assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
        # the point found its grid: a real grid of the city, in the named class
        assert alarm["class_code"] == "0404" and alarm["grid_code"]
        grid = cc.services.adapters.gis.region(alarm["grid_code"])
        assert grid.level == "grid"

        ack_url = ack.url.replace(DOCUMENTED_BASE, base).replace("/17/", f"/{alarm['id']}/")
        replay_url = replay.url.replace(DOCUMENTED_BASE, base).replace(
            "since=16", f"since={alarm['id'] - 1}"
        )
        listed = send(replay, replay_url)
        assert listed.status_code == 200
        assert [a["id"] for a in listed.json()["alarms"]] == [alarm["id"]]

        # 告警立案 through the duty console's service, before the API acknowledges it
        leader = User(id=1, name="zhang", display_name="zhang", role="shift_leader")
        outcome = cc.collab.case_from_alarm(leader, alarm["id"])
        assert outcome.ok, outcome.message
        case = outcome.case
        assert case is not None and case.class_code == "0404"
        assert case.grid_code == alarm["grid_code"] and case.status == "registered"

        acked = send(ack, ack_url)
        assert acked.status_code == 200, acked.text
    finally:
        server.shutdown()
        cc.stop()
