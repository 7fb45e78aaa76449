"""The demo-city generator: geometry that tiles, codes that parse, links that hold, a seed
that repeats."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from shapely.geometry import shape
from shapely.ops import unary_union
from shapely.strtree import STRtree
from sqlalchemy import create_engine, func, select, text

from adapters.sql.models import (
    CaseRow,
    CaseStepRow,
    ComponentRow,
    HouseholdRow,
    HouseRow,
    PersonRow,
    RegionRow,
)
from command_center.demo.generator import generate
from command_center.domain.codes import citizen_id_valid, component_code, grid_code

from .conftest import NOW, SEED


@pytest.fixture()
def db(city):  # noqa: ANN001, ANN201
    engine = create_engine(city.url)
    with engine.connect() as conn:
        yield conn
    engine.dispose()


def _regions(db) -> dict[str, list]:  # noqa: ANN001
    out: dict[str, list] = {}
    for code, level, parent, geometry, area in db.execute(
        select(RegionRow.code, RegionRow.level, RegionRow.parent_code, RegionRow.geometry,
               RegionRow.area_m2)
    ):  # fmt: skip
        out.setdefault(level, []).append((code, parent, shape(json.loads(geometry)), area))
    return out


def test_every_level_tiles_its_parent_without_gaps_or_overlaps(db) -> None:
    regions = _regions(db)
    assert [len(regions[lv]) for lv in ("district", "street")] == [1, 2]
    for child_level, parent_level in (("street", "district"), ("community", "street"),
                                      ("grid", "community")):  # fmt: skip
        for code, _, parent_shape, _ in regions[parent_level]:
            children = [g for c, p, g, _ in regions[child_level] if p == code]
            assert children, code
            union = unary_union(children)
            assert abs(union.area - parent_shape.area) / parent_shape.area < 1e-3
            assert abs(sum(c.area for c in children) - union.area) / union.area < 1e-3
            assert union.symmetric_difference(parent_shape).area / parent_shape.area < 1e-3
    grids = [g for _, _, g, _ in regions["grid"]]
    tree = STRtree(grids)
    for i, g in enumerate(grids):
        for j in tree.query(g):
            if j > i:
                assert g.intersection(grids[j]).area < 1e-6 * g.area
    areas = [a for *_, a in regions["grid"]]
    assert 6_000 < sum(areas) / len(areas) < 14_000  # 万米单元网格


def test_codes_are_well_formed_and_unique(db) -> None:
    regions = _regions(db)
    for code, parent, *_ in regions["grid"]:
        assert grid_code(code, 2).code == code and code[:12] == parent
    for code, parent, *_ in regions["community"]:
        assert len(code) == 12 and code[:9] == parent
    comps = db.execute(select(ComponentRow.code, ComponentRow.class_code)).all()
    assert len({c for c, _ in comps}) == len(comps) > 0
    assert all(component_code(c).class_code == k for c, k in comps)
    ids = db.execute(select(PersonRow.citizen_id)).scalars().all()
    assert len(set(ids)) == len(ids) and all(citizen_id_valid(i) for i in ids)
    numbers = db.execute(select(CaseRow.number)).scalars().all()
    assert len(set(numbers)) == len(numbers)


def test_every_person_reaches_a_grid_on_the_map(db) -> None:
    people = db.execute(select(func.count()).select_from(PersonRow)).scalar_one()
    linked = db.execute(
        select(func.count())
        .select_from(PersonRow)
        .join(HouseholdRow, PersonRow.household_id == HouseholdRow.id)
        .join(HouseRow, HouseholdRow.house_id == HouseRow.id)
        .join(RegionRow, (RegionRow.code == HouseRow.grid_code) & (RegionRow.level == "grid"))
    ).scalar_one()
    assert people == linked > 1000


def test_cases_look_like_a_city(db) -> None:
    rows = db.execute(
        select(
            CaseRow.source, CaseRow.kind, CaseRow.status, CaseRow.hour_of_week, CaseRow.reported_at
        ).where(CaseRow.reporter != "监督员-test")
    ).all()  # other tests' cases: out
    assert 250 < len(rows) < 700
    sources = Counter(r.source for r in rows)
    assert sources.most_common(1)[0][0] == "supervisor"
    assert sum(r.kind == "event" for r in rows) > 0.9 * len(rows)
    statuses = Counter(r.status for r in rows)
    assert statuses["closed"] > 0.8 * len(rows) and statuses["voided"] > 0
    assert all(r.reported_at < NOW for r in rows)
    daytime = sum(8 <= r.hour_of_week % 24 < 18 for r in rows)
    assert daytime > 0.6 * len(rows)
    steps = db.execute(select(func.count()).select_from(CaseStepRow)).scalar_one()  # at least
    assert steps > 4 * len(rows)


def _fingerprint(url: str) -> tuple:
    engine = create_engine(url)
    with engine.connect() as conn:
        counts = tuple(
            conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
            for t in ("regions", "people", "components", "workers", "cases", "case_steps")
        )
        first = (
            conn.execute(select(RegionRow.geometry).order_by(RegionRow.code).limit(3)).all(),
            conn.execute(select(PersonRow.name, PersonRow.citizen_id).order_by(PersonRow.id)
                         .limit(5)).all(),
            conn.execute(select(CaseRow.number, CaseRow.class_code, CaseRow.status,
                                CaseRow.deadline).order_by(CaseRow.id).limit(5)).all(),
        )  # fmt: skip
    engine.dispose()
    return counts, first


def test_same_seed_same_city_other_seed_other_city(tmp_path, city) -> None:  # noqa: ANN001
    if city.backend != "sqlite":
        pytest.skip("determinism is checked once, on SQLite")
    urls = [f"sqlite:///{tmp_path / name}.sqlite" for name in ("a", "b", "c")]
    generate(urls[0], "tiny", seed=SEED, now=NOW)
    generate(urls[1], "tiny", seed=SEED, now=NOW)
    generate(urls[2], "tiny", seed=SEED + 1, now=NOW)
    a, b, c = (_fingerprint(u) for u in urls)
    assert a == b
    assert a != c
    assert a[0][:4] == _fingerprint(city.url)[0][:4]  # the session's city is the same one
    with pytest.raises(RuntimeError, match="already holds a city"):
        generate(urls[0], "tiny", seed=SEED, now=NOW)


#: The official codes of 东城区's streets (统计用区划代码 = GB/T 2260 district + 3 digits).
OFFICIAL_DONGCHENG_STREETS = {
    "110101001": "东华门街道", "110101002": "景山街道", "110101003": "交道口街道",
    "110101004": "安定门街道", "110101005": "北新桥街道", "110101006": "东四街道",
    "110101007": "朝阳门街道", "110101008": "建国门街道", "110101009": "东直门街道",
    "110101010": "和平里街道", "110101011": "前门街道", "110101012": "崇文门外街道",
    "110101013": "东花市街道", "110101014": "龙潭街道", "110101015": "体育馆路街道",
    "110101016": "天坛街道", "110101017": "永定门外街道",
}  # fmt: skip


def test_real_street_names_sit_on_their_official_codes(db) -> None:  # noqa: ANN001
    from command_center.demo.names import DONGCHENG_STREET_CODES

    assert {f"110101{seq}": name for seq, name in DONGCHENG_STREET_CODES.items()} == (
        OFFICIAL_DONGCHENG_STREETS
    )
    query = select(RegionRow.code, RegionRow.name).where(RegionRow.level == "street")
    streets = {code: name for code, name in db.execute(query)}
    assert streets and all(OFFICIAL_DONGCHENG_STREETS[c] == n for c, n in streets.items())
