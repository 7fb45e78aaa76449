"""The case drawer (案件详情抽屉): a case's card and the actions allowed from its state.

The shell (``drawer_shell``) is added once to every page: a panel sliding in from the right,
a small map, a static action form (note, department, extension hours) whose parts show when
an action needs them, and the "on the wall" overlay a wall uses for a focused case. The body
(``drawer_body``) and the buttons (``action_buttons``) are pure functions of ``DrawerData``.
A page without a signed-in user (a kiosk) gets the card and no buttons.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash_leaflet as dl
from dash import dcc, html

from adapters.case.contract import Case, CaseAction, CasePhoto, SlaState
from command_center.domain.calendar import epoch_seconds
from command_center.domain.codes import mask_name, mask_phone
from command_center.i18n import Term, has, t
from command_center.photos import ACCEPTED_UPLOAD_TYPES, MAX_UPLOAD_BYTES, photo_url
from layouts.common import month_day_time

#: Actions shown in the drawer, in workflow order, with their button style.
PRIMARY = {
    CaseAction.ACCEPT,
    CaseAction.CONFIRM,
    CaseAction.REGISTER,
    CaseAction.DISPATCH,
    CaseAction.REPORT_BACK,
    CaseAction.VERIFY,
    CaseAction.CLOSE,
}
DANGER = {CaseAction.REJECT, CaseAction.RETURN, CaseAction.REWORK}

SLA_CLASS = {
    SlaState.OVERDUE: "overdue",
    SlaState.DUE_SOON: "due-soon",
    SlaState.ON_TIME: "on-time",
}


def drawer_shell(lang: str, tile_url: str = "", attribution: str = "") -> html.Div:
    """Stores, the drawer frame and the wall-focus overlay (ids are page-global: one each).
    The small map has the configured base map, or none (the grid and the point suffice)."""
    tiles = [dl.TileLayer(url=tile_url, attribution=attribution, maxZoom=19)] if tile_url else []
    return html.Div(
        id="cc-duty-shell",
        children=[
            dcc.Store(id="cc-drawer-case", data=None),
            dcc.Store(id="cc-drawer-refresh", data=0),
            dcc.Store(id="cc-drawer-status", data=None),
            dcc.Store(id="cc-drawer-digest", data=None),
            dcc.Interval(id="cc-drawer-tick", interval=5000, n_intervals=0),
            dcc.Interval(id="cc-focus-poll", interval=1500, n_intervals=0),
            dcc.Store(id="cc-focus-seen", data=None),
            html.Div(id="cc-focus-card", className="cc-focus-card"),
            region_push_bar(lang),
            html.Div(
                id="cc-lightbox",
                className="cc-lightbox",
                title=t("drawer.close", lang),
                children=[
                    html.Img(id="cc-lightbox-img", alt=""),
                    html.Div(id="cc-lightbox-caption", className="cc-lightbox-caption"),
                ],
            ),
            html.Aside(
                id="cc-drawer",
                className="cc-drawer",
                **{"aria-label": t("drawer.title", lang)},
                children=[
                    html.Div(
                        className="cc-drawer-head",
                        children=[
                            html.Span(
                                t("drawer.title", lang),
                                id="cc-drawer-title",
                                className="cc-drawer-title",
                            ),
                            html.Span(id="cc-drawer-user", className="cc-drawer-user"),
                            html.Button(
                                "×",
                                id="cc-drawer-close",
                                className="cc-drawer-close",
                                title=t("drawer.close", lang),
                                n_clicks=0,
                            ),
                        ],
                    ),
                    html.Div(
                        className="cc-drawer-scroll",
                        children=[
                            html.Div(id="cc-drawer-summary"),
                            html.Div(
                                className="cc-drawer-map",
                                children=dl.Map(
                                    id="cc-drawer-map",
                                    center=[39.9285, 116.4165],
                                    zoom=16,
                                    zoomControl=False,
                                    attributionControl=False,
                                    children=[
                                        *tiles,
                                        dl.GeoJSON(id="cc-drawer-grid", data=None),
                                        dl.LayerGroup(id="cc-drawer-marker"),
                                    ],
                                    style={"height": "100%", "width": "100%"},
                                ),
                            ),
                            html.Div(id="cc-drawer-msg", className="cc-drawer-msg"),
                            html.Div(
                                id="cc-act-form",
                                className="cc-act-form",
                                children=[
                                    html.Div(
                                        id="cc-act-dept-wrap",
                                        className="cc-act-field",
                                        style={"display": "none"},
                                        children=[
                                            html.Label(
                                                t("drawer.department", lang),
                                                id="cc-act-dept-label",
                                            ),
                                            dcc.Dropdown(
                                                id="cc-act-dept",
                                                options=[],
                                                clearable=False,
                                                className="cc-act-dept",
                                            ),
                                            html.Div(id="cc-act-limit", className="cc-act-limit"),
                                        ],
                                    ),
                                    html.Div(
                                        id="cc-act-hours-wrap",
                                        className="cc-act-field",
                                        style={"display": "none"},
                                        children=[
                                            html.Label(
                                                t("drawer.extend_hours", lang),
                                                id="cc-act-hours-label",
                                            ),
                                            dcc.Input(
                                                id="cc-act-hours",
                                                type="number",
                                                min=1,
                                                max=240,
                                                value=8,
                                                className="cc-act-hours",
                                            ),
                                        ],
                                    ),
                                    html.Div(
                                        id="cc-act-master-wrap",
                                        className="cc-act-field",
                                        style={"display": "none"},
                                        children=[
                                            html.Label(t("drawer.master", lang)),
                                            dcc.Dropdown(
                                                id="cc-act-master",
                                                options=[],
                                                clearable=False,
                                                placeholder=t("drawer.master_none", lang),
                                                className="cc-act-master",
                                            ),
                                        ],
                                    ),
                                    photo_field(lang),
                                    dcc.Textarea(
                                        id="cc-act-note",
                                        placeholder=t("drawer.note", lang),
                                        className="cc-act-note",
                                        value="",
                                    ),
                                    html.Div(id="cc-act-buttons", className="cc-act-buttons"),
                                    html.Button(
                                        t("drawer.on_wall", lang),
                                        id="cc-drawer-onwall",
                                        className="cc-btn cc-btn-ghost",
                                        n_clicks=0,
                                    ),
                                ],
                            ),
                            html.Div(id="cc-drawer-body"),
                        ],
                    ),
                ],
            ),
        ],
    )


def photo_field(lang: str) -> html.Div:
    """The officer's photo for 处置反馈 / 核查 / 返工 (shown when one of them is allowed)."""
    return html.Div(
        id="cc-act-photo-wrap",
        className="cc-act-field",
        style={"display": "none"},
        children=[
            dcc.Upload(
                id="cc-act-photo",
                accept=ACCEPTED_UPLOAD_TYPES,
                max_size=MAX_UPLOAD_BYTES,
                multiple=False,
                className="cc-act-photo",
                children=html.Div(t("drawer.photo_attach", lang), id="cc-act-photo-hint"),
            ),
            html.Div(
                className="cc-act-photo-row",
                children=[
                    html.Div(id="cc-act-photo-preview", className="cc-act-photo-preview"),
                    html.Button(  # always there (callbacks need it), shown with a preview
                        "×",
                        id="cc-act-photo-clear",
                        className="cc-act-photo-clear",
                        title=t("drawer.photo_remove", lang),
                        n_clicks=0,
                    ),
                ],
            ),
        ],
    )


def photo_preview(contents: str | None, filename: str | None, lang: str) -> list[Any]:
    if not contents:
        return []
    return [
        html.Img(src=contents, alt=""),
        html.Span(t("drawer.photo_ready", lang, name=filename or ""), className="cc-muted"),
    ]


def photo_strip(photos: list[CasePhoto], lang: str) -> html.Div | None:
    """Thumbnails in time order; a click enlarges (assets/cc_duty.js, no server call)."""
    if not photos:
        return None
    figures = []
    for photo in photos:
        label = f"{t(f'drawer.photo_kind.{photo.kind}', lang)} · {fmt_dt(photo.taken_at)}"
        caption = " · ".join(x for x in (label, photo.by, photo.caption) if x)
        figures.append(
            html.Figure(
                className="cc-photo",
                title=t("drawer.photo_open", lang),
                **{"data-photo-full": photo_url(photo.id), "data-caption": caption},
                children=[
                    html.Img(src=photo_url(photo.id, thumb=True), alt=label),
                    html.Span(t("drawer.photo_illustrative", lang), className="cc-photo-badge")
                    if photo.illustrative
                    else None,
                    html.Figcaption(
                        [
                            html.B(t(f"drawer.photo_kind.{photo.kind}", lang)),
                            " ",
                            fmt_dt(photo.taken_at),
                        ]
                    ),
                ],
            )
        )
    return html.Div(
        className="cc-photos",
        children=[
            html.H4(t("drawer.photo_count", lang, title=Term("drawer.photos"), n=len(photos))),
            html.Div(figures, className="cc-photo-strip"),
        ],
    )


#: the shell's own words, built once for the whole app and put in each page's language by
#: a callback on the page's URL: (component id, property, catalogue key)
SHELL_TEXTS: tuple[tuple[str, str, str], ...] = (
    ("cc-lightbox", "title", "drawer.close"),
    ("cc-drawer-title", "children", "drawer.title"),
    ("cc-drawer-close", "title", "drawer.close"),
    ("cc-act-dept-label", "children", "drawer.department"),
    ("cc-act-hours-label", "children", "drawer.extend_hours"),
    ("cc-act-photo-hint", "children", "drawer.photo_attach"),
    ("cc-act-photo-clear", "title", "drawer.photo_remove"),
    ("cc-act-note", "placeholder", "drawer.note"),
    ("cc-drawer-onwall", "children", "drawer.on_wall"),
    ("cc-region-push-label", "children", "region_push.label"),
    ("cc-region-push-pick", "placeholder", "region_push.placeholder"),
    ("cc-region-push-go", "children", "region_push.button"),
    ("cc-signout-button", "children", "auth.sign_out"),
)


def shell_texts(lang: str) -> list[str]:
    """The shell's words in ``lang``, in the order of ``SHELL_TEXTS``."""
    return [t(key, lang) for _id, _prop, key in SHELL_TEXTS]


def region_push_bar(lang: str) -> html.Div:
    """A console's "region on the wall" control: the region the officer drilled to on the
    map, or any street, community or grid picked by name (shown to signed-in consoles)."""
    return html.Div(
        id="cc-region-push",
        className="cc-region-push",
        children=[
            html.Span(
                t("region_push.label", lang),
                id="cc-region-push-label",
                className="cc-region-push-label",
            ),
            dcc.Dropdown(
                id="cc-region-push-pick",
                options=[],
                placeholder=t("region_push.placeholder", lang),
                className="cc-region-push-pick",
            ),
            html.Button(
                t("region_push.button", lang),
                id="cc-region-push-go",
                className="cc-btn cc-btn-primary",
                n_clicks=0,
            ),
            html.Span(id="cc-region-push-msg", className="cc-region-push-msg"),
            # Sign-out is a POST with the session's CSRF token (filled in by the callback
            # that shows this bar): no link or image elsewhere can sign a console out.
            html.Form(
                [
                    dcc.Input(id="cc-signout-token", type="hidden", name="csrf_token", value=""),
                    html.Button(
                        t("auth.sign_out", lang),
                        id="cc-signout-button",
                        type="submit",
                        className="cc-btn cc-btn-ghost",
                    ),
                ],
                id="cc-signout",
                action="/logout",
                method="POST",
                className="cc-signout",
            ),
        ],
    )


def region_focus_card(
    name: str, level: str, summary: dict[str, int], by: str, lang: str
) -> html.Div:
    """The card a wall shows while a region put on it from a console is in focus."""
    figures = [
        ("focus.open", summary.get("open", 0), ""),
        ("focus.overdue", summary.get("overdue", 0), "overdue" if summary.get("overdue") else ""),
        ("focus.today", summary.get("today", 0), ""),
    ]
    return html.Div(
        className="cc-focus-inner cc-focus-region",
        children=[
            html.Div(t("focus.region_kicker", lang), className="cc-focus-kicker"),
            html.Div(
                [
                    html.Span(t(f"focus.level.{level}", lang), className="cc-status-pill"),
                    html.Span(name, className="cc-focus-region-name"),
                ],
                className="cc-focus-class",
            ),
            html.Div(
                [
                    html.Div(
                        [html.B(f"{value:,}", className=cls), html.Span(t(key, lang))],
                        className="cc-focus-figure",
                    )
                    for key, value, cls in figures
                ],
                className="cc-focus-figures",
            ),
            html.Div(t("focus.by", lang, by=by), className="cc-focus-place") if by else None,
        ],
    )


def fmt_dt(at: datetime | None) -> str:
    return month_day_time(at) if at else "—"


def sla_clock_span(clock: Any, lang: str, *, big: bool = False) -> html.Span:
    """A countdown that assets/cc_duty.js ticks every second (no server round trip)."""
    if clock is None:
        return html.Span("—", className="cc-sla-clock")
    # epoch milliseconds, as the browser's Date.now() counts: from the city's wall time
    as_of = epoch_seconds(clock.as_of) * 1000
    runs = "" if clock.runs_until is None else f"{epoch_seconds(clock.runs_until) * 1000:.0f}"
    state = SLA_CLASS.get(clock.state, "") if clock.state else ""
    return html.Span(
        _fmt_remaining(clock.remaining_s, lang),
        className=f"cc-sla-clock {state}" + (" big" if big else ""),
        **{
            "data-remaining": f"{clock.remaining_s:.0f}",
            "data-asof": f"{as_of:.0f}",
            "data-runs-until": runs,
            "data-overdue-label": t("duty.overdue_by", lang),
            "data-left-label": t("duty.left", lang),
        },
    )


def _fmt_remaining(seconds: float, lang: str) -> str:
    sign = seconds < 0
    s = int(abs(seconds))
    text = f"{s // 3600}:{(s % 3600) // 60:02d}"
    return f"{t('duty.overdue_by', lang)} {text}" if sign else f"{t('duty.left', lang)} {text}"


def _row(label: str, value: Any) -> html.Div:
    return html.Div(
        [html.Span(label, className="cc-kv-k"), html.Span(value, className="cc-kv-v")],
        className="cc-kv",
    )


def drawer_summary(data: Any, lang: str) -> html.Div:
    """The case's card: number, class with code, status, source, place, SLA clock."""
    case: Case = data.detail.case
    cls_code = case.class_code if case.kind == "event" else (case.component_code or case.class_code)
    status_cls = SLA_CLASS.get(case.sla_state, "") if case.sla_state else ""
    dept = data.department_name if hasattr(data, "department_name") else case.department_code
    return html.Div(
        className="cc-drawer-card",
        children=[
            html.Div(
                className="cc-drawer-number",
                children=[
                    html.Span(case.number),
                    html.Span(
                        t(f"status.{case.status}", lang), className=f"cc-status-pill {status_cls}"
                    ),
                    html.Span(t("drawer.urgent", lang), className="cc-urgent-pill")
                    if case.urgent
                    else None,
                ],
            ),
            html.Div(
                getattr(data, "class_title", "") or f"{case.big_class_name} · {case.class_name}",
                className="cc-drawer-class",
            ),
            _row(
                t("drawer.class_code", lang), f"{cls_code} ({t(f'drawer.kind.{case.kind}', lang)})"
            ),
            _row(t("drawer.source", lang), t(f"source.{case.source}", lang)),
            _row(t("drawer.place", lang), case.address or "—"),
            _row(t("drawer.grid", lang), case.grid_code),
            _row(t("drawer.reported_at", lang), fmt_dt(case.reported_at)),
            _row(t("drawer.department", lang), dept or "—"),
            _row(t("drawer.limit", lang), data.limit_text or "—"),
            _row(t("drawer.deadline", lang), fmt_dt(case.deadline)),
            _row(t("drawer.sla", lang), sla_clock_span(data.clock, lang, big=True)),
            merged_into_row(data, lang),
            html.P(case.description, className="cc-drawer-desc"),
            photo_strip(data.detail.photos, lang),
        ],
    )


def merged_into_row(data: Any, lang: str) -> html.Div | None:
    """A merged duplicate names its master; a click opens it (``data-case-id``)."""
    master = getattr(data, "merged_into", None)
    if master is None:
        return None
    link = html.Button(  # a button: inside the drawer only buttons open another case
        f"{master.number} · {t(f'status.{master.status}', lang)}",
        className="cc-btn cc-btn-ghost cc-case-link",
        **{"data-case-id": str(master.id)},
    )
    return _row(t("drawer.merged_into", lang), link)


def master_options(data: Any, lang: str) -> list[dict[str, str]]:
    """The open cases a duplicate may join: number, place and status."""
    return [
        {
            "label": f"{c.number} · {c.address or c.grid_code} · {t(f'status.{c.status}', lang)}",
            "value": str(c.id),
        }
        for c in getattr(data, "masters", [])
    ]


def action_buttons(data: Any, lang: str) -> list[Any]:
    """One button per action this user may take from the case's state; a kiosk (no user)
    sees why it has none."""
    if data.user is None:
        return [
            html.A(t("drawer.sign_in_to_act", lang), href="/login", className="cc-btn cc-btn-ghost")
        ]
    if not data.actions:
        return [html.Span(t("drawer.no_actions", lang), className="cc-muted")]
    out = []
    for action in data.actions:
        style = "primary" if action in PRIMARY else "danger" if action in DANGER else "default"
        out.append(
            html.Button(
                t(f"action.{action.value}", lang),
                id={"role": "cc-act", "action": action.value},
                className=f"cc-btn cc-btn-{style}",
                n_clicks=0,
                **{"data-action": action.value},
            )
        )
    return out


def department_options(data: Any, lang: str) -> list[dict[str, str]]:
    out = []
    for choice in data.departments:
        label = choice.department.name
        if choice.suggested:
            label = f"★ {label} · {t(f'drawer.reason.{choice.reason}', lang)}"
        out.append({"label": label, "value": choice.department.code})
    return out


def drawer_body(data: Any, lang: str, extras: dict[str, Any] | None = None) -> html.Div:
    """History, SMS notices, linked alarms and cameras."""
    extras = extras or {}
    history = [
        html.Li(
            className="cc-step",
            children=[
                html.Span(fmt_dt(step.at), className="cc-step-at"),
                html.Span(t(f"action.{step.action}", lang), className="cc-step-action"),
                html.Span(step.actor, className="cc-step-actor"),
                html.Span(
                    f"{t(f'status.{step.from_status}', lang) if step.from_status else ''} → "
                    f"{t(f'status.{step.to_status}', lang)}",
                    className="cc-step-status",
                ),
                html.Div(step.note, className="cc-step-note") if step.note else None,
            ],
        )
        for step in reversed(data.detail.history)
    ]
    sms_rows = [
        html.Li(
            className=f"cc-sms cc-sms-{s.status}",
            children=[
                html.Span(fmt_dt(s.created_at), className="cc-step-at"),
                html.Span(t(f"action.{s.action}", lang) if s.action else s.template_id),
                html.Span(mask_phone(s.mobile)),
                html.Span(t(f"drawer.sms.{s.status}", lang), className="cc-sms-status"),
                html.Span(
                    t("drawer.sms_attempts", lang, n=s.attempts) if s.attempts > 1 else "",
                    className="cc-muted",
                ),
                html.Div(s.error, className="cc-sms-error") if s.error else None,
            ],
        )
        for s in data.sms
    ]
    alarms = extras.get("alarms") or []
    cameras = extras.get("cameras") or []
    sections: list[Any] = [
        html.H4(t("drawer.history", lang)),
        html.Ul(history, className="cc-history"),
    ]
    if sms_rows:
        sections += [html.H4(t("drawer.sms", lang)), html.Ul(sms_rows, className="cc-sms-list")]
    if alarms:
        sections += [
            html.H4(t("drawer.alarms", lang)),
            html.Ul(
                [
                    html.Li(
                        f"{a.get('at', '')} {a.get('label', '')} · "
                        + t(f"alarm.level.{a.get('level', '')}", lang)
                    )
                    for a in alarms
                ],
                className="cc-linked",
            ),
        ]
    if cameras:
        sections += [
            html.H4(t("drawer.cameras", lang)),
            html.Ul(
                [html.Li(f"{c['name']} · {c['distance']:.0f} m") for c in cameras],
                className="cc-linked",
            ),
        ]
    reporter = extras.get("reporter")
    if reporter:
        sections.append(html.Div(t("drawer.reporter", lang) + " " + mask_name(reporter)))
    return html.Div(sections, className="cc-drawer-history")


def focus_card(case: Case, clock_span: Any, lang: str) -> html.Div:
    """The card a wall shows for a case put on it from a console (no personal data)."""
    return html.Div(
        className="cc-focus-inner",
        children=[
            html.Div(t("drawer.on_wall_title", lang), className="cc-focus-kicker"),
            html.Div(case.number, className="cc-focus-number"),
            html.Div(f"{case.big_class_name} · {case.class_name}", className="cc-focus-class"),
            html.Div(case.address or case.grid_code, className="cc-focus-place"),
            html.Div(
                [
                    html.Span(t(f"status.{case.status}", lang), className="cc-status-pill"),
                    clock_span,
                ],
                className="cc-focus-status",
            ),
        ],
    )


def source_name(source: str, lang: str) -> str:
    """An alarm's source as the catalogue names it (iot, video, ops), else as it came."""
    for key in (f"source.{source}", f"alarm.source.{source}"):
        if has(key):
            return t(key, lang)
    return source


def alarm_card(alarm: Any, class_title: str, lang: str) -> html.Div:
    """An alarm opened in the drawer: what, where, evidence; the button turns it into a case.
    ``class_title`` is its class's name from the catalogue ("" for a class it lacks)."""
    return html.Div(
        className="cc-drawer-card cc-alarm-card",
        children=[
            html.Div(
                [
                    html.Span(f"#{alarm.id}"),
                    html.Span(
                        t("drawer.alarm_level", lang, level=Term(f"alarm.level.{alarm.level}")),
                        className="cc-status-pill overdue",
                    ),
                ],
                className="cc-drawer-number",
            ),
            html.Div(alarm.title, className="cc-drawer-class"),
            _row(
                t("drawer.class", lang),
                t("drawer.class_named", lang, code=alarm.class_code, name=class_title)
                if class_title
                else t("drawer.class_unknown", lang, code=alarm.class_code),
            ),
            _row(
                t("drawer.source", lang), f"{source_name(alarm.source, lang)} · {alarm.source_id}"
            ),
            _row(t("drawer.alarm_at", lang), fmt_dt(alarm.at)),
            _row(t("drawer.grid", lang), alarm.grid_code or "—"),
            _row(t("drawer.camera", lang), alarm.camera_id or "—"),
            _row(t("drawer.alarm_status", lang), t(f"alarm.status.{alarm.status}", lang)),
        ],
    )


def alarm_buttons(alarm: Any, user: Any, lang: str) -> list[Any]:
    if user is None:
        return [
            html.A(t("drawer.sign_in_to_act", lang), href="/login", className="cc-btn cc-btn-ghost")
        ]
    if alarm.case_id:
        return [
            html.Button(
                t("drawer.open_case", lang),
                className="cc-btn cc-btn-primary",
                **{"data-case-id": str(alarm.case_id)},
            )
        ]
    return [
        html.Button(
            t("action.case_from_alarm", lang),
            id={"role": "cc-act", "action": "case_from_alarm"},
            className="cc-btn cc-btn-primary",
            n_clicks=0,
            **{"data-action": "case_from_alarm"},
        )
    ]
