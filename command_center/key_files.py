"""Private key files in ``CC_DATA_DIR``: made once, readable by their owner only.

The demo's Flask secret and the audit chain's HMAC key are both random values that every
process of one host must share and that must never be readable by others. The first process
to need one writes it to a temporary file of mode 0600 and publishes it with ``os.link``,
which refuses to overwrite: a racing process loses, reads the winner's value, and no reader
ever sees a half-written file.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path


def private_value(path: Path, generate: Callable[[], str]) -> tuple[str, bool]:
    """The value kept in ``path`` (stripped), and whether this call created it from
    ``generate()``. A file others could read is narrowed to mode 0600."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(generate() + "\n")
        try:
            os.link(tmp, path)
            return path.read_text(encoding="utf-8").strip(), True
        except FileExistsError:
            pass  # another process was first: its value is the one
        finally:
            tmp.unlink()
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)  # an older copy or a careless umask: owner only
    return path.read_text(encoding="utf-8").strip(), False
