"""Page routing, hot reload of open walls, and the header clock."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from dash import Input, Output, State, no_update

from command_center.screens.scaling import parse_part
from layouts.wall import index_page, not_found_page, screen_lang, wall_page


def render_path(cc: Any, pathname: str | None, search: str | None) -> Any:
    """The page for a URL: ``/`` the screen list, ``/wall/<id>[?part=c,r&of=CxR&lang=en]``."""
    query = {k: v[-1] for k, v in parse_qs((search or "").lstrip("?")).items()}
    screens = cc.watcher.current
    lang = query.get("lang") or cc.settings.lang
    path = (pathname or "/").rstrip("/") or "/"
    if path == "/":
        return index_page(screens, lang, cc.screens_warning(lang))
    if path.startswith("/wall/"):
        screen_id = path[len("/wall/") :]
        screen = screens.get(screen_id)
        if screen is None:
            return not_found_page(screen_id, screens, lang)
        lang = query.get("lang") or screen_lang(screen, cc.settings.lang)
        try:
            part = parse_part(query.get("part"), query.get("of"))
        except ValueError as exc:
            return not_found_page(screen_id, screens, lang, reason=str(exc))
        return wall_page(screen, cc.registry, lang, cc.watcher.version, part, cc.build_panel)
    return not_found_page(path, screens, lang)


def register(app: Any, cc: Any) -> None:
    @app.callback(
        Output("cc-page", "children"),
        Input("cc-url", "pathname"),
        Input("cc-url", "search"),
    )
    def route(pathname: str | None, search: str | None) -> Any:
        return render_path(cc, pathname, search)

    @app.callback(
        Output("cc-page", "children", allow_duplicate=True),
        Input("cc-version-poll", "n_intervals"),
        State("cc-wall-meta", "data"),
        State("cc-url", "pathname"),
        State("cc-url", "search"),
        prevent_initial_call=True,
    )
    def hot_reload(_n: int, meta: dict[str, Any] | None, pathname: str, search: str) -> Any:
        """Rebuild an open wall when screens.yaml changed (only then: no flicker)."""
        if meta is None or meta.get("version") == cc.watcher.version:
            return no_update
        return render_path(cc, pathname, search)

    app.clientside_callback(
        "function(n){ return window.cc && window.cc.wall ? window.cc.wall.clock() : ''; }",
        Output("cc-clock", "children"),
        Input("cc-version-poll", "n_intervals"),
    )
    _ = (route, hot_reload)
