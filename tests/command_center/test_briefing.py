"""The daily briefing: a real PDF (kaleido charts, Chromium print) that poppler renders and
whose text is Chinese, from the CLI as a leader's assistant would run it."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from command_center.briefing import BriefingSchedule
from command_center.cli import main
from command_center.settings import Settings

pytestmark = pytest.mark.skipif(
    not Path("/usr/bin/chromium").exists() or shutil.which("pdftoppm") is None,
    reason="needs chromium and poppler-utils",
)


def test_cli_writes_an_a4_landscape_pdf_with_chinese_text_that_renders(
    city_copy: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CC_DATABASE_URL", city_copy)
    monkeypatch.setenv("CC_DATA_DIR", str(tmp_path / "var"))
    out = tmp_path / "out"
    code = main(["briefing", "--date", "2026-11-25", "--format", "pdf", "--out", str(out)])
    assert code == 0
    pdf = out / "briefing-2026-11-25-A4.pdf"
    assert pdf.stat().st_size > 20_000

    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert "Pages:           3" in info
    assert "841.92 x 594.96" in info  # A4 landscape in points

    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 3 and all(p.stat().st_size > 5_000 for p in pages)

    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    for words in ("城市运行日报", "按期结案率", "今日概况", "考核排名", "超期未处置"):
        assert words in text, words
    assert "\ufffd" not in text  # no tofu: every glyph maps back to a character
    # the month-to-date figures say over how many cases they are
    assert re.search(r"2026年11月累计（截至当日，应处置 n=[\d,]+）", text.replace("\n", ""))


def test_schedule_runs_at_the_configured_time_today_or_tomorrow(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, briefing_time="18:30")
    schedule = BriefingSchedule(settings, adapters=None)
    assert schedule.next_run(datetime(2026, 11, 25, 9, 0)) == datetime(2026, 11, 25, 18, 30)
    assert schedule.next_run(datetime(2026, 11, 25, 18, 30)) == datetime(2026, 11, 26, 18, 30)
    assert schedule.folder == tmp_path / "briefings"
