"""Page shells: the screen list, a wall (kiosk view) and the unknown-screen page.

A wall is a design canvas of the screen's size in pixels, laid out on its grid. The browser
scales the canvas to the real viewport (assets/cc_wall.js, same maths as
``command_center.screens.scaling``), so a 5760x2160 wall looks the same on a 1920x720 window,
only smaller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dash import dcc, html

from command_center.domain.calendar import city_timezone_name
from command_center.i18n import t
from command_center.screens.model import PanelSpec, ScreensFile, ScreenSpec, title_text
from command_center.screens.registry import PanelContext, PanelRegistry

# Base font size as a share of the canvas height: 36 px on a 2160-high wall, 18 px on 1080.
FONT_SHARE = 1 / 60


def screen_lang(screen: ScreenSpec, default: str) -> str:
    return screen.lang or default


def panel_context(
    screen: ScreenSpec,
    spec: PanelSpec,
    registry: PanelRegistry,
    lang: str,
    region_code: str | None = None,
) -> PanelContext:
    kind = registry.get(spec.kind)
    title = title_text(spec.title, lang) or t(kind.title_key, lang)
    # a screen scoped to a street never shows more than its street, drilled or not
    region_code = region_code or screen.region
    font_px = screen.height * FONT_SHARE * screen.font_scale * spec.font_scale
    return PanelContext(
        screen_id=screen.id,
        panel_id=spec.id or spec.kind,
        kind=spec.kind,
        options=spec.options,
        lang=lang,
        title=title,
        theme=screen.theme,
        region_code=region_code,
        extra={"font_px": font_px, "refresh_ms": int(screen.refresh_seconds * 1000)},
    )


def wall_canvas(
    screen: ScreenSpec,
    registry: PanelRegistry,
    lang: str,
    build_panel: Callable[[PanelContext], Any],
) -> list[Any]:
    """The canvas's children: the header and one grid per page (rotation shows one at a time)."""
    pages = screen.all_pages()
    grids = []
    for index, page in enumerate(pages):
        cells = []
        for spec in page.panels:
            ctx = panel_context(screen, spec, registry, lang)
            cells.append(
                html.Div(
                    build_panel(ctx),
                    className="cc-cell",
                    style={
                        "gridColumn": f"{spec.col} / span {spec.col_span}",
                        "gridRow": f"{spec.row} / span {spec.row_span}",
                        "fontSize": f"{ctx.extra['font_px']:.1f}px",
                    },
                    **{"data-panel": spec.id or spec.kind, "data-kind": spec.kind},
                )
            )
        grids.append(
            html.Div(
                cells,
                className="cc-page" + (" active" if index == 0 else ""),
                style={
                    "gridTemplateColumns": f"repeat({screen.grid.columns}, minmax(0, 1fr))",
                    "gridTemplateRows": f"repeat({screen.grid.rows}, minmax(0, 1fr))",
                    "gap": f"{screen.grid.gap}px",
                },
                **{"data-page": str(index), "data-title": title_text(page.title, lang)},
            )
        )
    header = html.Div(
        className="cc-header",
        children=[
            html.Div(title_text(screen.title, lang), className="cc-header-title"),
            html.Div(id="cc-page-title", className="cc-header-page"),
            html.Div(
                className="cc-header-right",
                children=[
                    html.Span(id="cc-conn", className="cc-conn"),
                    # assets/cc_wall.js draws the city's time, whatever the kiosk's zone
                    html.Span(
                        id="cc-clock",
                        className="cc-clock",
                        **{"data-timezone": city_timezone_name()},
                    ),
                ],
            ),
        ],
    )
    return [header, html.Div(grids, className="cc-pages")]


def wall_page(
    screen: ScreenSpec,
    registry: PanelRegistry,
    lang: str,
    version: int,
    part: tuple[tuple[int, int], tuple[int, int]] | None,
    build_panel: Callable[[PanelContext], Any],
) -> html.Div:
    font_px = screen.height * FONT_SHARE * screen.font_scale
    attrs = {
        # real-time alarms (command_center/realtime.py): assets/cc_alarms.js opens the
        # page's Socket.IO connection for this screen and scope, and says when it is lost
        "data-screen": screen.id,
        "data-region": screen.region or "",
        "data-conn-lost": t("alarm.conn_lost", lang),
        "data-width": str(screen.width),
        "data-height": str(screen.height),
        "data-scale": screen.scale,
        "data-dwell": str(screen.rotation.dwell_seconds if screen.rotation else 0),
    }
    if part:
        (pc, pr), (oc, orow) = part
        attrs["data-part"] = f"{pc},{pr}"
        attrs["data-of"] = f"{oc}x{orow}"
    return html.Div(
        className=f"cc-wall theme-{screen.theme} lang-{lang}",
        lang=lang,
        children=[
            dcc.Store(
                id="cc-wall-meta", data={"screen": screen.id, "version": version, "lang": lang}
            ),
            dcc.Interval(id="cc-version-poll", interval=2000, n_intervals=0),
            html.Div(
                id="cc-canvas",
                className="cc-canvas",
                style={
                    "width": f"{screen.width}px",
                    "height": f"{screen.height}px",
                    "fontSize": f"{font_px:.1f}px",
                    "--cc-gap": f"{screen.grid.gap}px",
                },
                children=wall_canvas(screen, registry, lang, build_panel),
                **attrs,
            ),
        ],
    )


def index_page(screens: ScreensFile, lang: str, warning: str | None) -> html.Div:
    """The screen list: a card per screen with a miniature of its grid."""
    cards = []
    for screen in screens.screens:
        page = screen.all_pages()[0]
        minis = [
            html.Div(
                title_text(p.title, lang) or t(f"kind.{p.kind}", lang),
                className="cc-mini-panel",
                style={
                    "gridColumn": f"{p.col} / span {p.col_span}",
                    "gridRow": f"{p.row} / span {p.row_span}",
                },
            )
            for p in page.panels
        ]
        cards.append(
            html.A(
                href=f"/wall/{screen.id}",
                className="cc-card",
                children=[
                    html.Div(
                        minis,
                        className=f"cc-mini theme-{screen.theme}",
                        style={
                            "aspectRatio": f"{screen.width} / {screen.height}",
                            "gridTemplateColumns": f"repeat({screen.grid.columns}, 1fr)",
                            "gridTemplateRows": f"repeat({screen.grid.rows}, 1fr)",
                        },
                    ),
                    html.Div(title_text(screen.title, lang), className="cc-card-title"),
                    html.Div(
                        t(
                            "index.card_meta",
                            lang,
                            id=screen.id,
                            size=f"{screen.width}×{screen.height}",
                            grid=f"{screen.grid.columns}×{screen.grid.rows}",
                            pages=len(screen.all_pages()),
                            panels=sum(len(p.panels) for p in screen.all_pages()),
                        ),
                        className="cc-card-meta",
                    ),
                    html.Div(title_text(screen.description, lang), className="cc-card-desc"),
                ],
            )
        )
    return html.Div(
        className="cc-index theme-light",
        children=[
            html.H1(t("index.title", lang)),
            html.Div(warning, className="cc-index-warning") if warning else None,
            html.Div(cards, className="cc-cards"),
            html.P(t("index.hint", lang), className="cc-index-hint"),
        ],
    )


def not_found_page(screen_id: str, screens: ScreensFile, lang: str, reason: str = "") -> html.Div:
    return html.Div(
        className="cc-index theme-light cc-not-found",
        children=[
            html.H1(t("notfound.title", lang)),
            html.P(reason or t("notfound.text", lang, id=screen_id)),
            html.Ul(
                [
                    html.Li(html.A(f"{title_text(s.title, lang)} ({s.id})", href=f"/wall/{s.id}"))
                    for s in screens.screens
                ]
            ),
            html.A(t("notfound.back", lang), href="/"),
        ],
    )
