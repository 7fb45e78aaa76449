"""Fixtures for the SMS adapters: a real fake gateway on an ephemeral port, adapters wired
to it with short timeouts, and a clock the log adapter's tests move by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from adapters.sms.http import HttpSmsAdapter
from adapters.sms.log import LogSmsAdapter

from .fake_gateway import FakeSmsGateway

TIMEOUT = 0.3


class PinnedClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 2, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> PinnedClock:
    return PinnedClock()


@pytest.fixture
def gateway() -> Iterator[FakeSmsGateway]:
    fake = FakeSmsGateway(blacklist={"13900000000"}, undeliverable={"13700000000"}).start()
    yield fake
    fake.slow_seconds = 0
    fake.stop()


@pytest.fixture
def http_sms(gateway: FakeSmsGateway) -> Iterator[HttpSmsAdapter]:
    adapter = HttpSmsAdapter(
        url=gateway.url,
        status_url=gateway.status_url,
        account=gateway.account,
        api_key=gateway.secret,
        timeout_seconds=TIMEOUT,
    )
    yield adapter
    adapter.close()


@pytest.fixture
def log_sms(clock: PinnedClock) -> LogSmsAdapter:
    return LogSmsAdapter(clock=clock)
