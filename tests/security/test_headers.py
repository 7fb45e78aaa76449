"""Issue 13, item 7 (headers and Origin half): every response carries a Content-Security-Policy
that allows no inline script but Dash's own (by hash) and no eval, forbids framing, stops
MIME sniffing and keeps the referrer on this site; a state-changing request from another
site is refused with 403. Against a real server over a copy of the tiny city; the walls in
real Chromium under the policy, with every CSP violation collected."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
import requests

from tests.conftest import make_settings

API_KEYS = {"iot": "iot-secret-key"}


def serve(settings):  # noqa: ANN001, ANN201
    """A running app for ``settings`` plus a route that fails (a 500 must carry the headers
    too): ``(cc, base_url, server)``."""
    from command_center.app import create_app
    from command_center.runtime import start_background_server

    cc = create_app(settings)

    def boom() -> str:
        raise RuntimeError("a bug")

    cc.server.add_url_rule("/test-only/boom", "test_only_boom", boom)
    server, base = start_background_server(cc)
    return cc, base, server


@pytest.fixture()
def app_with_keys(city_copy: str, tmp_path: Path):  # noqa: ANN201
    cc, base, server = serve(make_settings(city_copy, tmp_path, api_keys=API_KEYS))
    yield cc, base
    server.shutdown()
    cc.stop()


def directives(policy: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_security_headers(response: requests.Response, what: str) -> None:
    h = response.headers
    policy = h.get("Content-Security-Policy")
    assert policy, f"{what}: no Content-Security-Policy"
    csp = directives(policy)
    scripts = csp.get("script-src", csp.get("default-src"))
    assert scripts is not None, f"{what}: no script-src"
    assert "'unsafe-inline'" not in scripts, f"{what}: inline scripts allowed: {policy}"
    assert "'unsafe-eval'" not in scripts, f"{what}: eval allowed: {policy}"
    assert "*" not in scripts and "data:" not in scripts, f"{what}: scripts from anywhere"
    assert csp.get("frame-ancestors") == ["'none'"], f"{what}: {policy}"
    assert csp.get("object-src") == ["'none'"], f"{what}: {policy}"
    assert h.get("X-Frame-Options") == "DENY", what
    assert h.get("X-Content-Type-Options") == "nosniff", what
    assert h.get("Referrer-Policy") in ("same-origin", "strict-origin-when-cross-origin"), what
    assert "Strict-Transport-Security" not in h, f"{what}: HSTS over plain HTTP"


def route_callback(path: str = "/wall/ops") -> dict:
    """The body Dash's renderer posts when the page's URL changes (callbacks/wall.py)."""
    return {
        "output": "cc-page.children",
        "outputs": {"id": "cc-page", "property": "children"},
        "inputs": [
            {"id": "cc-url", "property": "pathname", "value": path},
            {"id": "cc-url", "property": "search", "value": ""},
        ],
        "changedPropIds": ["cc-url.pathname"],
        "state": [],
    }


# --- headers -------------------------------------------------------------------------------


def test_every_kind_of_response_carries_the_security_headers(app_with_keys) -> None:  # noqa: ANN001
    cc, base = app_with_keys
    s = requests.Session()
    gets = [
        "/",
        "/wall/main",
        "/wall/duty",
        "/login",
        "/admin/audit",  # a redirect to /login
        "/_dash-layout",
        "/_dash-dependencies",
        "/assets/cc_theme.css",
        "/assets/cc_wall.js",
        "/assets/does-not-exist.js",  # 404
        "/healthz",
        "/api/ops",
        "/api/alarms",  # 401 without a key
        "/photos/1",
        "/photos/999999",  # 404
        "/video/cam-001/snapshot.png",
        "/video/nope/snapshot.png",  # 404
        "/test-only/boom",  # 500
    ]
    seen = set()
    for path in gets:
        r = s.get(base + path, allow_redirects=False)
        seen.add(r.status_code)
        assert_security_headers(r, f"GET {path} ({r.status_code})")
    dash = s.get(base + "/").text
    suite = re.search(r'src="(/_dash-component-suites/[^"]+)"', dash)
    assert suite is not None
    assert_security_headers(s.get(base + suite.group(1)), "a Dash component suite")
    r = s.get(base + "/api/alarms", headers={"X-API-Key": API_KEYS["iot"]})
    assert_security_headers(r, f"GET /api/alarms with a key ({r.status_code})")
    r = s.post(base + "/_dash-update-component", json=route_callback(), headers={"Origin": base})
    assert r.status_code == 200
    assert_security_headers(r, "a Dash callback")
    r = s.post(base + "/login", data={"username": "nobody", "password": "x"})
    assert_security_headers(r, f"POST /login ({r.status_code})")
    r = s.post(base + "/login", data={"username": "x"}, headers={"Origin": "https://evil.test"})
    assert_security_headers(r, f"a refused POST ({r.status_code})")
    assert {200, 302, 401, 403, 404, 500} <= seen | {r.status_code}
    # Socket.IO's engine.io answers before Flask does: its responses are covered too
    r = s.get(base + "/socket.io/", params={"EIO": "4", "transport": "polling"})
    assert r.status_code == 200
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    assert r.headers.get("X-Frame-Options") == "DENY"
    assert "default-src 'none'" in r.headers.get("Content-Security-Policy", "")


def inline_scripts(html: str) -> list[str]:
    """The bodies of the scripts a browser would run inline: no src, no JSON data block,
    outside HTML comments (Dash's ``<!--[if IE]>`` warning is one)."""
    html = re.sub(r"<!--.*?-->", "", html, flags=re.S)
    out = []
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S | re.I):
        if "src=" in attrs or re.search(r'type="application/json"', attrs):
            continue
        out.append(body)
    return out


def test_csp_allows_exactly_the_inline_scripts_dash_serves(app_with_keys) -> None:  # noqa: ANN001
    _cc, base = app_with_keys
    r = requests.get(base + "/wall/main")
    scripts = inline_scripts(r.text)
    assert scripts, "Dash serves its renderer bootstrap inline"
    allowed = set(directives(r.headers["Content-Security-Policy"])["script-src"])
    served = {
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in scripts
    }
    assert served <= allowed, f"inline scripts the CSP blocks: {served - allowed}"
    assert allowed - served == {"'self'"}, "hashes of scripts nobody serves"


def test_connect_src_names_the_host_of_the_request(app_with_keys) -> None:  # noqa: ANN001
    _cc, base = app_with_keys
    host = base.removeprefix("http://")
    csp = directives(requests.get(base + "/").headers["Content-Security-Policy"])
    assert csp["connect-src"] == ["'self'", f"ws://{host}", f"wss://{host}"]
    proxied = requests.get(base + "/", headers={"Host": "cc.example.gov.cn"})
    csp = directives(proxied.headers["Content-Security-Policy"])
    assert "wss://cc.example.gov.cn" in csp["connect-src"]
    # a Host header cannot write directives into the policy
    hostile = requests.get(base + "/", headers={"Host": "x; script-src *"})
    csp = directives(hostile.headers["Content-Security-Policy"])
    assert csp["script-src"][0] == "'self'" and "*" not in csp["script-src"]
    assert csp["connect-src"] == ["'self'"]


def test_settings_tiles_portal_and_https(city_copy: str, tmp_path: Path) -> None:
    settings = make_settings(
        city_copy,
        tmp_path,
        tile_url="https://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}&y={y}&l={z}",
        frame_ancestors=["https://portal.example.gov.cn"],
        https=True,
    )
    cc, base, server = serve(settings)
    try:
        plain = requests.get(base + "/wall/main")
        csp = directives(plain.headers["Content-Security-Policy"])
        assert csp["img-src"] == ["'self'", "data:", "blob:", "https://*.tianditu.gov.cn"]
        assert csp["frame-ancestors"] == ["https://portal.example.gov.cn"]
        # X-Frame-Options cannot name a portal: the CSP decides alone
        assert "X-Frame-Options" not in plain.headers
        sio = requests.get(base + "/socket.io/", params={"EIO": "4", "transport": "polling"})
        assert "X-Frame-Options" not in sio.headers
        assert (
            "frame-ancestors https://portal.example.gov.cn"
            in sio.headers["Content-Security-Policy"]
        )
        # HSTS only on a request that came over HTTPS (here through a TLS proxy)
        assert "Strict-Transport-Security" not in plain.headers
        tls = requests.get(base + "/wall/main", headers={"X-Forwarded-Proto": "https"})
        assert tls.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        # over HTTPS, a page of the same host on plain http is not this site
        host = base.removeprefix("http://")
        url = base + "/_dash-update-component"
        r = requests.post(url, json=route_callback(), headers={"Origin": f"http://{host}"})
        assert r.status_code == 403
        r = requests.post(url, json=route_callback(), headers={"Origin": f"https://{host}"})
        assert r.status_code == 200
    finally:
        server.shutdown()
        cc.stop()


# --- Origin / Referer ----------------------------------------------------------------------


def test_cross_origin_dash_callback_is_refused(app_with_keys) -> None:  # noqa: ANN001
    _cc, base = app_with_keys
    url = base + "/_dash-update-component"
    for headers in (
        {"Origin": "https://evil.test"},
        {"Origin": "null"},  # a sandboxed frame or a data: page
        {"Origin": base.replace("127.0.0.1", "localhost")},  # another host, same machine
        {"Referer": "https://evil.test/page.html"},
    ):
        r = requests.post(url, json=route_callback(), headers=headers)
        assert r.status_code == 403, headers
        assert "other site" in r.text or "其他网站" in r.text
    for headers in ({"Origin": base}, {"Referer": base + "/wall/ops"}, {}):
        r = requests.post(url, json=route_callback(), headers=headers)
        assert r.status_code == 200, headers
        assert "cc-canvas" in r.text


def test_cross_origin_login_is_refused_and_same_origin_works(app_with_keys) -> None:  # noqa: ANN001
    cc, base = app_with_keys
    cc.collab.users.add("duty1", "duty_officer", "correct horse battery", now=cc.collab.clock())
    from tests.security.test_sessions import csrf_of

    http = requests.Session()  # the form's CSRF token is bound to the session it came with
    token = csrf_of(http.get(base + "/login").text)
    form = {
        "username": "duty1",
        "password": "correct horse battery",
        "next": "/wall/duty",
        "csrf_token": token,
    }
    r = http.post(
        base + "/login", data=form, headers={"Origin": "https://evil.test"}, allow_redirects=False
    )
    assert r.status_code == 403
    assert "cc_user" not in r.headers.get("Set-Cookie", "")
    r = http.post(base + "/login", data=form, headers={"Origin": base}, allow_redirects=False)
    assert r.status_code in (302, 303), r.text[:300]
    assert r.headers["Location"].endswith("/wall/duty")


def test_logout_from_another_site_is_refused(app_with_keys) -> None:  # noqa: ANN001
    _cc, base = app_with_keys
    r = requests.post(base + "/logout", headers={"Origin": "https://evil.test"})
    assert r.status_code == 403


def test_allowed_origins_and_key_authenticated_api(city_copy: str, tmp_path: Path) -> None:
    settings = make_settings(
        city_copy,
        tmp_path,
        api_keys=API_KEYS,
        allowed_origins=["https://cc.example.gov.cn"],
    )
    cc, base, server = serve(settings)
    try:
        url = base + "/_dash-update-component"
        r = requests.post(
            url, json=route_callback(), headers={"Origin": "https://cc.example.gov.cn"}
        )
        assert r.status_code == 200
        r = requests.post(url, json=route_callback(), headers={"Origin": "https://cc.example.org"})
        assert r.status_code == 403
        # the alarm API is authenticated by its key, not by a cookie: any origin may call it
        body = {
            "source": "iot",
            "source_id": "sec-headers-1",
            "level": "重大",
            "class_code": "0701",
            "title": "积水超限",
            "at": "2026-11-25T10:30:00+08:00",
            "lon": 116.40,
            "lat": 39.93,
        }
        r = requests.post(
            base + "/api/alarms",
            json=body,
            headers={"X-API-Key": API_KEYS["iot"], "Origin": "https://iot-platform.example"},
        )
        assert r.status_code != 403, r.text
        # ... but not when a browser attaches this site's cookies to it
        r = requests.post(
            base + "/api/alarms",
            json=body,
            headers={"Origin": "https://evil.test", "Cookie": "session=x"},
        )
        assert r.status_code == 403
    finally:
        server.shutdown()
        cc.stop()


# --- the walls under the policy, in Chromium -------------------------------------------------

VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(
    `${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`
));
"""


def open_under_csp(browser, url: str, width: int, height: int):  # noqa: ANN001, ANN201
    from tests.browser.test_walls import PageWatch

    page = browser.new_page(viewport={"width": width, "height": height})
    page.add_init_script(VIOLATIONS)
    watch = PageWatch(page)
    response = page.goto(url)
    assert response is not None and "content-security-policy" in response.headers
    return page, watch


def assert_no_violation(page, watch) -> None:  # noqa: ANN001
    violations = page.evaluate("window.__cspViolations")
    assert not violations, f"CSP violations: {violations}"
    assert not [e for e in watch.errors if "Content Security Policy" in e], watch.errors
    watch.assert_clean()


def default_screens() -> list[dict]:
    import yaml

    root = Path(__file__).resolve().parents[2]
    return yaml.safe_load((root / "screens.yaml").read_text())["screens"]


@pytest.mark.browser
@pytest.mark.parametrize("screen", [s["id"] for s in default_screens()])
def test_every_default_wall_renders_under_the_csp(live_app, browser, artifacts, screen) -> None:  # noqa: ANN001
    from tests.browser.test_walls import wait_for_panels

    _cc, base = live_app
    spec = next(s for s in default_screens() if s["id"] == screen)
    width, height = (int(v) for v in spec["size"].split("x"))
    page, watch = open_under_csp(browser, f"{base}/wall/{screen}", width // 2, height // 2)
    page.wait_for_selector(".cc-canvas.cc-scaled", timeout=40000)  # a loaded machine
    wait_for_panels(page, timeout=40)
    page.wait_for_timeout(1500)  # live updates, clientside callbacks, Socket.IO connect
    if screen in ("main", "duty"):
        page.screenshot(path=str(artifacts / f"csp-wall-{screen}.png"))
    assert page.evaluate("window.__cspViolations") is not None, "the listener did not run"
    assert_no_violation(page, watch)
    page.close()


@pytest.mark.browser
def test_index_and_login_render_under_the_csp(live_app, browser) -> None:  # noqa: ANN001
    cc, base = live_app
    page, watch = open_under_csp(browser, base + "/", 1600, 1000)
    page.wait_for_selector(".cc-card")
    assert_no_violation(page, watch)
    cc.collab.users.add("duty2", "duty_officer", "correct horse battery", now=cc.collab.clock())
    page.goto(base + "/login")
    page.fill("input[name=username]", "duty2")
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")  # a same-origin form post passes the Origin check
    page.wait_for_url("**/wall/duty")
    page.wait_for_selector(".cc-q-tabs .cc-q-count", timeout=40000)
    assert_no_violation(page, watch)
    page.close()
