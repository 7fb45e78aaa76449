"""Fixtures of the sql backend tests: the tiny city on SQLite and on PostgreSQL.

Each backend gets one generated city per test session (a temporary SQLite file; a fresh
PostgreSQL schema with a random name, reached through ``search_path``, dropped at the end).
Tests that write add their own cases, so they never depend on each other's order.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import require_service

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
#: a Wednesday morning, a working day with the built-in calendar
NOW = datetime(2026, 11, 25, 10, 0)
SEED = 20261125


class Clock:
    """An injectable "now" that tests move by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class City:
    backend: str
    url: str


def _pg_schema_url(schema: str) -> str:
    return f"{PG_SERVER}?options=-csearch_path%3D{schema}"


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def city(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[City]:
    """The tiny demo city, generated once per backend."""
    from command_center.demo.generator import generate

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sql') / 'tiny.sqlite'}"
        generate(url, "tiny", seed=SEED, now=NOW)
        yield City("sqlite", url)
        return
    require_service("PostgreSQL", "127.0.0.1", 5432)
    schema = f"cc_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = _pg_schema_url(schema)
        generate(url, "tiny", seed=SEED, now=NOW)
        yield City("postgres", url)
    finally:
        if not os.environ.get("CC_KEEP_TEST_SCHEMA"):
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def cases(city: City, clock: Clock) -> Iterator[object]:
    from adapters.sql.case import SqlCaseAdapter

    adapter = SqlCaseAdapter(database_url=city.url, now=clock)
    yield adapter
    adapter.close()


@pytest.fixture()
def gis(city: City, clock: Clock) -> Iterator[object]:
    from adapters.sql.gis import SqlGisAdapter

    adapter = SqlGisAdapter(database_url=city.url, now=clock)
    yield adapter
    adapter.close()
