"""The case drawer's callbacks: open a case from anywhere, act on it, put it on a wall.

A case opens when ``cc-drawer-case`` gets ``{"case_id": …}``: assets/cc_duty.js sets it when
anything carrying ``data-case-id`` is clicked (queue rows, case lists, tickers …), and the
map's ``cc-focus-case`` store (set by the city map, when that panel is on the page) is
forwarded here. The user comes from the Flask session of the request: a kiosk without one
sees the card only.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import dash_leaflet as dl
from dash import ALL, Input, Output, Patch, State, ctx, no_update
from dash.exceptions import PreventUpdate
from flask import session
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import BadRequest

from command_center.auth import may, session_user
from command_center.collaboration import PHOTO_ACTIONS
from command_center.domain.ids import MAX_ID, record_id
from command_center.domain.roles import PUT_ON_WALL
from command_center.geo import level_of
from command_center.i18n import error_text, t
from command_center.photos import PhotoRefused, decode_data_url
from layouts.case_drawer import (
    SHELL_TEXTS,
    action_buttons,
    alarm_buttons,
    alarm_card,
    department_options,
    drawer_body,
    drawer_shell,
    drawer_summary,
    focus_card,
    master_options,
    photo_preview,
    region_focus_card,
    shell_texts,
    sla_clock_span,
)

log = logging.getLogger(__name__)

#: The wall a console's "put on the wall" shows a case on.
FOCUS_SCREEN = "main"

#: What the drawer shows of a case: opened or re-read (``render_drawer``) and right after an
#: action in the same answer (``act``), so the two can never disagree.
DRAWER_OUTPUTS: tuple[tuple[str, str], ...] = (
    ("cc-drawer", "className"),
    ("cc-drawer-summary", "children"),
    ("cc-drawer-body", "children"),
    ("cc-act-buttons", "children"),
    ("cc-act-dept", "options"),
    ("cc-act-dept", "value"),
    ("cc-act-dept-wrap", "style"),
    ("cc-act-hours-wrap", "style"),
    ("cc-act-limit", "children"),
    ("cc-drawer-status", "data"),
    ("cc-drawer-digest", "data"),
    ("cc-drawer-grid", "data"),
    ("cc-drawer-marker", "children"),
    ("cc-drawer-map", "viewport"),
    ("cc-drawer-user", "children"),
    ("cc-act-form", "className"),
    ("cc-act-photo-wrap", "style"),
    ("cc-act-master", "options"),
    ("cc-act-master", "value"),
    ("cc-act-master-wrap", "style"),
)


def drawer_update(changes: dict[tuple[str, str], Any]) -> tuple[Any, ...]:
    """The drawer's outputs (``DRAWER_OUTPUTS``) with ``changes`` and ``no_update`` for the
    rest: a partial answer names what it sets, never counts positions."""
    return tuple(changes.get(output, no_update) for output in DRAWER_OUTPUTS)


def drawer_unavailable(msg: str) -> tuple[Any, ...]:
    """The drawer open with ``msg`` in place of a case or an alarm that cannot be read."""
    return drawer_update(
        {
            ("cc-drawer", "className"): "cc-drawer open",
            ("cc-drawer-summary", "children"): msg,
            ("cc-drawer-digest", "data"): None,
            ("cc-drawer-grid", "data"): None,
        }
    )


def screen_of(pathname: str | None) -> str:
    path = (pathname or "/").rstrip("/")
    return path[len("/wall/") :] if path.startswith("/wall/") else path or "/"


def lang_of(cc: Any, search: str | None) -> str:
    from urllib.parse import parse_qs

    q = parse_qs((search or "").lstrip("?"))
    return (q.get("lang") or [cc.settings.lang])[-1]


def current_user(cc: Any, *, renew: bool = False) -> Any:
    collab = cc.collab
    minutes = cc.settings.session_minutes if renew else None
    return session_user(session, collab.clock(), minutes=minutes, store=collab.users)


def id_in(data: Any, key: str) -> int:
    """The record id ``data[key]`` a browser sent; 400 (never a 500) when it is not one."""
    value = record_id(data.get(key) if isinstance(data, dict) else None)
    if value is None:
        raise BadRequest(f"{key} must be a record id: an integer from 1 to {MAX_ID}")
    return value


def linked_extras(cc: Any, case: Any) -> dict[str, Any]:
    """Alarms linked to the case (when the alarm store exists) and cameras within 300 m."""
    out: dict[str, Any] = {}
    try:
        out["alarms"] = cc.collab.linked_alarms(case.id)
    except Exception:  # noqa: BLE001 - extras never break the drawer
        log.debug("alarms unavailable for the drawer", exc_info=True)
    try:
        from command_center.domain.coords import distance_m  # type: ignore[attr-defined]
    except ImportError:
        distance_m = _distance_m
    try:
        cams = cc.services.points("camera", case.street_code).value
        near = []
        for cam in cams:
            d = distance_m(case.lon, case.lat, cam.lon, cam.lat)
            if d <= 300:
                near.append({"name": getattr(cam, "name", cam.id), "distance": d})
        out["cameras"] = sorted(near, key=lambda c: c["distance"])[:5]
    except Exception:  # noqa: BLE001
        log.debug("cameras unavailable for the drawer", exc_info=True)
    return out


def _distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    from math import asin, cos, radians, sin, sqrt

    p1, p2 = radians(lat1), radians(lat2)
    dp, dl_ = p2 - p1, radians(lon2 - lon1)
    a = sin(dp / 2) ** 2 + cos(p1) * cos(p2) * sin(dl_ / 2) ** 2
    return 2 * 6_371_000 * asin(sqrt(a))


def form_class(user: Any) -> str:
    """A kiosk (no session) gets no note field and no "put on the wall": nothing to act; a
    role without the wall (the field, a department) gets no "put on the wall"."""
    if user is None:
        return "cc-act-form cc-kiosk"
    return "cc-act-form" if may(user, PUT_ON_WALL) else "cc-act-form cc-no-wall"


def install(app: Any, cc: Any) -> None:
    """Add the drawer shell to the page layout and register its callbacks."""
    settings = cc.settings
    app.layout.children.append(
        drawer_shell(settings.lang, settings.tile_url, settings.tile_attribution)
    )
    register(app, cc)


def register(app: Any, cc: Any) -> None:
    collab = cc.collab

    @app.callback(
        [Output(cid, prop) for cid, prop, _key in SHELL_TEXTS],
        Input("cc-url", "search"),
    )
    def shell_in_the_page_language(search: str | None) -> list[str]:
        """The shell is built once for every page; its words follow the page's language."""
        return shell_texts(lang_of(cc, search))

    def load(case_id: int, user: Any, lang: str) -> tuple[Any, str]:
        """The case as the service has it now, and the digest of what the drawer shows."""
        data = collab.drawer(case_id, user)
        case = data.detail.case
        data.department_name = collab.department_name(case.department_code)  # type: ignore[attr-defined]
        data.class_title = collab.class_title(case.kind, case.class_code, lang)  # type: ignore[attr-defined]
        data.limit_text = collab.limit_text(data.case_class, case.urgent, lang)
        state = (
            case.id,
            case.status.value,
            len(data.detail.history),
            [p.id for p in data.detail.photos],
            [(s.id, s.status, s.attempts) for s in data.sms],
            [c.id for c in data.masters],
            case.sla_state,
            data.user.name if data.user else None,
        )
        return data, hashlib.sha1(json.dumps(state, default=str).encode()).hexdigest()

    def unavailable(exc: Exception, lang: str) -> tuple[Any, ...]:
        return drawer_unavailable(t("drawer.unavailable", lang, error=error_text(exc, lang)))

    def show_case(
        data: Any,
        digest: str,
        lang: str,
        dept_value: str | None,
        master_value: str | None,
        *,
        keep_view: bool,
    ) -> tuple[Any, ...]:
        """The drawer's outputs (``DRAWER_OUTPUTS``) for ``data``; ``keep_view``: the small
        map stays where the officer left it."""
        case = data.detail.case
        user = data.user
        extras = linked_extras(cc, case)
        options = department_options(data, lang)
        show = {"display": "block"}
        hide = {"display": "none"}
        needs_dept = any(a.value == "dispatch" for a in data.actions)
        needs_hours = any(a.value == "extend" for a in data.actions)
        needs_photo = any(a in PHOTO_ACTIONS for a in data.actions)
        needs_master = any(a.value == "merge" for a in data.actions)
        masters = master_options(data, lang)
        grid = None
        try:
            region = cc.services.region(case.grid_code).value
            grid = {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "geometry": region.geometry, "properties": {}}],
            }
        except Exception:  # noqa: BLE001 - a case without a known grid still shows its point
            grid = None
        marker = [
            dl.CircleMarker(
                center=[case.lat, case.lon],
                radius=9,
                color="#d64545",
                fillColor="#ff5b5b",
                fillOpacity=0.9,
            )
        ]
        viewport: dict[str, Any] = {"center": [case.lat, case.lon], "zoom": 17}
        if grid is not None:
            from shapely.geometry import Point, shape

            west, south, east, north = (
                shape(grid["features"][0]["geometry"]).union(Point(case.lon, case.lat)).bounds
            )
            viewport = {
                "bounds": [[south, west], [north, east]],
                "transition": "fitBounds",
                "options": {"padding": [24, 24], "maxZoom": 18},
            }
        who = (
            t("drawer.signed_in_as", lang, user=user.label, role=t(f"auth.role.{user.role}", lang))
            if user
            else t("drawer.read_only", lang)
        )
        return (
            "cc-drawer open",
            drawer_summary(data, lang),
            drawer_body(data, lang, extras),
            action_buttons(data, lang),
            options,
            # keep the officer's pick while it is still offered; else the first suggestion
            dept_value
            if dept_value in {o["value"] for o in options}
            else (options[0]["value"] if options else None),
            show if needs_dept else hide,
            show if needs_hours else hide,
            t("drawer.limit_hint", lang, limit=data.limit_text) if data.limit_text else "",
            case.status.value,
            digest,
            grid,
            marker,
            viewport if not keep_view else no_update,
            who,
            form_class(user),
            show if needs_photo else hide,
            masters,
            master_value
            if master_value in {o["value"] for o in masters}
            else (masters[0]["value"] if masters else None),
            show if needs_master else hide,
        )

    @app.callback(
        *[Output(i, p) for i, p in DRAWER_OUTPUTS],
        Input("cc-drawer-case", "data"),
        Input("cc-drawer-tick", "n_intervals"),
        State("cc-drawer-digest", "data"),
        State("cc-url", "search"),
        State("cc-act-dept", "value"),
        State("cc-act-master", "value"),
    )
    def render_drawer(
        opened: dict[str, Any] | None,
        _n: Any,
        digest: str | None,
        search: str | None,
        dept_value: str | None,
        master_value: str | None,
    ) -> tuple[Any, ...]:
        """Open a case (or an alarm), and re-read it every few seconds: what another console
        did shows here. An action's own result comes with the action (``act``)."""
        lang = lang_of(cc, search)
        if opened is not None and not isinstance(opened, dict):
            raise BadRequest("cc-drawer-case must be an object")
        if opened and opened.get("alarm_id") and not opened.get("case_id"):
            return render_alarm(id_in(opened, "alarm_id"), digest, lang)
        if not opened or not opened.get("case_id"):
            if digest is None:
                raise PreventUpdate
            closed = {("cc-drawer", "className"): "cc-drawer", ("cc-drawer-digest", "data"): None}
            return drawer_update(closed)
        try:
            data, new_digest = load(id_in(opened, "case_id"), current_user(cc), lang)
        except BadRequest:
            raise
        except Exception as exc:  # noqa: BLE001 - a vanished case or a backend outage
            return unavailable(exc, lang)
        from_tick = ctx.triggered_id == "cc-drawer-tick"  # a refresh keeps the officer's view
        if new_digest == digest and from_tick:
            raise PreventUpdate  # nothing changed: no re-render, no flicker
        return show_case(data, new_digest, lang, dept_value, master_value, keep_view=from_tick)

    def render_alarm(alarm_id: int, digest: str | None, lang: str) -> tuple[Any, ...]:
        """The drawer for an alarm: its card and the button that makes it a case."""
        user = current_user(cc)
        try:
            alarm = collab.alarm(alarm_id)
        except Exception as exc:  # noqa: BLE001
            alarm, error = None, error_text(exc, lang)
        if alarm is None:
            return drawer_unavailable(
                t("drawer.unavailable", lang, error=locals().get("error", ""))
            )
        state = ("alarm", alarm.id, alarm.status, alarm.case_id, user.name if user else None)
        new_digest = hashlib.sha1(json.dumps(state, default=str).encode()).hexdigest()
        if new_digest == digest and ctx.triggered_id == "cc-drawer-tick":
            raise PreventUpdate
        hide = {"display": "none"}
        marker: Any = no_update
        viewport: Any = no_update
        if alarm.lat is not None and alarm.lon is not None:
            marker = [
                dl.CircleMarker(
                    center=[alarm.lat, alarm.lon], radius=9, color="#d64545", fillOpacity=0.9
                )
            ]
            viewport = {"center": [alarm.lat, alarm.lon], "zoom": 17}
        who = (
            t("drawer.signed_in_as", lang, user=user.label, role=t(f"auth.role.{user.role}", lang))
            if user
            else t("drawer.read_only", lang)
        )
        return (
            "cc-drawer open",
            alarm_card(alarm, collab.class_title("event", alarm.class_code, lang), lang),
            "",
            alarm_buttons(alarm, user, lang),
            [],
            None,
            hide,
            hide,
            "",
            None,
            new_digest,
            None,
            marker,
            viewport,
            who,
            form_class(user),
            hide,
            [],
            None,
            hide,
        )

    @app.callback(
        Output("cc-drawer-case", "data", allow_duplicate=True),
        Input("cc-drawer-close", "n_clicks"),
        prevent_initial_call=True,
    )
    def close_drawer(n: int) -> Any:
        if not n:
            raise PreventUpdate
        return None

    @app.callback(
        Output("cc-drawer-msg", "children"),
        Output("cc-drawer-refresh", "data"),
        Output("cc-act-note", "value"),
        Output("cc-drawer-case", "data", allow_duplicate=True),
        Output("cc-act-photo", "contents", allow_duplicate=True),
        *[Output(i, p, allow_duplicate=True) for i, p in DRAWER_OUTPUTS],
        Input({"role": "cc-act", "action": ALL}, "n_clicks"),
        State("cc-drawer-case", "data"),
        State("cc-drawer-status", "data"),
        State("cc-act-note", "value"),
        State("cc-act-dept", "value"),
        State("cc-act-hours", "value"),
        State("cc-act-photo", "contents"),
        State("cc-url", "pathname"),
        State("cc-url", "search"),
        State("cc-drawer-refresh", "data"),
        State("cc-act-master", "value"),
        prevent_initial_call=True,
    )
    def act(
        clicks: list[int | None],
        opened: dict[str, Any] | None,
        status: str | None,
        note: str | None,
        dept: str | None,
        hours: float | None,
        photo: str | None,
        pathname: str | None,
        search: str | None,
        refresh: int | None,
        master: str | None = None,
    ) -> tuple[Any, ...]:
        """One action, and in the same answer the case re-read from the service: its new
        status, history and the actions now allowed (never a message beside a stale card).
        ``cc-drawer-refresh`` tells the console's queue to refresh at once."""
        trig = ctx.triggered_id
        if not isinstance(trig, dict) or not any(c for c in clicks if c) or not opened:
            raise PreventUpdate
        if not isinstance(opened, dict):
            raise BadRequest("cc-drawer-case must be an object")
        if not ctx.triggered or not ctx.triggered[0].get("value"):
            raise PreventUpdate  # buttons re-rendered, not clicked
        lang = lang_of(cc, search)
        action = trig["action"]
        user = current_user(cc, renew=True)
        acted = (refresh or 0) + 1
        keep = drawer_update({})
        from dash import html

        def refused(why: str) -> Any:
            return html.Div(
                [html.B(t("drawer.refused", lang)), " ", why],
                className="cc-msg cc-msg-error",
                role="alert",
            )

        def now_shown(case_id: int, *, keep_view: bool) -> tuple[Any, ...]:
            try:
                data, digest = load(case_id, user, lang)
            except Exception as exc:  # noqa: BLE001 - a vanished case or a backend outage
                return unavailable(exc, lang)
            return show_case(data, digest, lang, dept, master, keep_view=keep_view)

        if action == "case_from_alarm":
            made = collab.case_from_alarm(
                user,
                record_id(opened.get("alarm_id")) or 0,
                screen=screen_of(pathname),
                note=note or "",
            )
            if not made.ok or made.case is None:
                return (refused(made.text(lang)), acted, no_update, no_update, no_update, *keep)
            msg = html.Div(
                t("drawer.case_created", lang, number=made.case.number),
                className="cc-msg cc-msg-ok",
                role="status",
            )
            # the drawer holds the case from now on (opening it re-reads it once more: the
            # last word over an alarm card a tick may have read meanwhile)
            done = {"case_id": made.case.id, "from": "alarm"}
            view = now_shown(made.case.id, keep_view=False)
            return (msg, acted, "", done, no_update, *view)
        with_photo = photo if photo and action in {a.value for a in PHOTO_ACTIONS} else None
        try:
            photo_bytes = decode_data_url(with_photo) if with_photo else None
        except PhotoRefused as exc:
            return (refused(error_text(exc, lang)), no_update, no_update, no_update, None, *keep)
        case_id = id_in(opened, "case_id")
        outcome = collab.perform(
            user,
            case_id,
            action,
            (note or "").strip(),
            screen=screen_of(pathname),
            department_code=dept if action == "dispatch" else None,
            extend_hours=float(hours) if action == "extend" and hours else None,
            expected_status=status,
            photo=photo_bytes,
            master_case_id=record_id(master) if action == "merge" else None,
        )
        # done or refused, the drawer shows the case as it is now (a refusal may be another
        # officer having moved it on meanwhile)
        view = now_shown(case_id, keep_view=True)
        if outcome.ok:
            text = t("drawer.done", lang, action=t(f"action.{action}", lang))
            if outcome.sms_ids and outcome.case is not None:
                holder = collab.holder_name(outcome.case, lang)
                text += " " + t("drawer.notified", lang, holder=holder, n=len(outcome.sms_ids))
            if outcome.message:  # done, with a remark (a photo the backend did not keep)
                text += " " + outcome.text(lang)
            msg = html.Div(text, className="cc-msg cc-msg-ok", role="status")
            photo_out = None if photo_bytes else no_update
            return (msg, acted, "", no_update, photo_out, *view)
        return (refused(outcome.text(lang)), acted, no_update, no_update, no_update, *view)

    @app.callback(
        Output("cc-drawer-msg", "children", allow_duplicate=True),
        Input("cc-drawer-onwall", "n_clicks"),
        State("cc-drawer-case", "data"),
        State("cc-url", "pathname"),
        State("cc-url", "search"),
        prevent_initial_call=True,
    )
    def put_on_wall(
        n: int, opened: dict[str, Any] | None, pathname: str | None, search: str | None
    ) -> Any:
        if not n or not opened:
            raise PreventUpdate
        from dash import html

        lang = lang_of(cc, search)
        outcome = collab.put_on_wall(
            current_user(cc, renew=True),
            case_id=id_in(opened, "case_id"),
            from_screen=screen_of(pathname),
        )
        if outcome.ok:
            return html.Div(t("drawer.on_wall_done", lang), className="cc-msg cc-msg-ok")
        return html.Div(outcome.text(lang), className="cc-msg cc-msg-error", role="alert")

    @app.callback(
        Output("cc-drawer-case", "data", allow_duplicate=True),
        Input("cc-focus-case", "data"),
        prevent_initial_call=True,
    )
    def from_map(focus: dict[str, Any] | None) -> Any:
        """The city map's clicked case (its ``cc-focus-case`` store) opens the drawer."""
        if not focus or not focus.get("case_id"):
            raise PreventUpdate
        return {"case_id": id_in(focus, "case_id"), "from": "map"}

    @app.callback(
        Output("cc-focus-card", "children"),
        Output("cc-focus-card", "className"),
        Output("cc-focus-seen", "data"),
        Output("cc-region", "data", allow_duplicate=True),
        Input("cc-focus-poll", "n_intervals"),
        State("cc-focus-seen", "data"),
        State("cc-region", "data"),
        State("cc-url", "pathname"),
        State("cc-url", "search"),
        prevent_initial_call="initial_duplicate",
    )
    def wall_focus(
        _n: int, seen: Any, region: Any, pathname: str | None, search: str | None
    ) -> Any:
        """On a wall: show what a console put on it. A case: its card, and its maps fly
        there (assets/cc_duty.js reads ``data-lat``/``data-lon``). A region: the page's
        region (``cc-region``) becomes it, so the map flies there and highlights it and
        every panel follows; a card names it. When the time is up, the wall goes back
        to the region it showed before and its tour resumes (the tour waits while
        ``cc-focus-seen`` is set)."""
        path = (pathname or "").rstrip("/")
        if not path.startswith("/wall/"):
            raise PreventUpdate
        from dash import html

        seen = seen if isinstance(seen, dict) else None
        focus = collab.wall_focus(screen_of(pathname))
        restore = (seen.get("prev") or {}) if seen and seen.get("region") else no_update
        if focus is None:
            if seen is None:
                raise PreventUpdate
            home = html.Div(
                className="cc-focus-home",
                **{"data-bounds": json.dumps(cc.city_bounds())},
            )
            return home, "cc-focus-card", None, restore
        if seen and seen.get("seq") == focus.seq:
            raise PreventUpdate
        lang = lang_of(cc, search)
        # the region to go back to: what the wall showed before the first focus
        prev = seen.get("prev") if seen and seen.get("region") else (region or {})
        if focus.region_code:
            code = focus.region_code
            try:
                name = cc.services.region(code).value.name
                summary = collab.region_summary(code)
            except Exception:  # noqa: BLE001 - a vanished region or a backend outage
                raise PreventUpdate from None
            card = html.Div(
                region_focus_card(name, level_of(code), summary, focus.by, lang),
                className="cc-focus-target-region",
                **{"data-region": code, "data-seq": str(focus.seq)},
            )
            marker = {"seq": focus.seq, "region": True, "code": code, "prev": prev}
            return card, "cc-focus-card show region", marker, {"code": code, "name": name}
        if focus.case_id is None:
            raise PreventUpdate
        try:
            case = cc.services.case_detail(focus.case_id).case
        except Exception:  # noqa: BLE001
            raise PreventUpdate from None
        card = html.Div(
            focus_card(case, sla_clock_span(collab.sla_clock(case), lang), lang),
            **{"data-lat": str(case.lat), "data-lon": str(case.lon), "data-seq": str(focus.seq)},
            className="cc-focus-target",
        )
        return card, "cc-focus-card show", {"seq": focus.seq, "region": False}, restore

    @app.callback(
        Output(map_id("regions", ALL), "hideout", allow_duplicate=True),
        Input(map_id("scope", ALL), "data"),
        State("cc-focus-seen", "data"),
        prevent_initial_call=True,
    )
    def highlight_focused_region(scopes: list[Any], seen: Any) -> Any:
        """Once a wall's map has followed a region put on it, light that region up (the
        style the tour uses for the street it visits)."""
        code = seen.get("code") if isinstance(seen, dict) and seen.get("region") else None
        if not code:
            raise PreventUpdate
        out = []
        for scope in scopes:
            if (scope or {}).get("code") != code:
                out.append(no_update)
                continue
            patch = Patch()
            patch["touring"] = code
            out.append(patch)
        return out

    # --- the officer's photo for 处置反馈 / 核查 / 返工 ----------------------------------
    @app.callback(
        Output("cc-act-photo-preview", "children"),
        Input("cc-act-photo", "contents"),
        State("cc-act-photo", "filename"),
        State("cc-url", "search"),
    )
    def preview_photo(contents: str | None, filename: str | None, search: str | None) -> Any:
        return photo_preview(contents, filename, lang_of(cc, search))

    @app.callback(
        Output("cc-act-photo", "contents", allow_duplicate=True),
        Input("cc-act-photo-clear", "n_clicks"),
        Input("cc-drawer-case", "data"),
        prevent_initial_call=True,
    )
    def clear_photo(clear: int | None, _opened: Any) -> Any:
        """The × removes it; opening another case drops it (it belongs to the case it was
        picked for)."""
        if ctx.triggered_id == "cc-act-photo-clear" and not clear:
            raise PreventUpdate
        return None

    # --- a region on the wall -------------------------------------------------------------
    @app.callback(
        Output("cc-region-push", "className"),
        Output("cc-region-push-pick", "options"),
        Output("cc-region-push-pick", "value"),
        Output("cc-signout-token", "value"),
        Input("cc-url", "pathname"),
        Input("cc-region", "data"),
        State("cc-url", "search"),
    )
    def region_push_bar(pathname: str | None, region: Any, search: str | None) -> Any:
        """Shown on a signed-in console (never on the wall it pushes to); the picker
        follows the region the officer drilled to on the console's map."""
        path = (pathname or "").rstrip("/")
        if not path.startswith("/wall/") or screen_of(pathname) == FOCUS_SCREEN:
            return "cc-region-push", no_update, no_update, no_update
        if current_user(cc) is None:
            return "cc-region-push", no_update, no_update, no_update
        code = (region or {}).get("code") or None
        options = region_options(cc, code)
        return "cc-region-push show", options, code, generate_csrf()

    @app.callback(
        Output("cc-region-push-msg", "children"),
        Input("cc-region-push-go", "n_clicks"),
        State("cc-region-push-pick", "value"),
        State("cc-url", "pathname"),
        State("cc-url", "search"),
        prevent_initial_call=True,
    )
    def push_region(n: int, code: str | None, pathname: str | None, search: str | None) -> Any:
        if not n:
            raise PreventUpdate
        lang = lang_of(cc, search)
        if not code:
            return t("region_push.placeholder", lang)
        outcome = collab.put_on_wall(
            current_user(cc, renew=True),
            screen=FOCUS_SCREEN,
            region_code=code,
            from_screen=screen_of(pathname),
        )
        if outcome.ok:
            return t("region_push.done", lang, name=outcome.message)
        from dash import html

        return html.Span(outcome.text(lang), className="cc-region-push-error", role="alert")

    # No polling where it has nothing to do: the drawer refreshes only while a case is open,
    # and only the walls a console can push to poll for a focus.
    app.clientside_callback(
        "function(opened){ return !(opened && (opened.case_id || opened.alarm_id)); }",
        Output("cc-drawer-tick", "disabled"),
        Input("cc-drawer-case", "data"),
    )
    app.clientside_callback(
        "function(path){ return !(path || '').startsWith('/wall/" + FOCUS_SCREEN + "'); }",
        Output("cc-focus-poll", "disabled"),
        Input("cc-url", "pathname"),
    )
    _ = (render_drawer, close_drawer, act, put_on_wall, from_map, wall_focus, preview_photo)
    _ = (clear_photo, region_push_bar, push_region, highlight_focused_region)


def map_id(role: str, pid: Any) -> dict[str, Any]:
    """An id of the city map's components (callbacks/city_map.py names them so)."""
    from callbacks.city_map import KIND

    return {"role": role, "kind": KIND, "pid": pid}


def region_options(cc: Any, current: str | None) -> list[dict[str, str]]:
    """Streets and communities by name (``街道 · 社区``), and the current region when it is
    a unit grid: what an officer puts on the wall."""
    streets = cc.services.regions("street").value
    names = {s.code: s.name for s in streets}
    options = [{"label": s.name, "value": s.code} for s in streets]
    for community in cc.services.regions("community").value:
        street = names.get(community.code[:9], "")
        options.append({"label": f"{street} · {community.name}", "value": community.code})
    if current and current not in {o["value"] for o in options}:
        try:
            region = cc.services.region(current).value
            options.insert(0, {"label": f"{region.name} ({current})", "value": current})
        except Exception:  # noqa: BLE001 - an unknown code is simply not offered
            pass
    return options
