"""The ops watch: a backend going down raises an ``ops`` alarm that reaches the screens,
its recovery acknowledges it; the ops panels render the watch's snapshot."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from command_center.screens.registry import PanelContext
from layouts.ops_monitor import FlowOptions, ScreensOptions, render_flow, render_screens


class Gateway(BaseHTTPRequestHandler):
    """A local fake SMS gateway: its /health is all the watch asks for."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_args: object) -> None:
        pass


def start_gateway(port: int = 0) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), Gateway)
    server.allow_reuse_address = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_backend_down_raises_an_ops_alarm_and_recovery_clears_it(make_app, screens) -> None:  # noqa: ANN001
    port = free_port()
    gateway = start_gateway(port)
    cc, base = make_app(
        sms_adapter="http",
        sms_options={"url": f"http://127.0.0.1:{port}/send", "api_key": "test"},
    )
    wall = screens(base, screen="ops").connect()
    states = cc.ops_watch.check()
    assert states["sms"].health.up and states["database"].health.up
    assert cc.alarms.open_alarms() == []

    gateway.shutdown()
    gateway.server_close()
    states = cc.ops_watch.check()
    assert not states["sms"].health.up and states["sms"].down_since is not None
    (alarm,) = cc.alarms.open_alarms()
    assert alarm.source == "ops" and alarm.level == "critical" and "短信网关" in alarm.title
    assert wall.wait_for(lambda: wall.of("alarm"), timeout=2)[0]["id"] == alarm.id
    cc.ops_watch.check()  # still down: no second alarm
    assert len(cc.alarms.open_alarms()) == 1

    gateway = start_gateway(port)
    try:
        states = cc.ops_watch.check()
        assert states["sms"].health.up
        assert cc.alarms.open_alarms() == []
        assert cc.alarms.store.get(alarm.id).acknowledged_by == "ops"
        assert wall.wait_for(lambda: wall.of("ack"), timeout=2)[0]["id"] == alarm.id
    finally:
        gateway.shutdown()
        gateway.server_close()


def test_ops_panels_render_the_snapshot(rt_app, screens) -> None:  # noqa: ANN001
    cc, base = rt_app
    screens(base, screen="main").connect()
    cc.ops_watch.check()
    snapshot = cc.ops_watch.snapshot()
    assert [c.screen for c in snapshot["screens"]] == ["main"]
    ctx = PanelContext("ops", "screens", "ops_screens", ScreensOptions(), lang="zh")
    text = str(render_screens(snapshot, ctx))
    assert "main" in text and "数据库" in text
    flow = str(render_flow(snapshot, PanelContext("ops", "flow", "ops_flow", FlowOptions())))
    assert "事件/分钟" in flow and "升级短信" in flow


def test_ops_figures_as_json_need_a_key_and_count_acknowledgements(rt_app, screens) -> None:  # noqa: ANN001
    import requests
    from rt_support import API_KEYS, alarm_body  # type: ignore[import-not-found]

    cc, base = rt_app
    key = {"X-API-Key": API_KEYS["iot"]}
    assert requests.get(f"{base}/api/ops", timeout=5).status_code == 401
    screens(base, screen="duty", region="110101001").connect()
    alarm = requests.post(f"{base}/api/alarms", json=alarm_body(1), headers=key, timeout=5)
    requests.post(f"{base}/api/alarms/{alarm.json()['alarm']['id']}/ack", headers=key, timeout=5)
    figures = requests.get(f"{base}/api/ops", headers=key, timeout=5).json()
    assert figures["alarms_total"] == figures["acks_total"] == 1
    assert figures["acks_per_minute"][-1][1] == 1 and len(figures["acks_per_minute"]) == 15
    assert [(s["screen"], s["region"]) for s in figures["screens"]] == [("duty", "110101001")]
    assert figures["redis"] is False and figures["alarm_counts"] == {"acknowledged": 1}


def test_ops_screens_name_the_scope_and_with_redis_the_process(rt_app, screens) -> None:  # noqa: ANN001
    cc, base = rt_app
    screens(base, screen="duty", region="110101001").connect()
    snapshot = cc.ops_watch.snapshot()
    snapshot["region_names"] = {"110101001": "和平里街道"}  # this test's database has no city
    ctx = PanelContext("ops", "screens", "ops_screens", ScreensOptions(), lang="zh")
    text = str(render_screens(snapshot, ctx))
    assert "和平里街道 110101001" in text and "本进程在线大屏 1 块" in text
    assert "Th('进程')" not in text
    text = str(render_screens({**snapshot, "redis": True}, ctx))
    assert "全部进程在线大屏 1 块" in text and "Th('进程')" in text
    assert snapshot["screens"][0].process in text
    flow = str(render_flow(snapshot, PanelContext("ops", "flow", "ops_flow", FlowOptions())))
    assert "确认/分钟" in flow
