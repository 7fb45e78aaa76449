"""The Flask secret: never a known default.

It signs the CSRF tokens of every form (and anything else Flask signs), so a value anyone can
read in the source or the README would let an outsider forge them. ``serve`` and gunicorn
refuse to start without a real one (``require_secret_key``); ``command-center demo``
generates a random one on first run and keeps it in ``CC_DATA_DIR`` (``demo_secret_key``).
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from command_center.key_files import private_value

log = logging.getLogger(__name__)

#: The shortest secret accepted: 32 characters (``secrets.token_urlsafe(32)`` makes 43).
MIN_LENGTH = 32
#: Values published in the source or the README at some time: never a secret.
KNOWN_DEFAULTS = frozenset({"change-me-in-production", "changeme", "secret", "dev"})
#: The demo's generated secret, in ``CC_DATA_DIR``.
DEMO_FILE = "secret_key"


class SecretKeyError(RuntimeError):
    """The configured secret cannot sign sessions (empty, a known default or too short)."""


def secret_key_problem(value: str) -> str | None:
    """Why ``value`` is no secret, or None when it may be used."""
    value = value.strip()
    if not value:
        return "CC_SECRET_KEY is not set"
    if value.lower() in KNOWN_DEFAULTS:
        return "CC_SECRET_KEY is a published default"
    if len(value) < MIN_LENGTH:
        return f"CC_SECRET_KEY is shorter than {MIN_LENGTH} characters"
    return None


def require_secret_key(value: str) -> None:
    """Raise ``SecretKeyError`` (naming ``CC_SECRET_KEY``) unless ``value`` is a real secret."""
    problem = secret_key_problem(value)
    if problem:
        raise SecretKeyError(
            f"{problem}: refusing to start. Set CC_SECRET_KEY to a random value of at least "
            f"{MIN_LENGTH} characters, e.g. "
            '`python -c "import secrets; print(secrets.token_urlsafe(32))"`, the same for '
            "every process of the deployment (`command-center demo` makes its own)."
        )


def demo_secret_key(data_dir: Path) -> str:
    """The demo's secret: read from ``data_dir/secret_key``, or generated there on first run
    (readable by its owner only, mode 0600) and reused afterwards."""
    path = Path(data_dir) / DEMO_FILE
    value, made = private_value(path, lambda: secrets.token_urlsafe(48))
    if made:
        log.info("generated the demo's secret key in %s (mode 0600)", path)
    elif secret_key_problem(value) is not None:
        log.warning("%s holds no usable secret: generating a new one", path)
        path.unlink()
        return demo_secret_key(data_dir)
    return value
