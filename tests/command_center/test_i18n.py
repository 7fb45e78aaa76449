"""The one catalogue covers every string the UI asks for, in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from adapters.case.contract import CaseSource, CaseStatus
from command_center.i18n import catalogue, t
from command_center.panels import default_registry
from layouts.city import KpiOptions
from layouts.collaboration import STAGES

ROOT = Path(__file__).resolve().parents[2]
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z_.]+)["']""")


def used_keys() -> set[str]:
    keys: set[str] = set()
    for folder in ("layouts", "callbacks", "command_center"):
        for path in (ROOT / folder).rglob("*.py"):
            keys.update(LITERAL_KEY.findall(path.read_text(encoding="utf-8")))
    keys.update(f"source.{s}" for s in CaseSource)
    keys.update(f"status.{s}" for s in CaseStatus)
    keys.update(f"stage.{s}" for s, _ in STAGES)
    keys.update(
        f"kpi.{m}" for m in KpiOptions.model_fields["metrics"].annotation.__args__[0].__args__
    )
    keys.update(kind.title_key for kind in default_registry().kinds())
    keys.update(f"kind.{name}" for name in default_registry().names())
    return keys


@pytest.mark.parametrize("key", sorted(used_keys()))
def test_every_used_key_has_chinese_and_english(key: str) -> None:
    entry = catalogue().get(key)
    assert entry is not None, f"{key} missing from the catalogue"
    assert entry.get("zh") and entry.get("en"), f"{key} lacks a language"


def test_placeholders_are_filled_and_chinese_is_the_default() -> None:
    assert t("panel.stale_since", time="10:15:00") == "数据停留于 10:15:00"
    assert t("panel.stale_since", "en", time="10:15:00") == "stale since 10:15:00"


def test_missing_key_shows_itself_so_it_is_noticed() -> None:
    assert t("no.such.key") == "no.such.key"
