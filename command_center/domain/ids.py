"""Record ids as the databases hold them: positive 64-bit integers.

An id from outside (a URL, a JSON body, a browser's store) that is not one names no record:
``record_id`` says so with None instead of letting a 10**30 reach the database driver
(``OverflowError``) or a ``"1e3"`` reach ``int()`` (``ValueError``).
"""

from __future__ import annotations

from typing import Any

#: The largest id a database integer column holds (SQLite INTEGER, PostgreSQL BIGINT).
MAX_ID = 2**63 - 1


def record_id(value: Any) -> int | None:
    """``value`` as a record id (an int or a string of digits in 1..MAX_ID), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text.isascii() or not text.isdigit() or len(text) > 19:
            return None
        value = int(text)
    if not isinstance(value, int):
        return None
    return value if 1 <= value <= MAX_ID else None
