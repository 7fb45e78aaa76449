"""One language at a time: no Chinese text reaches a screen except through the catalogue.

The source of the screens (layouts/, callbacks/, the page scripts in assets/) and of the
parts of command_center/ whose words reach a screen is scanned for string literals holding
Chinese; a literal found outside the allow-list below is a bypass of the catalogue, and a new
one fails this test. Docstrings, comments and field descriptions (documentation) are not
text on a screen and are not scanned."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from command_center.i18n import Term, catalogue, error_text, one_language, t

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff5e]")

#: whole files whose Chinese is data or never reaches a screen, and why
ALLOWED_FILES = {
    "command_center/demo": "the demo city's own data: names, scenes, photo captions",
    "command_center/simulator.py": "what the demo simulator reports (case and alarm data)",
    "command_center/domain/classes.py": "the standard's class catalogue (names, name_en)",
    "command_center/domain/codes.py": "compound surnames, to mask a person's name",
    "command_center/geo.py": "special-care tags as the population data stores them",
    "command_center/auth.py": "command-line errors of `users` (never on a screen)",
    "command_center/api_keys.py": "command-line errors of `apikeys` (never on a screen)",
    "command_center/audit.py": "audit records the app writes (bilingual, like a log line)",
    "command_center/domain/roles.py": (
        "the roles table of docs/roles.md and `users roles` (screens name roles through the"
        " catalogue's auth.role.*)"
    ),
}
#: single literals, and why
ALLOWED_LITERALS = {
    ("command_center/alarms.py", "一般"): "an input spelling of a level",
    ("command_center/alarms.py", "较大"): "an input spelling of a level",
    ("command_center/alarms.py", "重大"): "an input spelling of a level",
    ("command_center/alarms.py", "特别重大"): "an input spelling of a level",
    ("command_center/alarms.py", " or 一般/较大/重大/特别重大"): "API error (JSON, both words)",
    ("command_center/domain/workflow.py", "满意"): "a stored rating word (data)",
    ("command_center/domain/workflow.py", "基本满意"): "a stored rating word (data)",
    ("command_center/domain/workflow.py", "不满意"): "a stored rating word (data)",
    ("command_center/guards.py", "500 内部错误 / internal server error (logged)\n"): (
        "the plain-text body of a 500, with no screen language"
    ),
    ("command_center/photos.py", "照片不存在 / no photo "): "the plain-text body of a 404",
    ("command_center/sms_queue.py", "网关未返回结果 / the gateway answered nothing"): (
        "a stored bilingual SMS error; the drawer shows its half in the screen's language"
    ),
}


def python_sources() -> list[Path]:
    files = [*ROOT.glob("layouts/*.py"), *ROOT.glob("callbacks/*.py")]
    files += ROOT.glob("command_center/**/*.py")
    return sorted(files)


def _allowed_file(rel: str) -> bool:
    return any(rel == f or rel.startswith(f + "/") for f in ALLOWED_FILES)


def _not_shown(tree: ast.AST) -> set[int]:
    """ids of string constants that are documentation: docstrings, bare strings, and the
    ``description=`` of a field."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            skip.add(id(node.value))
        if isinstance(node, ast.keyword) and node.arg == "description":
            skip.update(id(n) for n in ast.walk(node.value))
    return skip


def chinese_literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _not_shown(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and CJK.search(node.value)
    ]


JS_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
JS_STRING = re.compile(r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`""")


def js_chinese_literals(path: Path) -> list[str]:
    code = JS_COMMENT.sub("", path.read_text(encoding="utf-8"))
    return [s for s in JS_STRING.findall(code) if CJK.search(s)]


def test_no_chinese_literal_bypasses_the_catalogue() -> None:
    found = []
    for path in python_sources():
        rel = path.relative_to(ROOT).as_posix()
        if _allowed_file(rel):
            continue
        for line, text in chinese_literals(path):
            if (rel, text) not in ALLOWED_LITERALS:
                found.append(f"{rel}:{line}: {text!r}")
    assert found == [], "Chinese outside the catalogue (use t(...)):\n" + "\n".join(found)


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "assets").glob("*.js")))
def test_page_scripts_take_their_words_from_the_page(script: str) -> None:
    assert js_chinese_literals(ROOT / "assets" / script) == []


def test_the_scanner_sees_a_bypass(tmp_path: Path) -> None:
    sample = tmp_path / "panel.py"
    sample.write_text(
        '"""文档"""\nx = Field(1, description="说明")\nlabel = "今日上报"  # 注释\n',
        encoding="utf-8",
    )
    assert chinese_literals(sample) == [(3, "今日上报")]
    script = tmp_path / "x.js"
    script.write_text('// 注释\nvar a = "人"; /* 说明 */ var b = "ok";\n', encoding="utf-8")
    assert js_chinese_literals(script) == ['"人"']


def test_the_allow_list_is_still_needed() -> None:
    """An entry whose literal is gone goes too, so the list stays small and true."""
    present = {
        (p.relative_to(ROOT).as_posix(), text)
        for p in python_sources()
        for _line, text in chinese_literals(p)
    }
    assert [key for key in ALLOWED_LITERALS if key not in present] == []


def test_english_of_the_catalogue_has_no_chinese() -> None:
    leaks = {
        key: entry["en"]
        for key, entry in catalogue().items()
        if CJK.search(str(entry.get("en", "")))
    }
    assert leaks == {}


def test_level_names_read_in_order_in_english() -> None:
    names = [t(f"alarm.level.{lv}", "en") for lv in ("info", "warn", "critical", "emergency")]
    assert names == ["IV · Minor", "III · Moderate", "II · Severe", "I · Extreme"]
    assert [t(f"alarm.level.{lv}") for lv in ("info", "warn", "critical", "emergency")] == [
        "一般",
        "较大",
        "重大",
        "特别重大",
    ]


def test_a_refusal_reads_in_the_screen_s_language() -> None:
    from command_center.domain.workflow import RoleError, TransitionError, next_status

    with pytest.raises(TransitionError) as closed:
        next_status("closed", "close")
    assert error_text(closed.value, "zh") == "已结案的案件不能结案"
    assert error_text(closed.value, "en") == "Close is not possible: the case is Closed"
    role = RoleError("close", "department")
    assert error_text(role, "en") == "Close: not allowed for your role"
    assert not CJK.search(error_text(role, "en"))
    # a backend's own bilingual line shows its half
    assert one_language("网格不存在 / no unit grid 1", "en") == "no unit grid 1"
    assert t("workflow.cannot_because", "en", action=Term("action.extend"), reason="x") == (
        "Cannot Extend: x"
    )


def test_an_unknown_class_is_refused_in_english_on_an_english_screen() -> None:
    from command_center.domain.classes import UnknownClass, load_catalogue

    with pytest.raises(UnknownClass) as unknown:
        load_catalogue(None).get("event", "0701")
    assert error_text(unknown.value, "en") == "Unknown event class 0701"
    assert error_text(unknown.value, "zh") == "未知的事件类别 0701"


def test_a_patrol_role_stored_in_chinese_reads_in_english() -> None:
    from layouts.grid import worker_role

    assert [worker_role(r, "en") for r in ("网格员", "督导员", "监督员")] == [
        "Grid worker",
        "Grid lead",
        "Supervisor",
    ]
    assert worker_role("网格员", "zh") == "网格员" and worker_role("其他", "en") == "其他"
