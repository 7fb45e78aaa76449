"""The leader's daily briefing (城市运行日报) as a printable PDF or PNG.

What it holds: the day's KPIs, month-to-date indicators, the 30-day trend, the source mix,
street and department rankings against targets, the street map, and the notable cases
(overdue, urgent). Charts are rendered by kaleido (plotly's Chromium renderer) to SVG, so
they stay sharp on paper; the page is HTML printed to PDF by the same headless Chromium.

Why HTML + Chromium rather than a PDF library: Chromium shapes and embeds the Noto CJK
fonts (subset) with no font registration, the SVG charts go in as vectors, and the PDF
and PNG come from one page. reportlab's ``TTFont`` rejects PostScript (CFF) outlines, which is
what the system's ``NotoSansCJK-Regular.ttc`` has, so it would need a separately shipped TTF;
Chromium is already a runtime requirement of kaleido, so no new dependency is added.
"""

from __future__ import annotations

import base64
import logging
import subprocess
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from adapters.case.contract import Case, CaseAdapter, CaseFilter, SlaState
from command_center import appraisal, statistics
from command_center.appraisal import AppraisalConfig, Period, period_of
from command_center.domain.calendar import local_now

log = logging.getLogger(__name__)

Paper = Literal["A4", "A3"]
Format = Literal["pdf", "png"]
#: landscape page sizes in CSS pixels (96 per inch)
PAPER_PX = {"A4": (1123, 794), "A3": (1587, 1123)}
_render_lock = threading.Lock()  # one kaleido/chromium render at a time per process


@dataclass
class BriefingData:
    day: date
    generated_at: datetime
    today: dict[str, int]
    month: Period
    month_counts: dict[str, int]
    month_rates: dict[str, float | None]
    supervisor: dict[str, Any]
    trend: Any  # DataFrame
    sources: Any  # DataFrame
    streets: list[appraisal.AppraisedUnit]
    departments: list[appraisal.AppraisedUnit]
    regions: list[Any]
    region_values: dict[str, int]
    overdue: list[Case]
    urgent: list[Case]
    config: AppraisalConfig
    names: dict[str, dict[str, str]] = field(default_factory=dict)


def collect(
    case: CaseAdapter,
    gis: Any,
    day: date,
    *,
    config: AppraisalConfig | None = None,
    now: datetime | None = None,
) -> BriefingData:
    """Every number of the day's briefing, from the case and GIS adapters."""
    config = config or AppraisalConfig()
    now = now or local_now()
    the_day = period_of("day", day)
    flt = CaseFilter(since=the_day.since, until=the_day.until, limit=None)
    rows = case.case_stats([], flt)
    t = rows[0] if rows else None
    live = case.case_stats([], CaseFilter(open_only=True, limit=None))
    today = {
        "reported": t.reported if t else 0,
        "registered": t.registered if t else 0,
        "dispatched": t.dispatched if t else 0,
        "closed": t.closed if t else 0,
        "open": live[0].open if live else 0,
        "overdue": live[0].overdue_open if live else 0,
    }
    # month to date, the day included
    month = Period(day.replace(day=1), day + timedelta(days=1), "month")
    counts, rates = appraisal.totals(case, month)
    supervisor = appraisal.supervisor_indicators(case, month)
    last30 = appraisal.last_days(30, day)
    departments = {d.code: d.name for d in case.departments()}
    streets = {r.code: r.name for r in gis.regions("street")}
    region_frame = statistics.by_region(case, month, "street")
    overdue = case.list_cases(
        CaseFilter(sla_states=[SlaState.OVERDUE], open_only=True, limit=8, newest_first=False)
    )
    urgent = [
        c
        for c in case.list_cases(CaseFilter(since=the_day.since, until=the_day.until, limit=200))
        if c.urgent
    ][:6]
    return BriefingData(
        day=day,
        generated_at=now,
        today=today,
        month=month,
        month_counts=counts,
        month_rates=rates,
        supervisor=supervisor,
        trend=statistics.trend(case, last30, "day"),
        sources=statistics.by_source(case, month),
        streets=appraisal.appraise(case, "street", month, config=config, names=streets),
        departments=appraisal.appraise(case, "department", month, config=config, names=departments),
        regions=list(gis.regions("street")),
        region_values={
            str(c): int(v)
            for c, v in zip(region_frame["code"], region_frame["reported"], strict=True)
        },
        overdue=sorted(overdue, key=lambda c: c.deadline or datetime.max),
        urgent=urgent,
        config=config,
        names={"street": streets, "department": departments},
    )


def render_charts(data: BriefingData, paper: Paper, lang: str = "zh") -> dict[str, str]:
    """The briefing's charts as SVG data URIs, rendered by kaleido (one Chromium for all)."""
    import kaleido
    import plotly.io as pio

    from layouts import briefing as layout

    figures = layout.briefing_figures(data, paper, lang)
    out: dict[str, str] = {}
    with _render_lock:
        kaleido.start_sync_server(silence_warnings=True)
        try:
            for name, (fig, width, height) in figures.items():
                with warnings.catch_warnings():  # plotly warns that a server ignores kopts
                    warnings.simplefilter("ignore", UserWarning)
                    svg = pio.to_image(fig, format="svg", width=width, height=height)
                out[name] = "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
        finally:
            kaleido.stop_sync_server(silence_warnings=True)
    return out


def print_html(
    html_text: str, target: Path, fmt: Format, paper: Paper, chromium: str = "/usr/bin/chromium"
) -> Path:
    """Print an HTML page to PDF (vector, fonts embedded) or PNG with headless Chromium."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cc-briefing-") as tmp:
        page = Path(tmp) / "briefing.html"
        page.write_text(html_text, encoding="utf-8")
        args = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--user-data-dir={tmp}/profile",
            "--virtual-time-budget=3000",
        ]
        if fmt == "pdf":
            args += ["--no-pdf-header-footer", f"--print-to-pdf={target}"]
        else:
            width, height = PAPER_PX[paper]
            pages = html_text.count('class="page"')
            args += [
                f"--screenshot={target}",
                f"--window-size={width},{height * max(pages, 1)}",
                "--force-device-scale-factor=2",
                "--hide-scrollbars",
            ]
        args.append(page.as_uri())
        proc = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=tmp)
        if not target.exists() or target.stat().st_size == 0:
            raise RuntimeError(f"chromium did not print the briefing: {proc.stderr[-500:]}")
    return target


def generate(
    case: CaseAdapter,
    gis: Any,
    day: date,
    *,
    fmt: Format = "pdf",
    paper: Paper = "A4",
    out_dir: Path,
    config: AppraisalConfig | None = None,
    chromium: str = "/usr/bin/chromium",
    lang: str = "zh",
    now: datetime | None = None,
) -> Path:
    """Write the day's briefing to ``out_dir/briefing-YYYY-MM-DD-A4.pdf`` (or .png)."""
    from layouts import briefing as layout

    started = time.perf_counter()
    data = collect(case, gis, day, config=config, now=now)
    charts = render_charts(data, paper, lang)
    html_text = layout.briefing_html(data, charts, paper, lang)
    target = Path(out_dir) / f"briefing-{day.isoformat()}-{paper}.{fmt}"
    print_html(html_text, target, fmt, paper, chromium)
    log.info(
        "briefing %s written in %.1f s (%d bytes)",
        target,
        time.perf_counter() - started,
        target.stat().st_size,
    )
    return target


def generate_with_settings(settings: Any, day: date, fmt: Format, paper: Paper, out: Path) -> Path:
    """The CLI's entry: adapters from the settings, generate, close."""
    from command_center.plugins import load_adapters

    adapters = load_adapters(settings)
    try:
        return generate(
            adapters.case,
            adapters.gis,
            day,
            fmt=fmt,
            paper=paper,
            out_dir=out,
            config=AppraisalConfig.load(settings.appraisal_file, settings.rank_min_cases),
            chromium=settings.chromium_path,
            lang=settings.lang,
        )
    finally:
        adapters.close()


class BriefingSchedule:
    """Writes the day's briefing every day at ``settings.briefing_time`` (HH:MM, local) into
    ``settings.briefing_dir``, on a daemon thread; ``stop()`` ends it."""

    def __init__(self, settings: Any, adapters: Any, clock: Any = None) -> None:
        self.settings = settings
        self.adapters = adapters
        self.clock = clock or local_now
        hh, mm = (int(x) for x in settings.briefing_time.split(":"))
        self.at = (hh, mm)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_written: Path | None = None

    @property
    def folder(self) -> Path:
        return Path(self.settings.briefing_dir or Path(self.settings.data_dir) / "briefings")

    def next_run(self, now: datetime) -> datetime:
        run = now.replace(hour=self.at[0], minute=self.at[1], second=0, microsecond=0)
        return run if run > now else run + timedelta(days=1)

    def run_once(self, day: date) -> Path:
        path = generate(
            self.adapters.case,
            self.adapters.gis,
            day,
            fmt="pdf",
            paper=self.settings.briefing_paper,
            out_dir=self.folder,
            config=AppraisalConfig.load(self.settings.appraisal_file, self.settings.rank_min_cases),
            chromium=self.settings.chromium_path,
            lang=self.settings.lang,
        )
        self.last_written = path
        return path

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = self.clock()
            wait = (self.next_run(now) - now).total_seconds()
            if self._stop.wait(min(wait, 60.0)):
                return
            if self.clock() >= self.next_run(now) - timedelta(seconds=1) and wait <= 60.0:
                try:
                    self.run_once(self.clock().date())
                except Exception:  # noqa: BLE001 - a failed briefing must not end the schedule
                    log.exception("scheduled briefing failed")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="briefing-schedule", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def add_cli(sub: Any) -> None:
    """``command-center briefing --date D --format pdf|png [--paper A4|A3] [--out DIR]``."""
    parser = sub.add_parser("briefing", help="write the day's briefing (PDF or PNG)")
    parser.add_argument("--date", help="YYYY-MM-DD (default: today)")
    parser.add_argument("--format", choices=["pdf", "png"], default="pdf")
    parser.add_argument("--paper", choices=["A4", "A3"])
    parser.add_argument("--out", help="folder (default: CC_BRIEFING_DIR or <data_dir>/briefings)")
    parser.set_defaults(func=_cmd_briefing)


def _cmd_briefing(args: Any, settings: Any) -> int:
    day = date.fromisoformat(args.date) if args.date else local_now().date()
    out = Path(args.out or settings.briefing_dir or Path(settings.data_dir) / "briefings")
    started = time.perf_counter()
    path = generate_with_settings(
        settings, day, args.format, args.paper or settings.briefing_paper, out
    )
    print(f"{path} ({path.stat().st_size:,} bytes, {time.perf_counter() - started:.1f} s)")
    return 0
