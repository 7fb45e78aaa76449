import pytest

from command_center.domain.codes import (
    ComponentCode,
    GridCode,
    InvalidCode,
    citizen_id_check_char,
    citizen_id_valid,
    community_code,
    component_code,
    district_code,
    event_class_code,
    grid_code,
    make_component_code,
    make_grid_code,
    mask_citizen_id,
    mask_name,
    mask_phone,
    street_code,
)

# --------------------------------------------------------------------------- region codes


def test_valid_region_codes_pass_through():
    assert district_code("110101") == "110101"
    assert street_code("110101001") == "110101001"
    assert street_code("110101001", district="110101") == "110101001"
    assert community_code("110101001001") == "110101001001"


def test_county_level_city_without_districts_is_a_valid_district():
    assert district_code("441900") == "441900"  # 东莞市


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("11010", "exactly 6 digits"),
        ("1101011", "exactly 6 digits"),
        ("11010a", "exactly 6 digits"),
        ("１１０１０１", "exactly 6 digits"),  # full-width digits
        ("990101", "not a GB/T 2260 province"),
        ("110000", "is a province"),
    ],
)
def test_bad_district_codes_say_why(code, reason):
    with pytest.raises(InvalidCode, match=reason):
        district_code(code)


def test_district_code_must_be_a_string():
    with pytest.raises(InvalidCode, match="must be a string"):
        district_code(110101)  # type: ignore[arg-type]


def test_street_must_extend_its_district():
    with pytest.raises(InvalidCode, match="not in district '110102'"):
        street_code("110101001", district="110102")


def test_street_part_cannot_be_zero():
    with pytest.raises(InvalidCode, match="cannot be 000"):
        street_code("110101000")


def test_community_must_extend_its_street():
    with pytest.raises(InvalidCode, match="not in street"):
        community_code("110101001001", street="110101002")
    with pytest.raises(InvalidCode, match="exactly 12 digits"):
        community_code("11010100100")


# --------------------------------------------------------------------------- grids


def test_grid_code_of_14_digits_splits_into_its_levels():
    parsed = grid_code("11010100100103")
    assert parsed == GridCode("110101", "110101001", "110101001001", "03")
    assert parsed.code == "11010100100103"


def test_beijing_grid_code_has_a_three_digit_sequence():
    parsed = grid_code("110101001001012", seq_width=3)
    assert parsed.seq == "012" and parsed.community == "110101001001"


def test_grid_code_length_must_match_the_sequence_width():
    with pytest.raises(InvalidCode, match="exactly 14 digits"):
        grid_code("110101001001012")
    with pytest.raises(InvalidCode, match="exactly 15 digits"):
        grid_code("11010100100103", seq_width=3)


def test_grid_sequence_starts_at_one():
    with pytest.raises(InvalidCode, match="starts at 1"):
        grid_code("11010100100100")


def test_grid_code_with_bad_district_is_refused():
    with pytest.raises(InvalidCode, match="province"):
        grid_code("99010100100101")


def test_unsupported_sequence_width_is_a_value_error():
    with pytest.raises(ValueError):
        grid_code("1101010010010123", seq_width=4)


def test_make_grid_code_pads_the_sequence():
    assert make_grid_code("110101001001", 3) == "11010100100103"
    assert make_grid_code("110101001001", 3, seq_width=3) == "110101001001003"
    assert grid_code(make_grid_code("110101001001", 99)).seq == "99"


@pytest.mark.parametrize("seq", [0, 100, -1])
def test_make_grid_code_refuses_sequences_that_do_not_fit(seq):
    with pytest.raises(InvalidCode):
        make_grid_code("110101001001", seq)


# --------------------------------------------------------------------------- components


def test_component_code_from_the_standard_example():
    parsed = component_code("3205080101000001")  # 姑苏区, 公用设施, 上水井盖, No. 1
    assert parsed == ComponentCode("320508", "01", "01", "000001")
    assert parsed.class_code == "0101"
    assert parsed.code == "3205080101000001"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("320508010100001", "exactly 16 digits"),
        ("3205080001000001", "cannot be 00"),
        ("3205080100000001", "cannot be 00"),
        ("3205080101000000", "starts at 1"),
        ("0005080101000001", "province"),
    ],
)
def test_bad_component_codes_say_why(code, reason):
    with pytest.raises(InvalidCode, match=reason):
        component_code(code)


def test_make_component_code_accepts_ints_or_strings():
    assert make_component_code("320508", 1, 1, 1) == "3205080101000001"
    assert make_component_code("320508", "04", "02", 123456) == "3205080402123456"


def test_make_component_code_refuses_bad_parts():
    with pytest.raises(InvalidCode):
        make_component_code("320508", 1, 1, 1_000_000)
    with pytest.raises(InvalidCode):
        make_component_code("320508", "1", 1, 1)
    with pytest.raises(InvalidCode):
        make_component_code("320508", 0, 1, 1)


def test_event_class_code():
    assert event_class_code("0102") == "0102"
    for bad in ("102", "01020", "0002", "0100", "01a2"):
        with pytest.raises(InvalidCode):
            event_class_code(bad)


# --------------------------------------------------------------------------- citizen ID


@pytest.mark.parametrize(
    "citizen_id", ["11010519491231002X", "11010519491231002x", "440524188001010014"]
)
def test_known_valid_citizen_ids(citizen_id):
    assert citizen_id_valid(citizen_id)


def test_check_char_of_known_ids():
    assert citizen_id_check_char("11010519491231002") == "X"
    assert citizen_id_check_char("44052418800101001") == "4"


@pytest.mark.parametrize(
    "citizen_id",
    [
        "110105194912310021",  # wrong check character
        "11010519491231002",  # too short
        "110105194902300023",  # 30 February
        "99010519491231002X",  # no such province
        "1101051949123100AX",  # letters in the body
        "",
    ],
)
def test_invalid_citizen_ids(citizen_id):
    assert not citizen_id_valid(citizen_id)


def test_check_char_needs_17_digits():
    with pytest.raises(InvalidCode):
        citizen_id_check_char("1101051949123100")


# --------------------------------------------------------------------------- masking


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三丰", "张**"),
        ("张三", "张*"),
        ("欧阳修", "欧阳*"),
        ("欧阳", "欧*"),
        ("张", "张"),
        ("", ""),
    ],
)
def test_mask_name_keeps_only_the_surname(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812341234", "138****1234"),
        ("+86 138 1234 1234", "138****1234"),
        ("010-65123456", "***-****3456"),
        ("110", "***"),
        ("", ""),
    ],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


def test_mask_citizen_id_keeps_region_and_last_four():
    assert mask_citizen_id("11010519491231123X") == "110105********123X"
    assert mask_citizen_id("110101491231123") == "110101*****1123"
    assert mask_citizen_id("12345") == "*****"
    assert mask_citizen_id("") == ""
