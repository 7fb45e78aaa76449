"""The case queue and department board of the duty console: refreshed on their timers and
whenever a filter changes; the logic is ``Collaboration.queue`` / ``department_board``."""

from __future__ import annotations

import logging
from typing import Any

from dash import MATCH, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from callbacks.panels import locate_panel
from command_center.i18n import t
from command_center.services import Result
from layouts.case_queue import render_queue, tab_labels
from layouts.common import message, stale_mark

log = logging.getLogger(__name__)


def _filter_options(cc: Any, lang: str) -> tuple[list, list, list, list]:
    collab = cc.collab
    classes = [
        {"label": f"{c.name} {c.code}", "value": c.code}
        for c in sorted(collab.catalogue, key=lambda c: (c.kind, c.code))
    ]
    classes = list({o["value"]: o for o in classes}.values())
    sources = [
        {"label": t(f"source.{s}", lang), "value": s}
        for s in ("supervisor", "grid_worker", "public", "hotline", "video", "iot", "leader")
    ]
    try:
        streets = [{"label": r.name, "value": r.code} for r in cc.services.regions("street").value]
    except Exception:  # noqa: BLE001 - a queue without the street filter still works
        streets = []
    deps = [
        {"label": d.name, "value": d.code}
        for d in collab.departments()
        if getattr(d, "kind", "department") == "department"
    ]
    return classes, sources, streets, deps


def register_queue(app: Any, cc: Any) -> None:
    kind = "case_queue"

    def pid_id(role: str) -> dict[str, Any]:
        return {"role": role, "kind": kind, "pid": MATCH}

    @app.callback(
        Output(pid_id("body"), "children"),
        Output(pid_id("step"), "options"),
        Output(pid_id("stale"), "children"),
        Output(pid_id("class"), "options"),
        Output(pid_id("source"), "options"),
        Output(pid_id("street"), "options"),
        Output(pid_id("dept"), "options"),
        Input(pid_id("tick"), "n_intervals"),
        Input(pid_id("step"), "value"),
        Input(pid_id("class"), "value"),
        Input(pid_id("source"), "value"),
        Input(pid_id("street"), "value"),
        Input(pid_id("dept"), "value"),
        Input(pid_id("level"), "value"),
        Input(pid_id("sort"), "value"),
        Input("cc-drawer-refresh", "data"),  # an action in this console's drawer: at once
        State(pid_id("dept"), "options"),
        State("cc-wall-meta", "data"),
        State("cc-region", "data"),
    )
    def refresh_queue(
        _n: Any,
        step: str | None,
        classes: list[str] | None,
        sources: list[str] | None,
        street: str | None,
        dept: str | None,
        level: str | None,
        sort: str | None,
        _acted: Any,
        dept_options: list | None,
        meta: dict[str, Any] | None,
        region: dict[str, Any] | None,
    ) -> tuple[Any, ...]:
        pid = ctx.outputs_list[0]["id"]["pid"]
        lang = (meta or {}).get("lang", cc.settings.lang)
        panel = locate_panel(cc, pid, lang, (region or {}).get("code"))
        if panel is None or getattr(cc, "collab", None) is None:
            raise PreventUpdate
        opts = panel.options
        step = step or opts.step
        collab = cc.collab
        try:
            queue = collab.queue(
                region_code=street or panel.region_code,
                department_code=dept,
                class_codes=classes,
                sources=sources,
                level=level,
                sort=sort or "deadline",
                clock_rows=opts.rows,
            )
        except Exception as exc:  # noqa: BLE001 - keep the last rows, say the source is down
            log.warning("case queue %s failed: %s", pid, exc)
            return (
                no_update
                if ctx.triggered_id and "tick" in str(ctx.triggered_id)
                else message(t("panel.no_data", lang), "error"),
                no_update,
                t("panel.source_down", lang),
                *(no_update,) * 4,
            )
        counts = {s: len(items) for s, items in queue.items()}
        overdue = {
            s: sum(1 for i in items if str(i.case.sla_state) == "overdue")
            for s, items in queue.items()
        }
        items = queue.get(step, [])
        body = render_queue(items[: opts.rows], len(items), panel, collab.clock(), opts.new_minutes)
        stale: Result[Any] | None = None
        _ = stale
        filters: tuple[Any, ...] = (no_update,) * 4
        if not dept_options:
            filters = _filter_options(cc, lang)
        return (body, tab_labels(counts, overdue, lang), stale_mark(False, None, lang), *filters)

    _ = refresh_queue


def register_departments(app: Any, cc: Any) -> None:
    from layouts.departments import render_departments

    kind = "department_board"

    @app.callback(
        Output({"role": "body", "kind": kind, "pid": MATCH}, "children"),
        Output({"role": "stale", "kind": kind, "pid": MATCH}, "children"),
        Input({"role": "tick", "kind": kind, "pid": MATCH}, "n_intervals"),
        State("cc-wall-meta", "data"),
        State("cc-region", "data"),
    )
    def refresh_departments(
        _n: Any, meta: dict[str, Any] | None, region: dict[str, Any] | None
    ) -> tuple[Any, Any]:
        pid = ctx.outputs_list[0]["id"]["pid"]
        lang = (meta or {}).get("lang", cc.settings.lang)
        panel = locate_panel(cc, pid, lang, (region or {}).get("code"))
        if panel is None or getattr(cc, "collab", None) is None:
            raise PreventUpdate
        try:
            board = cc.collab.department_board(panel.region_code)
        except Exception:  # noqa: BLE001
            log.exception("department board %s failed", pid)
            return no_update, t("panel.source_down", lang)
        return render_departments(board, panel), ""

    _ = refresh_departments


def panel_kinds() -> list[Any]:
    """The duty console's panel kinds: the case queue and the department board."""
    from command_center.screens.registry import PanelKind
    from layouts.case_queue import QueueOptions, build_queue
    from layouts.departments import DepartmentBoardOptions, build_departments

    return [
        PanelKind(
            "case_queue",
            QueueOptions,
            build=build_queue,
            register_callbacks=register_queue,
            title_key="kind.case_queue",
            module="collaboration",
        ),
        PanelKind(
            "department_board",
            DepartmentBoardOptions,
            build=build_departments,
            register_callbacks=register_departments,
            title_key="kind.department_board",
            module="collaboration",
        ),
    ]
