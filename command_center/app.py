"""The application factory. Nothing heavy happens at import; ``create_app`` builds one app
(tests build as many as they need) and ``CommandCenter`` holds what its callbacks share."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from dash import Dash, dcc, html
from flask import Flask, jsonify

from command_center.events import SCREENS_RELOADED, EventBus
from command_center.i18n import t
from command_center.plugins import Adapters, load_adapters
from command_center.screens.loader import ScreensWatcher, known_region_names
from command_center.screens.registry import PanelContext, PanelRegistry
from command_center.services import DataServices
from command_center.settings import ROOT, Settings

log = logging.getLogger(__name__)


@dataclass
class CommandCenter:
    settings: Settings
    registry: PanelRegistry
    watcher: ScreensWatcher
    bus: EventBus
    adapters: Adapters
    services: DataServices
    dash: Dash

    @property
    def server(self) -> Flask:
        return self.dash.server  # type: ignore[no-any-return]

    def build_panel(self, ctx: PanelContext) -> Any:
        """A panel's frame: its kind's own builder, or the generic refreshed frame."""
        from layouts.common import refreshed_frame

        kind = self.registry.get(ctx.kind)
        if kind.build is None:
            return refreshed_frame(ctx, ctx.extra.get("refresh_ms", 5000))
        ctx.extra.setdefault("viewer", self.viewer())  # who may act here (None: a kiosk)
        ctx.extra.setdefault("tiles", (self.settings.tile_url, self.settings.tile_attribution))
        ctx.extra.setdefault("centre", self.city_centre())
        ctx.extra.setdefault("bounds", self.city_bounds())
        return kind.build(ctx)

    def viewer(self) -> Any:
        """The signed-in user of the request being answered (None: a kiosk, or no request),
        read once per request."""
        from flask import g, has_request_context

        if getattr(self, "collab", None) is None or not has_request_context():
            return None
        if "cc_viewer" not in g:
            from callbacks.case_drawer import current_user

            g.cc_viewer = current_user(self)
        return g.cc_viewer

    def city_centre(self) -> tuple[float, float]:
        """Longitude and latitude of the middle of the city (the base map's datum)."""
        bounds = self.city_bounds()
        if not bounds:  # a map without data still centres somewhere sane
            return (116.4165, 39.9285)
        (south, west), (north, east) = bounds
        return ((west + east) / 2, (south + north) / 2)

    def city_bounds(self) -> list[list[float]] | None:
        """South-west and north-east corners of every district (in the base map's datum),
        for the map's first view."""
        from command_center.geo import geo_of

        try:
            return geo_of(self).city_bounds()
        except Exception:  # noqa: BLE001 - a map without data still opens
            return None

    def screens_status(self) -> dict[str, Any]:
        from command_center.domain.calendar import to_local_naive

        w = self.watcher
        error_at = to_local_naive(w.last_error_at) if w.last_error_at else None
        good_at = to_local_naive(w.last_good_at) if w.last_good_at else None
        return {
            "error": str(w.last_error) if w.last_error else "",
            "error_at": error_at.strftime("%H:%M:%S") if error_at else "",
            "good_at": good_at.strftime("%Y-%m-%d %H:%M:%S") if good_at else "",
            "version": w.version,
        }

    def screens_warning(self, lang: str) -> str | None:
        if self.watcher.last_error is None:
            return None
        return t("index.screens_broken", lang, error=str(self.watcher.last_error))

    def start(self) -> None:
        self.watcher.start()

    def stop(self) -> None:
        self.watcher.stop()
        self.adapters.close()


def create_app(
    settings: Settings | None = None,
    *,
    adapters: Adapters | None = None,
    registry: PanelRegistry | None = None,
    start_background: bool = True,
) -> CommandCenter:
    """Build the app: adapters (clear error naming the setting if one is wrong), the
    screens watcher (refuses to start on a broken screens.yaml), services and callbacks.
    Raises ``SecretKeyError`` without a real ``CC_SECRET_KEY``."""
    from callbacks import panels as panel_callbacks
    from callbacks import wall as wall_callbacks
    from command_center.panels import default_registry

    settings = settings or Settings()
    from command_center.domain.calendar import set_city_timezone
    from command_center.secret_key import require_secret_key

    set_city_timezone(settings.city_timezone)  # before any clock is read

    require_secret_key(settings.secret_key)  # no known default ever signs anything
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    registry = registry or default_registry()
    bus = EventBus()
    adapters = adapters or load_adapters(settings)
    services = DataServices(settings, adapters, bus)
    services.warn_if_calendar_incomplete()  # a year without holidays: say so at start
    watcher = ScreensWatcher(
        settings.screens_file,
        registry,
        poll_seconds=settings.screens_poll_seconds,
        on_change=lambda _f: bus.publish(SCREENS_RELOADED, {}),
        # a screen's region must be one of the city's streets or communities
        regions=lambda: known_region_names(lambda level: services.regions(level).value),
    )

    server = Flask("command_center")
    server.config["SECRET_KEY"] = settings.secret_key
    from command_center.guards import install_guards

    install_guards(server, settings.max_request_bytes)  # body limits, safe JSON, no tracebacks
    app = Dash(
        "command_center",
        server=server,
        assets_folder=str(ROOT / "assets"),
        serve_locally=True,
        update_title=None,  # no "Updating..." flashing in kiosk title bars
        compress=True,  # GeoJSON and tables shrink 5-10x on the wire (flask-compress)
        suppress_callback_exceptions=True,
        title=t("app.title", settings.lang),
    )
    app.layout = html.Div(
        [
            dcc.Location(id="cc-url"),
            dcc.Store(id="cc-region", data={}),
            dcc.Store(id="cc-filter", data={}),  # 统计分析 filters: class, source, period, drill
            dcc.Store(id="cc-focus-case", data={}),  # {"case_id": ...}: a case to open
            html.Div(id="cc-page", className="cc-root"),
        ]
    )
    cc = CommandCenter(settings, registry, watcher, bus, adapters, services, app)
    services.screens_status = cc.screens_status  # type: ignore[method-assign]

    wall_callbacks.register(app, cc)
    for kind in registry.kinds():
        if kind.fetch is not None and kind.render is not None:
            panel_callbacks.register_refresh(app, cc, kind)
        if kind.register_callbacks is not None:
            kind.register_callbacks(app, cc)

    # --- modules install here: each adds its services, routes and callbacks to ``cc`` ---
    from callbacks.statistics import install_statistics

    install_statistics(cc, start=start_background)  # stats filters, briefing export/schedule

    from command_center.geo import install as install_geo

    install_geo(cc)  # map services, patrol positions (全景城市, 网格管理)
    from command_center.realtime import install_realtime

    install_realtime(cc, start=start_background)  # alarms, Socket.IO, /api/alarms, ops watch

    from command_center.collaboration import install_collaboration

    install_collaboration(cc, start=start_background)  # users, audit, drawer, queue, SMS

    from adapters.video.routes import register_video_routes

    register_video_routes(server, lambda: adapters.video)

    @server.get("/healthz")
    def healthz() -> Any:
        report = services.health()
        body = {
            kind: {"up": h.up, "latency_ms": round(h.latency_ms, 1), "detail": h.detail}
            for kind, h in report.items()
        }
        body["screens"] = cc.screens_status()
        return jsonify(body), (200 if all(h.up for h in report.values()) else 503)

    from command_center.guards import install_dash_envelope_check

    install_dash_envelope_check(server, app.callback_map)  # a malformed callback POST: 400
    server.extensions["command_center"] = cc
    from command_center.security_headers import install as install_security_headers

    install_security_headers(cc)  # CSP with Dash's hashes, frame/sniff/referrer, Origin check
    if start_background:
        cc.start()
    return cc
