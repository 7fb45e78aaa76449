"""Every setting documented in the README builds ``Settings()`` from its environment string.

The list of variables is read from the README's settings tables, so a newly documented
setting without an example here fails ``test_every_documented_setting_has_an_example``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from command_center.settings import ROOT, Settings

README = ROOT / "README.md"

#: CC_* variable -> (an environment string of its documented form, the parsed value).
EXAMPLES: dict[str, tuple[str, Any]] = {
    "CC_DATA_DIR": ("var/city", Path("var/city")),
    "CC_DATABASE_URL": ("postgresql+psycopg://cc@db/cc", "postgresql+psycopg://cc@db/cc"),
    "CC_REDIS_URL": ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    "CC_SCREENS_FILE": ("screens.yaml", Path("screens.yaml")),
    "CC_SCREENS_POLL_SECONDS": ("2", 2.0),
    "CC_HOST": ("0.0.0.0", "0.0.0.0"),
    "CC_PORT": ("8050", 8050),
    "CC_LANG": ("en", "en"),
    "CC_SECRET_KEY": ("s3cret", "s3cret"),
    "CC_CASE_ADAPTER": ("sql", "sql"),
    "CC_GIS_ADAPTER": ("sql", "sql"),
    "CC_VIDEO_ADAPTER": ("demo", "demo"),
    "CC_SMS_ADAPTER": ("http", "http"),
    "CC_CASE_OPTIONS": ('{"stage_limits": {"accept": 0.5}}', {"stage_limits": {"accept": 0.5}}),
    "CC_GIS_OPTIONS": ("{}", {}),
    "CC_VIDEO_OPTIONS": ('{"url": "http://vms"}', {"url": "http://vms"}),
    "CC_SMS_OPTIONS": ('{"url": "http://sms-gw/send"}', {"url": "http://sms-gw/send"}),
    "CC_DISTRICT_CODE": ("110101", "110101"),
    "CC_GRID_SEQ_WIDTH": ("3", 3),
    "CC_CITY_TIMEZONE": ("Asia/Urumqi", "Asia/Urumqi"),
    "CC_WORKDAY_START": ("08:30", "08:30"),
    "CC_WORKDAY_END": ("17:30", "17:30"),
    "CC_CALENDAR_FILE": ("calendar.yaml", Path("calendar.yaml")),
    "CC_CASE_CLASSES_FILE": ("classes.yaml", Path("classes.yaml")),
    "CC_DUE_SOON_FRACTION": ("0.2", 0.2),
    "CC_WORKFLOW_VERIFY_STAGE": ("true", True),
    "CC_SEED_SIZE": ("tiny", "tiny"),
    "CC_SEED": ("20261125", 20261125),
    "CC_SIMULATE": ("false", False),
    "CC_SIMULATE_RATE": ("6", 6.0),
    "CC_TILE_URL": ("http://tiles/{z}/{x}/{y}.png", "http://tiles/{z}/{x}/{y}.png"),
    "CC_TILE_ATTRIBUTION": ("天地图", "天地图"),
    "CC_TILE_DATUM": ("gcj02", "gcj02"),
    "CC_CACHE_SECONDS": ("5", 5.0),
    "CC_API_KEYS": ('{"iot": "key-of-iot"}', {"iot": "key-of-iot"}),
    "CC_ALARM_FOLD_SECONDS": ("60", 60.0),
    "CC_ALARM_ESCALATE_LEVEL": ("critical", "critical"),
    "CC_ALARM_ESCALATE_MINUTES": ("5", 5.0),
    "CC_ALARM_LEADER_MOBILE": ("13800000000", "13800000000"),
    "CC_ALARM_SOUND_LEVELS": ('["critical","emergency"]', ["critical", "emergency"]),
    "CC_ALARM_OPEN_LIMIT": ("200", 200),
    "CC_ALARM_CITYWIDE_LEVEL": ("emergency", "emergency"),
    "CC_ALARM_WATCH_SECONDS": ("5", 5.0),
    "CC_REDIS_CHANNEL": ("command-center", "command-center"),
    "CC_APPRAISAL_FILE": ("appraisal.yaml", Path("appraisal.yaml")),
    "CC_RANK_MIN_CASES": ("5", 5),
    "CC_MONTH_START_RATES": ("last_month", "last_month"),
    "CC_MONTH_START_DAYS": ("3", 3),
    "CC_BRIEFING_TIME": ("07:30", "07:30"),
    "CC_BRIEFING_DIR": ("var/briefings", Path("var/briefings")),
    "CC_BRIEFING_PAPER": ("A3", "A3"),
    "CC_CHROMIUM_PATH": ("/usr/bin/chromium", "/usr/bin/chromium"),
    "CC_SESSION_MINUTES": ("480", 480.0),
    "CC_SMS_ACTION_TEMPLATES": ('{"dispatch": "case_dispatched"}', {"dispatch": "case_dispatched"}),
    "CC_SMS_RETRY_SECONDS": ("30", 30.0),
    "CC_SMS_MAX_ATTEMPTS": ("6", 6),
    "CC_SECURE_COOKIES": ("true", True),
    "CC_MAX_REQUEST_BYTES": ("4194304", 4194304),
    "CC_API_RATE_LIMIT": ("1200/minute", "1200/minute"),
    "CC_HTTPS": ("true", True),
    "CC_ALLOWED_ORIGINS": ('["https://cc.example.gov.cn"]', ["https://cc.example.gov.cn"]),
    "CC_FRAME_ANCESTORS": ('["https://portal.example.gov.cn"]', ["https://portal.example.gov.cn"]),
    "CC_LOGIN_MAX_FAILURES": ("5", 5),
    "CC_LOGIN_LOCK_MINUTES": ("15", 15.0),
    "CC_AUDIT_KEY": ("a-long-random-audit-key", "a-long-random-audit-key"),
    "CC_AUDIT_VERIFY_SECONDS": ("60", 60.0),
}


def documented_settings() -> set[str]:
    """The CC_* variables named in the first column of the README's settings tables."""
    names: set[str] = set()
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("| `CC_"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"CC_[A-Z0-9_]+", first_cell))
    return names


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("CC_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_every_documented_setting_has_an_example() -> None:
    documented = documented_settings()
    assert len(documented) > 40  # the tables were found
    assert documented - set(EXAMPLES) == set()


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_a_documented_setting_builds_settings_from_its_environment_string(
    name: str, clean_env: pytest.MonkeyPatch
) -> None:
    text, expected = EXAMPLES[name]
    clean_env.setenv(name, text)
    settings = Settings()
    assert getattr(settings, name.removeprefix("CC_").lower()) == expected


@pytest.mark.parametrize("width", ["2", "3"])
def test_grid_seq_width_is_read_from_the_environment(
    width: str, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("CC_GRID_SEQ_WIDTH", width)
    assert Settings().grid_seq_width == int(width)


def test_a_grid_seq_width_other_than_2_or_3_is_refused(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("CC_GRID_SEQ_WIDTH", "4")
    with pytest.raises(ValueError, match="grid_seq_width"):
        Settings()


def test_an_unknown_city_timezone_is_refused(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("CC_CITY_TIMEZONE", "Asia/Beijing")  # no such IANA zone: Asia/Shanghai
    with pytest.raises(ValueError, match="unknown time zone 'Asia/Beijing'"):
        Settings()
