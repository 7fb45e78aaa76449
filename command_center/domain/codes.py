"""Region, grid and component codes (全要素编码), citizen ID checks and masking of personal data.

- district: 6 digits, GB/T 2260 (110101 = 北京市东城区)
- street: 9 digits, the district + 3 (110101001 东华门街道)
- community: 12 digits, the street + 3 (110101001001)
- unit grid (单元网格): the community + a sequence of ``seq_width`` digits (2 by default, 14
  digits in all; Beijing's local standard uses 3, 15 digits)
- component (部件): 16 digits, 6 district + 2 big class + 2 small class + 6 sequence
- event class: 4 digits, big + small (0102 暴露垃圾)

Parsers return the validated code (or a named tuple of its parts) and raise ``InvalidCode``
with the reason. Masking never raises: a wall must not crash on a malformed phone number.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple


class InvalidCode(ValueError):
    """A malformed region, grid, component or class code; the message says why."""


# First two digits of GB/T 2260 codes: provinces, autonomous regions, municipalities, SARs.
PROVINCE_PREFIXES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)


def _digits(code: object, length: int, what: str) -> str:
    if not isinstance(code, str):
        raise InvalidCode(f"{what} must be a string of {length} digits, got {code!r}")
    if len(code) != length or not code.isascii() or not code.isdigit():
        raise InvalidCode(f"{what} must have exactly {length} digits, got {code!r}")
    return code


def district_code(code: str) -> str:
    """A GB/T 2260 county-level code: 6 digits, a real province prefix, not a province."""
    _digits(code, 6, "a district code")
    if code[:2] not in PROVINCE_PREFIXES:
        raise InvalidCode(f"district code {code!r}: {code[:2]!r} is not a GB/T 2260 province")
    if code[2:] == "0000":
        raise InvalidCode(f"district code {code!r} is a province, not a district")
    return code


def street_code(code: str, district: str | None = None) -> str:
    """A 9-digit street (街道/乡镇) code extending a valid district (and ``district`` if given)."""
    _digits(code, 9, "a street code")
    district_code(code[:6])
    if code[6:] == "000":
        raise InvalidCode(f"street code {code!r}: the street part cannot be 000")
    if district is not None and not code.startswith(district):
        raise InvalidCode(f"street code {code!r} is not in district {district!r}")
    return code


def community_code(code: str, street: str | None = None) -> str:
    """A 12-digit community (社区/村) code extending a valid street (and ``street`` if given)."""
    _digits(code, 12, "a community code")
    street_code(code[:9])
    if code[9:] == "000":
        raise InvalidCode(f"community code {code!r}: the community part cannot be 000")
    if street is not None and not code.startswith(street):
        raise InvalidCode(f"community code {code!r} is not in street {street!r}")
    return code


_check_community = community_code  # make_grid_code's parameter shadows the name


class GridCode(NamedTuple):
    """A unit grid code's parts; ``street`` and ``community`` are the full codes."""

    district: str  # 6 digits
    street: str  # 9 digits
    community: str  # 12 digits
    seq: str  # 2 (or 3) digits, numbered west->east, north->south inside the community

    @property
    def code(self) -> str:
        return self.community + self.seq


def grid_code(code: str, seq_width: int = 2) -> GridCode:
    """Parse a unit grid code of ``12 + seq_width`` digits (14, or 15 in Beijing)."""
    if seq_width not in (2, 3):
        raise ValueError(f"a grid sequence has 2 or 3 digits, not {seq_width}")
    _digits(code, 12 + seq_width, f"a grid code (sequence of {seq_width} digits)")
    community_code(code[:12])
    seq = code[12:]
    if int(seq) == 0:
        raise InvalidCode(f"grid code {code!r}: the sequence starts at 1, not {seq}")
    return GridCode(code[:6], code[:9], code[:12], seq)


def make_grid_code(community_code: str, seq: int, seq_width: int = 2) -> str:
    """The grid code of the ``seq``-th grid (from 1) of a community."""
    _check_community(community_code)
    if seq_width not in (2, 3):
        raise ValueError(f"a grid sequence has 2 or 3 digits, not {seq_width}")
    if not 1 <= seq < 10**seq_width:
        raise InvalidCode(f"grid sequence {seq} does not fit in {seq_width} digits (1..)")
    return f"{community_code}{seq:0{seq_width}d}"


class ComponentCode(NamedTuple):
    """A component code's parts."""

    district: str  # 6 digits
    big: str  # 2 digits, 01..06 or a city's extension class
    small: str  # 2 digits
    seq: str  # 6 digits

    @property
    def class_code(self) -> str:
        """The 4-digit component class code (big + small), as in the catalogue."""
        return self.big + self.small

    @property
    def code(self) -> str:
        return self.district + self.big + self.small + self.seq


def component_code(code: str) -> ComponentCode:
    """Parse a 16-digit component code: 6 district + 2 big + 2 small + 6 sequence."""
    _digits(code, 16, "a component code")
    district_code(code[:6])
    big, small, seq = code[6:8], code[8:10], code[10:]
    if big == "00" or small == "00":
        raise InvalidCode(f"component code {code!r}: big and small class cannot be 00")
    if int(seq) == 0:
        raise InvalidCode(f"component code {code!r}: the sequence starts at 1")
    return ComponentCode(code[:6], big, small, seq)


def _two_digits(value: str | int, what: str) -> str:
    text = f"{value:02d}" if isinstance(value, int) else value
    _digits(text, 2, what)
    if text == "00":
        raise InvalidCode(f"{what} cannot be 00")
    return text


def make_component_code(district: str, big: str | int, small: str | int, seq: int) -> str:
    """The 16-digit code of component number ``seq`` (from 1) of a class in a district."""
    district_code(district)
    big_s = _two_digits(big, "a big class")
    small_s = _two_digits(small, "a small class")
    if not 1 <= seq <= 999_999:
        raise InvalidCode(f"component sequence {seq} does not fit in 6 digits (1..999999)")
    return f"{district}{big_s}{small_s}{seq:06d}"


def event_class_code(code: str) -> str:
    """A 4-digit event class code, big + small (0102 暴露垃圾)."""
    _digits(code, 4, "an event class code")
    if code[:2] == "00" or code[2:] == "00":
        raise InvalidCode(f"event class code {code!r}: big and small class cannot be 00")
    return code


# --------------------------------------------------------------------------- citizen ID

_ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
_ID_CHECK = "10X98765432"


def citizen_id_check_char(first17: str) -> str:
    """The GB 11643 check character (ISO 7064 MOD 11-2) of the first 17 digits."""
    _digits(first17, 17, "the first 17 characters of a citizen ID")
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def citizen_id_valid(s: str) -> bool:
    """True for an 18-character GB 11643 citizen ID with a real birth date and check char."""
    if not isinstance(s, str) or len(s) != 18:
        return False
    first17, check = s[:17], s[17].upper()
    if not (first17.isascii() and first17.isdigit()) or first17[:2] not in PROVINCE_PREFIXES:
        return False
    try:
        born = date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    if born.year < 1850:
        return False
    return citizen_id_check_char(first17) == check


# --------------------------------------------------------------------------- masking

# Common two-character surnames (复姓): the whole surname stays visible.
_COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 司空 夏侯 令狐 端木 "
    "西门 独孤 南宫 轩辕 百里 呼延 澹台 公羊 万俟 闻人 申屠 太史 钟离 濮阳".split()
)


def mask_name(name: str) -> str:
    """Keep the surname, hide the given name: 张三丰 -> 张**, 欧阳修 -> 欧阳*."""
    if not name:
        return ""
    name = name.strip()
    keep = 2 if name[:2] in _COMPOUND_SURNAMES and len(name) > 2 else 1
    return name[:keep] + "*" * (len(name) - keep)


def mask_phone(phone: str) -> str:
    """Hide the middle of a phone number: 13812341234 -> 138****1234.

    A mobile number (11 digits from 1, optionally after +86) keeps its first 3 and last 4
    digits; any other number keeps only its last 4 digits, separators are kept.
    """
    if not phone:
        return ""
    text = phone.strip()
    digits = "".join(c for c in text if c.isdigit())
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) == 11 and digits[0] == "1":
        return f"{digits[:3]}****{digits[7:]}"
    total = sum(c.isdigit() for c in text)
    out, seen = [], 0
    for c in text:
        if c.isdigit():
            seen += 1
            out.append(c if seen > total - 4 and total > 4 else "*")
        else:
            out.append(c)
    return "".join(out)


def mask_citizen_id(citizen_id: str) -> str:
    """Keep the 6-digit region and the last 4 characters: 110101********123X."""
    if not citizen_id:
        return ""
    text = citizen_id.strip()
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]
