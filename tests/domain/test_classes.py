import pytest

from command_center.domain.classes import (
    CATALOGUE,
    DEPARTMENT_NAMES,
    DEPARTMENTS,
    TimeLimit,
    UnknownClass,
    load_catalogue,
    parse_time_limit,
)

DOMAIN_EVENTS = {
    "0101": "违法搭建",
    "0102": "暴露垃圾",
    "0103": "积存垃圾渣土",
    "0104": "道路不洁",
    "0105": "水域不洁",
    "0106": "绿地脏乱",
    "0201": "非法小广告",
    "0301": "施工扰民",
    "0302": "工地扬尘",
    "0401": "路面塌陷",
    "0402": "水管破裂",
    "0403": "燃气泄漏",
    "0404": "道路积水",
    "0501": "无照经营游商",
    "0502": "占道经营",
    "0503": "店外经营",
    "0504": "乱停放",
    "0505": "露天烧烤",
    "0601": "其他",
}

DOMAIN_COMPONENTS = {
    "0101": "上水井盖",
    "0102": "污水井盖",
    "0103": "雨水井盖",
    "0104": "路灯",
    "0105": "电力井盖",
    "0201": "交通标志牌",
    "0202": "公交站亭",
    "0203": "护栏",
    "0301": "公共厕所",
    "0302": "垃圾箱",
    "0303": "广告牌匾",
    "0401": "行道树",
    "0402": "绿地",
    "0403": "雕塑",
    "0404": "座椅",
    "0601": "工地",
}


@pytest.mark.parametrize(("code", "name"), DOMAIN_EVENTS.items())
def test_every_standard_event_class_is_in_the_catalogue(code, name):
    cls = CATALOGUE.get("event", code)
    assert cls.name == name
    assert cls.big_code == code[:2]
    assert cls.name_en


@pytest.mark.parametrize(("code", "name"), DOMAIN_COMPONENTS.items())
def test_every_standard_component_class_is_in_the_catalogue(code, name):
    cls = CATALOGUE.get("component", code)
    assert cls.name == name
    assert cls.name_en


def test_big_classes_of_events_and_components():
    assert CATALOGUE.big_classes("event") == {
        "01": "市容环境",
        "02": "宣传广告",
        "03": "施工管理",
        "04": "突发事件",
        "05": "街面秩序",
        "06": "其他事件",
    }
    assert CATALOGUE.big_classes("component") == {
        "01": "公用设施",
        "02": "道路交通",
        "03": "市容环境",
        "04": "园林绿化",
        "05": "房屋土地",
        "06": "其他设施",
    }


@pytest.mark.parametrize(
    ("code", "limit"),
    [
        ("0101", TimeLimit(15, "work_days")),
        ("0102", TimeLimit(1, "work_days")),
        ("0103", TimeLimit(4, "work_days")),
        ("0104", TimeLimit(5, "work_hours")),
    ],
)
def test_domain_examples_of_event_time_limits(code, limit):
    assert CATALOGUE.get("event", code).limit == limit


@pytest.mark.parametrize("code", ["0401", "0402", "0403", "0404"])
def test_emergencies_run_on_wall_clock_hours(code):
    cls = CATALOGUE.get("event", code)
    assert cls.limit.unit == "hours"
    assert 1 <= cls.limit.amount <= 4


@pytest.mark.parametrize("code", ["0101", "0102", "0103", "0105"])
def test_missing_manhole_covers_are_urgent_in_wall_clock_hours(code):
    cls = CATALOGUE.get("component", code)
    assert "井盖" in cls.name
    assert cls.urgent_limit is not None and cls.urgent_limit.unit == "hours"
    assert cls.limit_for(urgent=True) == cls.urgent_limit
    assert cls.limit_for(urgent=False) == cls.limit


def test_urgent_grade_is_never_longer_than_the_normal_limit():
    # Compare in the same unit where they share one; wall clock is always the stricter.
    hours_per_day = 9
    as_hours = {"hours": 1, "work_hours": 1, "work_days": hours_per_day}
    for cls in CATALOGUE:
        if cls.urgent_limit is not None:
            urgent = cls.urgent_limit.amount * as_hours[cls.urgent_limit.unit]
            normal = cls.limit.amount * as_hours[cls.limit.unit]
            assert urgent <= normal, cls.code


def test_events_go_to_the_street_first_and_components_to_their_owner():
    assert {c.responsibility for c in CATALOGUE.events()} == {"territorial"}
    assert {c.responsibility for c in CATALOGUE.components()} == {"owner"}
    assert {c.kind for c in CATALOGUE.events()} == {"event"}
    assert {c.kind for c in CATALOGUE.components()} == {"component"}


def test_every_class_has_a_known_default_department():
    for cls in CATALOGUE:
        assert cls.default_department in DEPARTMENT_NAMES, cls


def test_departments_have_unique_codes_and_both_names():
    codes = [code for code, _, _ in DEPARTMENTS]
    assert len(codes) == len(set(codes))
    assert all(name and name_en for _, name, name_en in DEPARTMENTS)
    assert "城管执法局" in DEPARTMENT_NAMES.values()


def test_class_lists_are_sorted_by_code():
    codes = [c.code for c in CATALOGUE.events()]
    assert codes == sorted(codes)


def test_unknown_class_names_kind_and_code():
    with pytest.raises(UnknownClass, match=r"unknown event class '9999'"):
        CATALOGUE.get("event", "9999")
    assert issubclass(UnknownClass, ValueError)


def test_unknown_kind_is_refused():
    with pytest.raises(UnknownClass, match="unknown case kind"):
        CATALOGUE.get("incident", "0101")


def test_find_returns_none_for_unknown_class():
    assert CATALOGUE.find("event", "9999") is None
    assert CATALOGUE.find("event", "0102") is CATALOGUE.get("event", "0102")


def test_load_catalogue_without_file_is_the_builtin():
    assert load_catalogue(None) is CATALOGUE


def test_city_file_overrides_limits_and_names(tmp_path):
    path = tmp_path / "classes.yaml"
    path.write_text(
        """
events:
  "0102":
    limit: 6 工作时
    urgent_limit: null
    name_en: Uncovered rubbish
components:
  "0101":
    urgent_limit: {amount: 1, unit: hours}
""",
        encoding="utf-8",
    )
    cat = load_catalogue(path)
    garbage = cat.get("event", "0102")
    assert garbage.limit == TimeLimit(6, "work_hours")
    assert garbage.urgent_limit is None
    assert garbage.name == "暴露垃圾"
    assert garbage.name_en == "Uncovered rubbish"
    assert cat.get("component", "0101").urgent_limit == TimeLimit(1, "hours")
    # Untouched classes keep the built-in values, and the built-in stays unchanged.
    assert cat.get("event", "0104") == CATALOGUE.get("event", "0104")
    assert CATALOGUE.get("event", "0102").limit == TimeLimit(1, "work_days")


def test_city_file_adds_an_extension_class(tmp_path):
    path = tmp_path / "classes.yaml"
    path.write_text(
        """
events:
  "0701":
    big_name: 扩展事件
    name: 共享单车乱停放
    limit: 2 work_hours
    default_department: D01
  "0506":
    name: 乱堆物料
    limit: 1 work_days
""",
        encoding="utf-8",
    )
    cat = load_catalogue(path)
    bikes = cat.get("event", "0701")
    assert bikes.big_code == "07" and bikes.big_name == "扩展事件"
    assert bikes.responsibility == "territorial"
    assert cat.get("event", "0506").big_name == "街面秩序"
    assert cat.big_classes("event")["07"] == "扩展事件"


def test_renaming_a_big_class_renames_all_its_classes(tmp_path):
    path = tmp_path / "classes.yaml"
    path.write_text('events:\n  "0101":\n    big_name: 市容环卫\n', encoding="utf-8")
    cat = load_catalogue(path)
    assert {c.big_name for c in cat.events() if c.big_code == "01"} == {"市容环卫"}


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ('events:\n  "0102":\n    limit: 1 fortnight\n', r"events\.0102\.limit: unknown unit"),
        ('events:\n  "0102":\n    limit: -1 hours\n', "must be positive"),
        ('events:\n  "0102":\n    colour: red\n', "unknown keys"),
        ('events:\n  "0102":\n    default_department: D99\n', "unknown department"),
        ('events:\n  "102":\n    limit: 1 hours\n', "4 digits"),
        ('events:\n  "0709":\n    name: x\n    limit: 1 hours\n', "needs big_name"),
        ('events:\n  "0507":\n    name: x\n', "needs limit"),
        ("cases: {}\n", "unknown top-level keys"),
    ],
)
def test_city_file_errors_name_the_file_and_the_class(tmp_path, yaml_text, message):
    path = tmp_path / "classes.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as info:
        load_catalogue(path)
    assert "classes.yaml" in str(info.value)


def test_time_limit_parsing_accepts_chinese_units():
    assert parse_time_limit("4 工作日") == TimeLimit(4, "work_days")
    assert parse_time_limit("2 小时") == TimeLimit(2, "hours")
    assert str(TimeLimit(5, "work_hours")) == "5 work_hours"


def test_time_limit_rejects_unknown_unit():
    with pytest.raises(ValueError):
        TimeLimit(1, "weeks")  # type: ignore[arg-type]
