"""Grid profiles count the special-care groups (重点人群) the demo city tags."""

from __future__ import annotations

import sqlite3

from adapters.sql.gis import SPECIAL_CARE, SqlGisAdapter


def test_special_care_counts_add_up_to_the_tagged_residents(tiny_city_url: str) -> None:
    gis = SqlGisAdapter(database_url=tiny_city_url)
    try:
        total = sum(gis.grid_profile(g.code).special_care for g in gis.regions("grid"))
    finally:
        gis.close()
    where = " OR ".join("tags LIKE ?" for _ in SPECIAL_CARE)
    with sqlite3.connect(tiny_city_url.removeprefix("sqlite:///")) as conn:
        tagged = conn.execute(
            f"SELECT count(*) FROM people WHERE {where}", [f"%{t}%" for t in SPECIAL_CARE]
        ).fetchone()[0]
        people = conn.execute("SELECT count(*) FROM people").fetchone()[0]
    assert total == tagged
    assert 0.03 * people < tagged < 0.10 * people  # about 6 % of residents
