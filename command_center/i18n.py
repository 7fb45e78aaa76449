"""One catalogue for every UI string: Chinese by default, English by ``CC_LANG=en`` or a
screen's ``lang``. Layouts never carry string literals meant for people; they call ``t``.

Errors that reach a screen carry a catalogue key (``localized``), so the drawer shows them
in the screen's language; their ``str()`` stays one bilingual line for logs and the audit."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

CATALOGUE_FILE = Path(__file__).with_name("locale") / "messages.yaml"
LANGS = ("zh", "en")
_CJK = re.compile(r"[\u3400-\u9fff]")


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    with CATALOGUE_FILE.open(encoding="utf-8") as fh:
        data: dict[str, dict[str, str]] = yaml.safe_load(fh)
    return data


class Term(str):
    """A parameter that is itself a catalogue key (an action, a status), with parameters of
    its own: ``t`` puts in its text in the same language, e.g.
    ``t("workflow.role_may_not", "en", action=Term("action.close"))``."""

    params: dict[str, Any]

    def __new__(cls, key: str, **params: Any) -> Term:
        term = super().__new__(cls, key)
        term.params = params
        return term


def t(key: str, lang: str = "zh", **params: Any) -> str:
    """The text for ``key`` in ``lang``; a missing key shows as itself so it is noticed."""
    entry = catalogue().get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry.get("zh") or key
    if not params:
        return text
    return text.format(
        **{k: t(v, lang, **v.params) if isinstance(v, Term) else v for k, v in params.items()}
    )


def has(key: str) -> bool:
    return key in catalogue()


def text_of(value: Any, lang: str = "zh") -> str:
    """A title from screens.yaml: a plain string, or ``{zh: …, en: …}`` (zh if no en)."""
    if isinstance(value, Mapping):
        return str(value.get(lang) or value.get("zh") or next(iter(value.values()), ""))
    return "" if value is None else str(value)


def localized(exc: Exception, key: str, **params: Any) -> Exception:
    """``exc`` carrying the catalogue text ``key`` (any exception class; returns ``exc``)."""
    exc.cc_key = key  # type: ignore[attr-defined]
    exc.cc_params = params  # type: ignore[attr-defined]
    return exc


def localized_as(exc: Exception, cause: BaseException) -> Exception:
    """``exc`` with the catalogue text of ``cause``, when it has one (a wrapped error)."""
    key = getattr(cause, "cc_key", "")
    return localized(exc, key, **getattr(cause, "cc_params", {})) if key else exc


def error_text(exc: BaseException | str, lang: str = "zh") -> str:
    """What a person is shown for ``exc`` in ``lang``: its catalogue text when it has one;
    else, for a bilingual "中文 / english" message from a backend, the half in ``lang``."""
    key = getattr(exc, "cc_key", "")
    if key and has(key):
        return t(key, lang, **getattr(exc, "cc_params", {}))
    return one_language(str(exc), lang)


def one_language(text: str, lang: str = "zh") -> str:
    """The ``lang`` half of a "中文 / english" message; other text is returned as it is."""
    zh, sep, en = text.partition(" / ")
    if not sep or not _CJK.search(zh) or _CJK.search(en):
        return text
    return zh if lang == "zh" else en
