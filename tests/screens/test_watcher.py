import logging
import time

import pytest

from command_center.screens.loader import ScreensError, ScreensWatcher

ONE_KPI = """\
screens:
  - id: main
    title: {title}
    size: 1920x1080
    grid: {{columns: 2, rows: 1}}
    panels:
      - {{kind: kpi, col: 1, row: 1, options: {{metrics: [a]}}}}
"""
BROKEN = """\
screens:
  - id: main
    title: T
    size: 1920x1080
    grid: {columns: 2, rows: 1}
    panels:
      - {kind: kpi, col: 1, row: 1, options: {metrics: [a]}}
      - {kind: kpi, col: 3, row: 1, options: {metrics: [a]}}
"""


@pytest.fixture
def changes():
    return []


@pytest.fixture
def watcher(write_yaml, registry, changes):
    path = write_yaml(ONE_KPI.format(title="First"))
    return ScreensWatcher(path, registry, poll_seconds=0.05, on_change=changes.append)


def test_first_load_of_a_broken_file_raises(write_yaml, registry):
    path = write_yaml(BROKEN)
    with pytest.raises(ScreensError, match=r"screens\.yaml:8: screens\[main\]\.panels\[1\]\.col"):
        ScreensWatcher(path, registry)


def test_first_load_gives_version_1(watcher):
    assert watcher.version == 1
    assert watcher.current.get("main").title == "First"
    assert watcher.last_error is None and watcher.last_good_at is not None
    assert watcher.check_now() is False  # nothing changed


def test_a_good_edit_bumps_the_version_and_calls_on_change(watcher, changes):
    watcher.path.write_text(ONE_KPI.format(title="Second"), encoding="utf-8")
    assert watcher.check_now() is True
    assert watcher.version == 2
    assert watcher.current.get("main").title == "Second"
    assert [s.get("main").title for s in changes] == ["Second"]
    assert watcher.check_now() is False and watcher.version == 2


def test_a_broken_edit_keeps_the_last_good_and_names_file_and_line(watcher, changes, caplog):
    good = watcher.current
    watcher.path.write_text(BROKEN, encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert watcher.check_now() is False
    assert watcher.current is good and watcher.version == 1 and changes == []
    assert watcher.last_error is not None and watcher.last_error_at is not None
    [issue] = watcher.last_error.issues
    assert str(issue) == (
        f"{watcher.path}:8: screens[main].panels[1].col: "
        "panel 'kpi-2' covers columns 3-3 but the grid has 2 columns"
    )
    assert str(issue) in caplog.messages

    # The same broken content is not re-reported at every poll.
    caplog.clear()
    assert watcher.check_now() is False
    assert caplog.messages == []

    # Fixing it recovers.
    watcher.path.write_text(ONE_KPI.format(title="Fixed"), encoding="utf-8")
    assert watcher.check_now() is True
    assert watcher.version == 2 and watcher.last_error is None
    assert watcher.current.get("main").title == "Fixed"
    assert [s.get("main").title for s in changes] == ["Fixed"]


def test_undoing_a_broken_edit_clears_the_error_without_a_new_version(watcher, changes):
    original = watcher.path.read_text(encoding="utf-8")
    watcher.path.write_text(BROKEN, encoding="utf-8")
    watcher.check_now()
    watcher.path.write_text(original, encoding="utf-8")
    assert watcher.check_now() is False
    assert watcher.last_error is None and watcher.version == 1 and changes == []


def test_a_vanished_file_keeps_the_last_good(watcher):
    good = watcher.current
    watcher.path.unlink()
    assert watcher.check_now() is False
    assert watcher.current is good
    assert "cannot read" in str(watcher.last_error)
    watcher.path.write_text(ONE_KPI.format(title="Back"), encoding="utf-8")
    assert watcher.check_now() is True and watcher.version == 2


def test_a_failing_on_change_does_not_stop_the_watcher(write_yaml, registry):
    path = write_yaml(ONE_KPI.format(title="A"))

    def explode(screens):
        raise RuntimeError("subscriber bug")

    watcher = ScreensWatcher(path, registry, on_change=explode)
    path.write_text(ONE_KPI.format(title="B"), encoding="utf-8")
    assert watcher.check_now() is True
    assert watcher.current.get("main").title == "B"


def test_the_thread_picks_up_edits(watcher, changes):
    watcher.start()
    try:
        watcher.path.write_text(ONE_KPI.format(title="Polled"), encoding="utf-8")
        deadline = time.monotonic() + 5
        while watcher.version == 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert watcher.version == 2
        assert [s.get("main").title for s in changes] == ["Polled"]
    finally:
        watcher.stop()
    assert watcher._thread is None
