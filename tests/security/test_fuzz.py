"""Property-based fuzzing (Hypothesis) of what the outside world writes into the app.

(a) The alarm API (``POST /api/alarms``, ``POST /api/alarms/<id>/ack``,
``GET /api/alarms?since=``) with arbitrary JSON values, strings with control characters and
emoji, huge numbers, deep nesting, raw bytes and arbitrary headers: every answer is 2xx or
4xx with a JSON body, never a server error. Mostly through Flask's test client on an app
built as the other tests build it (fast), and a smaller number against a real server.

(b) screens.yaml: mutations of the real file (random bytes, deleted and duplicated lines,
random YAML values at random paths) through the watcher: nothing escapes, and each edit
either becomes the new layout or is a ``file:line:`` error with the last good layout kept.

Thousands of examples in all, in well under a minute: the ``security-fuzz`` profile sets the
counts (``SECURITY_FUZZ_SCALE=4`` multiplies them for a longer local run).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from tests.security.input_support import API_KEYS, alarm_body, alarm_settings, running

SCALE = float(os.environ.get("SECURITY_FUZZ_SCALE", "1"))


def fuzz(examples: int) -> Any:
    """The profile of this file: no deadline (a slow CI box is no bug), no database
    examples kept between runs, and ``examples`` scaled by SECURITY_FUZZ_SCALE."""
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


# ------------------------------------------------------------------ strategies

#: strings an attacker likes: control characters, emoji, RTL marks, CJK, very long ones
nasty_text = st.one_of(
    st.text(),
    st.text(st.characters(codec="utf-8"), max_size=50),
    st.text(st.characters(min_codepoint=0, max_codepoint=0x1F), max_size=20),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "🚨🔥" * 10,
            "\u202e\u200b",
            "<img src=x onerror=alert(1)>",
            "'; DROP TABLE alarms; --",
            "积水" * 200,
            "9" * 400,
            "NaN",
            "1e309",
            "${jndi:ldap://x}",
            "\ud800",
            "a\udfffb",
            "\x1b[2J",
            "١١٠١٠١٠٠١٠٠١٠١",
        ]
    ),
)
huge_int = st.one_of(
    st.integers(),
    st.integers(min_value=2**63 - 2, max_value=2**64 + 2),
    st.integers(min_value=-(2**64), max_value=-(2**63) + 2),
    st.sampled_from([10**30, -(10**30), 10**400, 0, -1]),
)
scalar = st.one_of(
    st.none(),
    st.booleans(),
    huge_int,
    st.floats(allow_nan=True, allow_infinity=True),
    nasty_text,
)
json_value = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(nasty_text, inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = [
    "source",
    "source_id",
    "level",
    "class_code",
    "title",
    "label",
    "at",
    "lon",
    "lat",
    "grid_code",
    "case_id",
    "camera_id",
]


@st.composite
def deep_json_text(draw: st.DrawFn) -> str:
    depth = draw(st.integers(min_value=1, max_value=200_000))
    if draw(st.booleans()):
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


offsets = st.sampled_from(["", "Z", "+08:00", "+14:00", "-23:59", "+23:59", "-12:00"])
iso_times = st.builds(
    lambda at, offset: at.isoformat() + offset,
    st.datetimes(),  # year 1 to 9999
    offsets,
)
#: values that fit a field's type but push its limits
FIELD_VALUES: dict[str, Any] = {
    "at": st.one_of(iso_times, huge_int, st.floats(), nasty_text),
    "lon": st.one_of(st.floats(allow_nan=True, allow_infinity=True), huge_int, nasty_text),
    "lat": st.one_of(st.floats(allow_nan=True, allow_infinity=True), huge_int, nasty_text),
    "case_id": st.one_of(huge_int, nasty_text),
    "grid_code": st.one_of(st.from_regex(r"\A\d{14,15}\Z"), nasty_text, huge_int),
}


@st.composite
def alarm_like(draw: st.DrawFn) -> dict[str, Any]:
    """A well-formed alarm with one field or a few replaced, removed or added."""
    body = alarm_body(draw(st.integers(0, 10**6)))
    if draw(st.integers(0, 4)) == 0:
        body["source"] = draw(st.sampled_from(["iot", "video", "IOT", "", "iot "]))
    for _ in range(draw(st.integers(1, 3))):
        field = draw(st.sampled_from(FIELDS) | nasty_text)
        strategy = FIELD_VALUES.get(field, st.one_of(nasty_text, nasty_text, json_value))
        body[field] = draw(strategy)
    if draw(st.integers(0, 4)) == 0:
        body.pop(draw(st.sampled_from(FIELDS)), None)
    return body


def dumps(value: Any) -> bytes:
    """JSON as a client sends it: UTF-8, lone surrogates too (JSON can spell them)."""
    text = json.dumps(value, ensure_ascii=draw_ascii(value), allow_nan=True)
    return text.encode("utf-8", "surrogatepass")


def draw_ascii(value: Any) -> bool:
    return len(str(value)) % 2 == 0  # both encodings, without a second draw


#: a request body: JSON text of anything, an alarm with odd fields, deep nesting, raw bytes
body_text = st.one_of(
    json_value.map(dumps),
    alarm_like().map(dumps),
    alarm_like().map(dumps),
    deep_json_text(),
    st.binary(max_size=200),
    nasty_text,
)
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
key_header = st.one_of(
    st.sampled_from(list(API_KEYS.values())),
    st.just(API_KEYS["iot"]),
    header_text,
    st.just(API_KEYS["iot"] + " "),
)
content_type = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=latin-1",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
    ]
)
extra_headers = st.dictionaries(
    st.sampled_from(
        ["Content-Encoding", "Transfer-Encoding", "Accept", "Origin", "X-Forwarded-For", "Range"]
        + ["Accept-Encoding", "If-None-Match", "Cookie", "X-Api-Key"]
    ),
    header_text,
    max_size=3,
)


@st.composite
def api_request(draw: st.DrawFn) -> tuple[str, str, Any, dict[str, str]]:
    """(method, path, body, headers) for one of the three alarm API routes."""
    headers = {"X-API-Key": draw(key_header), **draw(extra_headers)}
    kind = draw(st.sampled_from(["post", "post", "ack", "since"]))
    ctype = draw(content_type)
    if ctype:
        headers["Content-Type"] = ctype
    if kind == "since":
        since = draw(st.one_of(huge_int.map(str), nasty_text))
        query = "since=" + quote(since.encode("utf-8", "surrogatepass"))  # bytes, as sent
        return "GET", "/api/alarms?" + query, None, headers
    body = draw(body_text)
    if kind == "ack":
        alarm_id = draw(st.one_of(st.integers(0, 5), huge_int.filter(lambda n: n >= 0)))
        return "POST", f"/api/alarms/{alarm_id}/ack", body, headers
    return "POST", "/api/alarms", body, headers


def check_answer(status: int, content_type: str, text: str, what: Any) -> None:
    assert status < 500, (status, what, text[:300])
    if status == 404 and not content_type.startswith("application/json"):
        return  # a path the router does not know (e.g. a non-numeric id): no API reached
    assert content_type.startswith("application/json"), (status, content_type, what)
    json.loads(text)
    assert "Traceback" not in text


# ------------------------------------------------------------------ (a) the alarm API


@pytest.fixture(scope="module")
def api_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from command_center.app import create_app

    cc = create_app(alarm_settings(tmp_path_factory.mktemp("fuzz-api")), start_background=False)
    yield cc
    cc.stop()


@fuzz(1500)
@given(request=api_request())
def test_alarm_api_never_answers_a_server_error(api_app, request) -> None:  # noqa: ANN001
    method, path, body, headers = request
    client = api_app.server.test_client()
    if method == "GET":
        answer = client.get(path, headers=headers)
    else:
        data = body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass")
        answer = client.post(path, data=data, headers=headers)
    check_answer(
        answer.status_code, answer.content_type or "", answer.get_data(as_text=True), request
    )


@fuzz(400)
@given(body=alarm_like(), ack_note=json_value)
def test_accepted_alarms_can_be_listed_and_acknowledged_whatever_they_hold(
    api_app,  # noqa: ANN001
    body: dict[str, Any],
    ack_note: Any,
) -> None:
    client = api_app.server.test_client()
    key = {"X-API-Key": API_KEYS["iot"]}
    made = client.post(
        "/api/alarms", data=dumps(body), headers={**key, "Content-Type": "application/json"}
    )
    check_answer(made.status_code, made.content_type or "", made.get_data(as_text=True), body)
    if made.status_code not in (200, 201):
        return
    alarm_id = made.get_json()["alarm"]["id"]
    ack = client.post(
        f"/api/alarms/{alarm_id}/ack",
        data=dumps({"by": ack_note, "note": ack_note}),
        headers={**key, "Content-Type": "application/json"},
    )
    check_answer(ack.status_code, ack.content_type or "", ack.get_data(as_text=True), ack_note)
    listed = client.get(f"/api/alarms?since={max(alarm_id - 1, 0)}", headers=key)
    assert listed.status_code == 200
    assert alarm_id in [a["id"] for a in listed.get_json()["alarms"]]


@fuzz(120)
@given(request=api_request())
def test_a_real_server_never_answers_a_server_error(real_server, request) -> None:  # noqa: ANN001
    method, path, body, headers = request
    # what requests can send at all: no framing of our own, no padded header values
    headers = {k: v.strip() for k, v in headers.items() if k.lower() != "transfer-encoding"}
    if method == "GET":
        answer = requests.get(f"{real_server}{path}", headers=headers, timeout=30)
    else:
        data = body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass")
        answer = requests.post(f"{real_server}{path}", data=data, headers=headers, timeout=30)
    check_answer(answer.status_code, answer.headers.get("Content-Type", ""), answer.text, request)


PAGE_CALLBACK = {
    "output": "cc-page.children",
    "outputs": {"id": "cc-page", "property": "children"},
    "inputs": [
        {"id": "cc-url", "property": "pathname", "value": "/wall/main"},
        {"id": "cc-url", "property": "search", "value": ""},
    ],
    "changedPropIds": ["cc-url.pathname"],
}


@st.composite
def dash_envelope(draw: st.DrawFn) -> Any:
    """The page callback's request with its envelope broken, or its URL made odd."""
    body: Any = json.loads(json.dumps(PAGE_CALLBACK))
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from([*PAGE_CALLBACK, "state", "url"]))
        op = draw(st.sampled_from(["value", "drop", "url", "item"]))
        if op == "drop":
            body.pop(key, None)
        elif op == "url":
            body["inputs"] = [
                {"id": "cc-url", "property": "pathname", "value": draw(nasty_text)},
                {"id": "cc-url", "property": "search", "value": draw(nasty_text)},
            ]
        elif op == "item" and isinstance(body.get("inputs"), list) and body["inputs"]:
            body["inputs"][0] = draw(json_value)
        else:
            body[key] = draw(json_value)
    return draw(st.sampled_from([body, body, [body], draw(json_value)]))


@fuzz(300)
@given(body=dash_envelope())
def test_dash_callback_requests_never_answer_a_server_error(api_app, body: Any) -> None:  # noqa: ANN001
    answer = api_app.server.test_client().post(
        "/_dash-update-component", data=dumps(body), headers={"Content-Type": "application/json"}
    )
    assert answer.status_code < 500, (answer.status_code, body)
    assert "Traceback" not in answer.get_data(as_text=True)


@pytest.fixture(scope="module")
def real_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from command_center.app import create_app

    cc = create_app(alarm_settings(tmp_path_factory.mktemp("fuzz-real")), start_background=False)
    with running(cc) as base:
        yield base


# ------------------------------------------------------------------ (b) screens.yaml

GOOD = (ROOT / "screens.yaml").read_text(encoding="utf-8")
GOOD_DATA = yaml.safe_load(GOOD)
FILE_LINE = re.compile(r"^.+:\d+: ")


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from command_center.panels import default_registry
    from command_center.screens.loader import ScreensWatcher

    folder = tmp_path_factory.mktemp("fuzz-screens")
    path = folder / "screens.yaml"
    shutil.copy(ROOT / "screens.yaml", path)
    yield ScreensWatcher(path, default_registry(), poll_seconds=3600)


@st.composite
def byte_mutation(draw: st.DrawFn) -> bytes:
    raw = bytearray(GOOD.encode("utf-8"))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(raw)))
        if draw(st.booleans()):
            raw[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:
            raw[at : at + draw(st.integers(1, 8))] = b""
    return bytes(raw)


@st.composite
def line_mutation(draw: st.DrawFn) -> bytes:
    lines = GOOD.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "indent", "dedent"]))
        if op == "delete":
            del lines[at]
        elif op == "duplicate":
            lines.insert(at, lines[at])
        elif op == "swap" and at + 1 < len(lines):
            lines[at], lines[at + 1] = lines[at + 1], lines[at]
        elif op == "indent":
            lines[at] = "  " + lines[at]
        else:
            lines[at] = lines[at].removeprefix("  ")
    return "".join(lines).encode("utf-8")


yaml_value = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        huge_int,
        st.floats(allow_nan=True),
        st.text(max_size=30),
        st.sampled_from(["main", "city_map", "kpi", "1920x1080", "dark", "110101001"]),
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def value_mutation(draw: st.DrawFn) -> bytes:
    """The real file as data with a random value put at a random path (then dumped)."""
    data = json.loads(json.dumps(GOOD_DATA))
    for _ in range(draw(st.integers(1, 3))):
        node: Any = data
        for _ in range(draw(st.integers(0, 6))):
            if isinstance(node, dict) and node:
                child = node[draw(st.sampled_from(sorted(node)))]
            elif isinstance(node, list) and node:
                child = node[draw(st.integers(0, len(node) - 1))]
            else:
                break
            if not isinstance(child, (dict, list)):
                break
            node = child
        value = draw(yaml_value)
        if isinstance(node, dict):
            key = draw(st.sampled_from(sorted(node) or ["x"]) | st.text(max_size=8))
            if draw(st.integers(0, 4)) == 0:
                node.pop(key, None)
            else:
                node[key] = value
        elif isinstance(node, list):
            if node and draw(st.booleans()):
                node[draw(st.integers(0, len(node) - 1))] = value
            else:
                node.append(value)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode("utf-8")


@fuzz(250)
@given(raw=st.one_of(byte_mutation(), line_mutation(), value_mutation()))
def test_screens_yaml_edits_become_the_layout_or_a_file_line_error(watched, raw: bytes) -> None:  # noqa: ANN001
    before, version = watched.current, watched.version
    watched.path.write_bytes(raw)
    adopted = watched.check_now()  # raises nothing, whatever the file holds
    if adopted:
        assert watched.version == version + 1 and watched.last_error is None
        assert watched.current is not before
        return
    assert watched.current is before and watched.version == version
    if watched.last_error is not None:
        assert watched.last_error.issues
        for issue in watched.last_error.issues:
            assert issue.line is not None and issue.line >= 1, issue
            assert FILE_LINE.match(str(issue)), str(issue)
            assert "Traceback" not in issue.message
