"""The generic panel refresh: one pattern-matching callback per refreshed kind.

Each panel instance has its own timer and body (ids ``{"role", "kind", "pid"}``), so a kind
placed twice on a screen refreshes twice, independently. A failing backend gives the last
data with a "stale since" mark; a backend with no data yet gives a plain message.
"""

from __future__ import annotations

import logging
from typing import Any

from dash import MATCH, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from command_center.i18n import t
from command_center.screens.registry import PanelKind
from command_center.services import NoData
from layouts.common import message, stale_mark
from layouts.wall import panel_context

log = logging.getLogger(__name__)


def locate_panel(cc: Any, pid: str, lang: str, region_code: str | None = None) -> Any:
    """The current spec of the panel instance ``screen.panel`` (hot reload may have moved it)."""
    screen_id, _, panel_id = pid.partition(".")
    screen = cc.watcher.current.get(screen_id)
    if screen is None:
        return None
    for page in screen.all_pages():
        for spec in page.panels:
            if (spec.id or spec.kind) == panel_id:
                return panel_context(screen, spec, cc.registry, lang, region_code)
    return None


def register_refresh(app: Any, cc: Any, kind: PanelKind) -> None:
    assert kind.fetch is not None and kind.render is not None
    fetch, render = kind.fetch, kind.render

    @app.callback(
        Output({"role": "body", "kind": kind.name, "pid": MATCH}, "children"),
        Output({"role": "stale", "kind": kind.name, "pid": MATCH}, "children"),
        Input({"role": "tick", "kind": kind.name, "pid": MATCH}, "n_intervals"),
        State("cc-wall-meta", "data"),
        Input("cc-region", "data"),  # a drill-down on the map: every panel follows at once
    )
    def refresh(
        _n: int, meta: dict[str, Any] | None, region: dict[str, Any] | None
    ) -> tuple[Any, Any]:
        pid = ctx.outputs_list[0]["id"]["pid"]
        lang = (meta or {}).get("lang", cc.settings.lang)
        region_code = (region or {}).get("code")
        panel = locate_panel(cc, pid, lang, region_code)
        if panel is None:
            raise PreventUpdate
        try:
            result = fetch(cc.services, panel)
        except NoData as exc:
            return message(t("panel.no_data", lang), "error"), html_error(lang, str(exc))
        except Exception:  # noqa: BLE001 - a panel never shows a traceback
            log.exception("panel %s failed", pid)
            return no_update, html_error(lang, "")
        body = render(result.value, panel)
        return body, stale_mark(result.stale, result.fetched_at, lang, result.error)

    _ = refresh


def html_error(lang: str, detail: str) -> Any:
    from dash import html

    return html.Span(t("panel.source_down", lang), title=detail, className="cc-stale-on")
