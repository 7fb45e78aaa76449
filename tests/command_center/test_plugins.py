"""Adapters come from entry points; a wrong choice is a start-up error naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.base import AdapterConfigError
from command_center.plugins import available, build_adapter
from command_center.settings import Settings


def test_built_in_adapters_are_discovered_by_entry_point() -> None:
    assert "sql" in available("case")
    assert "sql" in available("gis")
    assert "demo" in available("video")
    assert {"log", "http"} <= set(available("sms"))


def test_unknown_adapter_names_the_setting_and_what_is_installed(tmp_path: Path) -> None:
    settings = Settings(case_adapter="mycity", data_dir=tmp_path)
    with pytest.raises(AdapterConfigError) as err:
        build_adapter("case", settings)
    assert "CC_CASE_ADAPTER='mycity'" in str(err.value)
    assert "sql" in str(err.value)


def test_http_sms_without_url_names_its_options_setting(tmp_path: Path) -> None:
    settings = Settings(sms_adapter="http", data_dir=tmp_path)
    with pytest.raises(AdapterConfigError) as err:
        build_adapter("sms", settings)
    assert "url" in str(err.value)
