"""One catalogue for every UI string: Chinese by default, English by ``CC_LANG=en`` or a
screen's ``lang``. Layouts never carry string literals meant for people; they call ``t``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

CATALOGUE_FILE = Path(__file__).with_name("locale") / "messages.yaml"
LANGS = ("zh", "en")


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    with CATALOGUE_FILE.open(encoding="utf-8") as fh:
        data: dict[str, dict[str, str]] = yaml.safe_load(fh)
    return data


def t(key: str, lang: str = "zh", **params: Any) -> str:
    """The text for ``key`` in ``lang``; a missing key shows as itself so it is noticed."""
    entry = catalogue().get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry.get("zh") or key
    return text.format(**params) if params else text


def has(key: str) -> bool:
    return key in catalogue()
