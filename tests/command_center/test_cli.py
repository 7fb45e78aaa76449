"""The command line an admin uses: screens check and schema."""

from __future__ import annotations

import json
from pathlib import Path

from command_center.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_screens_check_accepts_the_default_file(capsys) -> None:  # noqa: ANN001
    assert main(["screens", "check", str(ROOT / "screens.yaml")]) == 0
    assert capsys.readouterr().out.strip().endswith(": OK")


def test_screens_check_prints_file_line_path_and_fails(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    bad = tmp_path / "screens.yaml"
    bad.write_text(
        "screens:\n"
        "  - id: main\n"
        "    title: 主屏\n"
        "    size: 1920x1080\n"
        "    grid: {columns: 4, rows: 2}\n"
        "    panels:\n"
        "      - {kind: kpi, col: 1, row: 1}\n"
        "      - {kind: city_map, col: 2, row: 1, options: {layers: [boundaries, x]}}\n"
        "      - {kind: kpi, col: 4, row: 2, col_span: 2}\n",
        encoding="utf-8",
    )
    assert main(["screens", "check", str(bad)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert any(
        line.startswith(f"{bad}:8: screens[main].panels[1].options.layers") and "'x'" in line
        for line in out
    ), out
    assert any(line.startswith(f"{bad}:9: screens[main].panels[2]") for line in out), out


def test_screens_schema_is_written_for_editors(tmp_path: Path) -> None:
    out = tmp_path / "screens.schema.json"
    assert main(["screens", "schema", "-o", str(out)]) == 0
    schema = json.loads(out.read_text(encoding="utf-8"))
    assert "screens" in json.dumps(schema)
    assert "city_map" in json.dumps(schema)


STREET = (
    "screens:\n"
    "  - id: street\n"
    "    title: 街道分中心\n"
    "    size: 1920x1080\n"
    "    grid: {{columns: 2, rows: 1}}\n"
    "    region: '{region}'\n"
    "    panels:\n"
    "      - {{kind: alarm_ticker, col: 1, row: 1}}\n"
)


def test_screens_check_knows_the_city_s_streets(
    tiny_city_url: str, tmp_path: Path, monkeypatch, capsys
) -> None:  # noqa: ANN001
    monkeypatch.setenv("CC_DATABASE_URL", tiny_city_url)
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(STREET.format(region="110101001"), encoding="utf-8")
    bad.write_text(STREET.format(region="110101099"), encoding="utf-8")
    assert main(["screens", "check", str(good)]) == 0
    assert main(["screens", "check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:6: screens[street].region: unknown region code '110101099'" in out


def test_screens_check_without_a_city_leaves_no_database_behind(
    tmp_path: Path, monkeypatch, capsys
) -> None:  # noqa: ANN001
    monkeypatch.delenv("CC_DATABASE_URL", raising=False)
    monkeypatch.setenv("CC_DATA_DIR", str(tmp_path / "var"))
    path = tmp_path / "screens.yaml"
    path.write_text(STREET.format(region="110101099"), encoding="utf-8")
    assert main(["screens", "check", str(path)]) == 0  # not checkable: taken as written
    assert not (tmp_path / "var" / "command_center.sqlite").exists()
