"""One settings object for the whole app, read from ``CC_*`` environment variables.

Every variable is documented in the README with its default. Nothing else reads
``os.environ``: code that needs a setting takes a ``Settings``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CC_", extra="ignore")

    # Where things are
    data_dir: Path = Field(ROOT / "var", description="Folder for the SQLite file, logs, exports")
    database_url: str = Field(
        "", description="SQLAlchemy URL; empty means sqlite:///<data_dir>/command_center.sqlite"
    )
    redis_url: str = Field("", description="Redis URL; empty runs everything in one process")
    screens_file: Path = Field(ROOT / "screens.yaml", description="The walls to serve")

    # Serving
    host: str = "127.0.0.1"
    port: int = 8050
    lang: Literal["zh", "en"] = "zh"
    secret_key: str = Field(
        "",
        description="Flask secret (CSRF tokens); no default: serve/gunicorn refuse to start "
        "without one of 32+ characters, `demo` generates one into data_dir",
    )
    secure_cookies: bool = Field(
        False, description="The site is served over HTTPS: cookies get the Secure flag"
    )
    screens_poll_seconds: float = Field(2.0, description="How often screens.yaml is re-read")
    max_request_bytes: int = Field(
        2 * 1024 * 1024,
        gt=0,
        description="Largest request body (413 past it); a signed-in console's photo upload "
        "may carry one photo's base64 on top",
    )

    # Adapters: which implementation per kind (entry point name) and its options (JSON)
    case_adapter: str = "sql"
    gis_adapter: str = "sql"
    video_adapter: str = "demo"
    sms_adapter: str = "log"
    case_options: dict[str, Any] = Field(default_factory=dict)
    gis_options: dict[str, Any] = Field(default_factory=dict)
    video_options: dict[str, Any] = Field(default_factory=dict)
    sms_options: dict[str, Any] = Field(default_factory=dict)

    # The domain's city-set values (DOMAIN.md: configuration, not constants)
    district_code: str = Field("110101", description="GB/T 2260 code of the demo district")
    city_timezone: str = Field(
        "Asia/Shanghai",
        description="IANA zone of the city's wall time: every time is stored and shown in it, "
        "whatever the server's or a kiosk's zone",
    )
    # an int with bounds, not Literal[2, 3]: a Literal of ints refuses the environment's "2"
    grid_seq_width: int = Field(2, ge=2, le=3, description="Digits of a unit grid's sequence")
    workday_start: str = "08:30"
    workday_end: str = "17:30"
    calendar_file: Path | None = Field(
        None, description="YAML of holidays and make-up working days; empty: built-in default"
    )
    case_classes_file: Path | None = Field(
        None, description="YAML overriding class names and time limits; empty: built-in default"
    )
    due_soon_fraction: float = Field(
        0.2, description="A case is 临期 when less than this share of its time limit is left"
    )
    workflow_verify_stage: bool = Field(
        False,
        description="核实 as a stage of its own: an accepted report waits (待核实) for a "
        "supervisor to confirm it on site before 立案",
    )

    # Demo
    seed_size: Literal["tiny", "demo", "large"] = "demo"
    seed: int = 20261125
    simulate: bool = Field(True, description="Run the live simulator in `command-center demo`")
    simulate_rate: float = Field(6.0, description="New cases per minute from the simulator")

    # Base map: a local tile server or 天地图 WMTS; empty means no tiles (plain background)
    tile_url: str = ""
    tile_attribution: str = ""
    tile_datum: Literal["wgs84", "gcj02"] = "wgs84"

    # Data services
    cache_seconds: float = Field(5.0, description="How long a data service reuses a result")

    # Statistics, appraisal and the daily briefing (command_center.appraisal / .briefing)
    appraisal_file: Path | None = Field(
        None, description="YAML of appraisal weights, targets, rank key; empty: defaults"
    )
    rank_min_cases: int = Field(
        10, ge=1, description="Units with fewer dispatched cases in the period are not ranked"
    )
    month_start_rates: Literal["label", "last_month"] = Field(
        "label",
        description="本月 rates early in a month: labelled with their denominator, or the "
        "last full month's instead",
    )
    month_start_days: int = Field(
        3, ge=1, description="Days of a month that count as its start for month_start_rates"
    )
    briefing_time: str = Field(
        "", description="HH:MM to write the day's briefing every day; empty: no schedule"
    )
    briefing_dir: Path | None = Field(
        None, description="Folder for scheduled briefings; empty: <data_dir>/briefings"
    )
    briefing_paper: Literal["A4", "A3"] = "A4"
    chromium_path: str = Field(
        "/usr/bin/chromium", description="Headless Chromium that prints briefings to PDF/PNG"
    )

    # Alarms (告警) and the real-time layer: command_center/alarms.py, realtime.py
    api_keys: dict[str, str] = Field(
        default_factory=dict,
        description='Deprecated: per-source keys of the alarm API, JSON {"source": "key"}, '
        "hashed at start; use `command-center apikeys add SOURCE`",
    )
    api_rate_limit: str = Field(
        "600/minute",
        description="Calls per key to /api/alarms* (limits notation, e.g. 600/minute); "
        "past it 429 with Retry-After; counted in Redis when CC_REDIS_URL is set",
    )
    alarm_fold_seconds: float = Field(
        60.0, description="Same source, class and place within this window: one alarm, counted"
    )
    alarm_escalate_level: str = Field(
        "critical", description="Open alarms at or above this level escalate by SMS"
    )
    alarm_escalate_minutes: float = Field(
        5.0, description="Minutes an alarm may stay unacknowledged before it escalates"
    )
    alarm_leader_mobile: str = Field("", description="The on-duty leader's mobile for escalations")
    alarm_sound_levels: list[str] = Field(
        default_factory=lambda: ["critical", "emergency"],
        description="Levels whose arrival plays a sound on walls (mute a wall per panel)",
    )
    alarm_open_limit: int = Field(200, description="Most open alarms sent to a screen on connect")
    alarm_citywide_level: str = Field(
        "emergency",
        description="Alarms at or above this level reach every screen, also those scoped to "
        "a street or community",
    )
    alarm_watch_seconds: float = Field(
        5.0, description="How often escalation and backend health are checked"
    )
    redis_channel: str = Field(
        "command-center", description="Prefix of the Redis pub/sub channels of one deployment"
    )

    # Security headers and the Origin check (command_center/security_headers.py)
    https: bool = Field(
        False,
        description="The site is reached over HTTPS (directly or through a proxy): browsers "
        "get Strict-Transport-Security on HTTPS requests",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Origins besides the request's own host whose POSTs are accepted, e.g. "
        'a proxy\'s public address, JSON ["https://cc.example.gov.cn"]',
    )
    frame_ancestors: list[str] = Field(
        default_factory=list,
        description="Origins that may show the app in a frame (a hall's portal); empty: none",
    )

    # Collaboration (业务协同): sessions of the duty consoles, SMS notices of case actions
    session_minutes: float = Field(
        480.0, description="A console's sign-in lasts this long without any action"
    )
    login_max_failures: int = Field(
        5, description="Failed sign-ins per user name and per client address before a lock"
    )
    login_lock_minutes: float = Field(
        15.0, description="Window of the failed sign-ins, and how long the lock lasts"
    )
    sms_action_templates: dict[str, str] = Field(
        default_factory=lambda: {
            "dispatch": "case_dispatched",
            "urge": "case_urge",
            "escalate": "case_escalate",
            "urge_desk": "case_urge_desk",
            "escalate_desk": "case_escalate_desk",
        },
        description="Which SMS template notifies whoever holds the case of each case action: "
        "the department, or (``*_desk``) the command centre's desk before dispatch and after "
        "the report-back",
    )
    sms_retry_seconds: float = Field(30.0, description="First retry delay of a queued SMS")
    sms_max_attempts: int = Field(6, description="Attempts before a queued SMS is given up")

    # The tamper-evident audit log (command_center/audit.py)
    audit_key: str = Field(
        "",
        description="HMAC key of the audit log's hash chain (kept out of the database); "
        "empty: <data_dir>/audit.key, generated with mode 0600 on first use",
    )
    audit_verify_seconds: float = Field(
        60.0, description="How often the ops watch verifies the audit chain (incrementally)"
    )

    @field_validator("city_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (an IANA name: Asia/Shanghai)") from exc
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'command_center.sqlite'}"

    def adapter_choice(self, kind: str) -> tuple[str, dict[str, Any]]:
        """The entry-point name and options configured for one adapter kind."""
        return getattr(self, f"{kind}_adapter"), dict(getattr(self, f"{kind}_options"))
