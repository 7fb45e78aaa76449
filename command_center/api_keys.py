"""Keys of the alarm API: one per sending system, scoped to its alarm source, stored hashed,
rotated and revoked from the CLI, limited in rate.

A key is ``cc_<key_id>_<secret>``. ``key_id`` is public: the CLI lists it and the audit
log and an acknowledgement name the key by it (``iot:3fa9c01b2d4e``). The secret is 256
random bits (``secrets``); only the SHA-256 of the whole key is kept (table
``cc_api_keys``, migration ``0810_api_keys``) and a presented key is compared with it in
constant time. A high-entropy key needs no slow password hash: nobody can guess it from
its hash, and checking it costs microseconds on the alarm ingest path.

``command-center apikeys add SOURCE [--name N]`` prints a new key once; ``rotate`` makes a
new key with the same source and name and revokes the old one; ``revoke`` ends a key;
``list`` shows them (never a secret). A process re-reads a key it knows at most every
``CACHE_SECONDS``: a key revoked from the CLI stops working within that time everywhere.

``CC_API_KEYS`` (``{"source": "key"}``) is still read, deprecated: each key is hashed at
start, kept in memory only, named ``<source>:env`` and logged as a warning. Move to the
store with ``apikeys add`` and empty the setting.

The per-key rate limit (``CC_API_RATE_LIMIT``, e.g. ``600/minute``) is counted by the
``limits`` package (the engine of Flask-Limiter) in Redis when ``CC_REDIS_URL`` is set (all
processes share the count), in memory otherwise. Requests with no valid key are counted
per client address, so guessing keys is limited too. When Redis cannot be reached the
request goes through (an alarm is never lost to the limiter) and the outage is logged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, Engine, Integer, String, Table, insert, select, update

from command_center.auth import metadata

log = logging.getLogger(__name__)

api_keys_t = Table(
    "cc_api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key_id", String(32), nullable=False, unique=True),
    Column("source", String(32), nullable=False),
    Column("name", String(64), nullable=False, default=""),
    Column("key_hash", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime, nullable=True),
)

PREFIX = "cc_"
#: How long a process trusts what it read about a key (a revocation's delay at most).
CACHE_SECONDS = 2.0
#: Key id of a key from the deprecated ``CC_API_KEYS`` setting.
ENV_KEY_ID = "env"


class ApiKeyError(ValueError):
    """A key that cannot be created, rotated or revoked (unknown id, bad source ...)."""


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    source: str
    name: str
    created_at: datetime | None
    revoked_at: datetime | None = None

    @property
    def identity(self) -> str:
        """Who acted, as the audit log and an acknowledgement record it."""
        return f"{self.source}:{self.key_id}"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def new_secret_key(key_id: str) -> str:
    return f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def key_id_of(presented: str) -> str | None:
    """The public id in ``cc_<key_id>_<secret>``, or None for another shape."""
    if not presented.startswith(PREFIX):
        return None
    key_id, sep, rest = presented[len(PREFIX) :].partition("_")
    return key_id if sep and key_id and rest else None


class ApiKeyStore:
    """Keys in the database (hashed) plus the deprecated ``CC_API_KEYS`` (hashed at start)."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], datetime],
        env_keys: dict[str, str] | None = None,
        cache_seconds: float = CACHE_SECONDS,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, ApiKey | None, str]] = {}
        self._lock = threading.Lock()
        self._env: list[tuple[str, ApiKey]] = [
            (digest(key), ApiKey(ENV_KEY_ID, source, "CC_API_KEYS", None))
            for source, key in (env_keys or {}).items()
            if key
        ]
        if self._env:
            log.warning(
                "CC_API_KEYS is deprecated (keys of %s): create keys with "
                "'command-center apikeys add SOURCE' and empty the setting",
                ", ".join(sorted(k.source for _h, k in self._env)),
            )

    # --- checking a presented key ---------------------------------------------------------
    def authenticate(self, presented: str | None) -> ApiKey | None:
        """The live key ``presented`` is, or None (missing, unknown, revoked)."""
        if not presented or len(presented) > 200:
            return None
        hashed = digest(presented)
        key_id = key_id_of(presented)
        if key_id is None:
            found: ApiKey | None = None
            for env_hash, env_key in self._env:  # every one: no early exit to time
                if hmac.compare_digest(env_hash, hashed):
                    found = env_key
            return found
        stored, stored_hash = self._lookup(key_id)
        if stored is None or not hmac.compare_digest(stored_hash, hashed):
            return None
        return stored if stored.revoked_at is None else None

    def _lookup(self, key_id: str) -> tuple[ApiKey | None, str]:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key_id)
        if hit is not None and now - hit[0] < self.cache_seconds:
            return hit[1], hit[2]
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys_t).where(api_keys_t.c.key_id == key_id)).first()
        key, stored_hash = (_key(row), row.key_hash) if row is not None else (None, "")
        with self._lock:
            if len(self._cache) > 10_000:  # ids made up by a guesser: forget them
                self._cache.clear()
            self._cache[key_id] = (now, key, stored_hash)
        return key, stored_hash

    # --- managing keys (the CLI) -----------------------------------------------------------
    def add(self, source: str, name: str = "") -> tuple[ApiKey, str]:
        """A new key for ``source``: the record and the key itself (shown once)."""
        source = source.strip()
        if not source or len(source) > 32 or not source.replace("_", "").replace("-", "").isalnum():
            raise ApiKeyError(f"来源名无效 / bad source name {source!r}")
        name = (name or source).strip()[:64]
        key_id = secrets.token_hex(6)
        secret = new_secret_key(key_id)
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(
                insert(api_keys_t).values(
                    key_id=key_id,
                    source=source,
                    name=name,
                    key_hash=digest(secret),
                    created_at=now,
                    revoked_at=None,
                )
            )
        return ApiKey(key_id, source, name, now), secret

    def get(self, ref: str) -> ApiKey:
        """A key by its id, or by its name when one live key has it."""
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys_t).where(api_keys_t.c.key_id == ref)).first()
            if row is None:
                rows = conn.execute(
                    select(api_keys_t).where(
                        api_keys_t.c.name == ref, api_keys_t.c.revoked_at.is_(None)
                    )
                ).all()
                if len(rows) > 1:
                    raise ApiKeyError(f"多个密钥名为 {ref} / several keys are named {ref!r}")
                row = rows[0] if rows else None
        if row is None:
            raise ApiKeyError(f"没有密钥 {ref} / no key {ref!r}")
        return _key(row)

    def revoke(self, ref: str) -> ApiKey:
        key = self.get(ref)
        if key.revoked_at is not None:
            return key
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(
                update(api_keys_t)
                .where(api_keys_t.c.key_id == key.key_id, api_keys_t.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        with self._lock:
            self._cache.pop(key.key_id, None)
        return ApiKey(key.key_id, key.source, key.name, key.created_at, now)

    def rotate(self, ref: str) -> tuple[ApiKey, str, ApiKey]:
        """A new key with the old one's source and name; the old one is revoked."""
        old = self.get(ref)
        if old.revoked_at is not None:
            raise ApiKeyError(f"密钥 {old.key_id} 已吊销 / key {old.key_id} is revoked")
        new, secret = self.add(old.source, old.name)
        return new, secret, self.revoke(old.key_id)

    def list(self, *, include_revoked: bool = True) -> list[ApiKey]:
        q = select(api_keys_t).order_by(api_keys_t.c.source, api_keys_t.c.created_at)
        if not include_revoked:
            q = q.where(api_keys_t.c.revoked_at.is_(None))
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return [_key(r) for r in rows]

    def env_keys(self) -> Iterable[ApiKey]:
        return [k for _h, k in self._env]


def _key(row: Any) -> ApiKey:
    return ApiKey(row.key_id, row.source, row.name or "", row.created_at, row.revoked_at)


# --------------------------------------------------------------------------- rate limit


class RateLimit:
    """``limit`` (``600/minute``, the ``limits`` notation) per key, moving window."""

    def __init__(self, limit: str, redis_url: str = "", prefix: str = "command-center") -> None:
        from limits import parse

        from command_center.login_limit import moving_window

        try:
            self.item = parse(limit)
        except ValueError as exc:
            raise ValueError(
                f"CC_API_RATE_LIMIT={limit!r} is not a rate such as 600/minute: {exc}"
            ) from None
        self.limiter = moving_window(redis_url)
        self.prefix = prefix
        self._warned = 0.0

    def hit(self, who: str) -> float | None:
        """Count one request by ``who``; None when it may go on, else the seconds until it
        may try again (for ``Retry-After``)."""
        try:
            if self.limiter.hit(self.item, self.prefix, "api", who):
                return None
            stats = self.limiter.get_window_stats(self.item, self.prefix, "api", who)
        except Exception as exc:  # noqa: BLE001 - an alarm is never lost to the limiter
            now = time.monotonic()
            if now - self._warned > 60:
                self._warned = now
                log.warning("API rate limit not counted (its store is down): %s", exc)
            return None
        return max(1.0, math.ceil(stats.reset_time - time.time()))


# --------------------------------------------------------------------------- CLI


def store_for(settings: Any, engine: Engine | None = None) -> ApiKeyStore:
    from command_center.domain.calendar import local_now

    if engine is None:
        from command_center.auth import _engine

        engine = _engine(settings)
    ensure_schema(engine, settings.effective_database_url)
    return ApiKeyStore(engine, clock=local_now)


def ensure_schema(engine: Engine, url: str) -> None:
    """Create the table on a database that predates it (idempotent)."""
    from sqlalchemy import inspect

    if not inspect(engine).has_table("cc_api_keys"):
        from adapters.sql.db import upgrade

        upgrade(url)


def cmd_apikeys(args: Any, settings: Any) -> int:
    """``command-center apikeys add|rotate|revoke|list``."""
    import sys

    store = store_for(settings)
    try:
        if args.apikeys_command == "add":
            key, secret = store.add(args.source, args.name or "")
            print(f"added {key.identity} ({key.name}); the key, shown only now:")
            print(secret)
        elif args.apikeys_command == "rotate":
            key, secret, old = store.rotate(args.key)
            print(f"{old.identity} revoked; new key {key.identity} ({key.name}), shown only now:")
            print(secret)
        elif args.apikeys_command == "revoke":
            key = store.revoke(args.key)
            print(f"{key.identity} ({key.name}) revoked")
        else:
            for k in store.list(include_revoked=args.all):
                state = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "active"
                made = f"{k.created_at:%Y-%m-%d %H:%M}" if k.created_at else ""
                print(f"{k.key_id:<14} {k.source:<10} {k.name:<20} {made:<17} {state}")
    except ApiKeyError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0


def add_cli(sub: Any) -> None:
    """The ``apikeys`` subcommand of ``command-center``."""
    keys = sub.add_parser("apikeys", help="keys of the alarm API (per source, hashed)")
    ksub = keys.add_subparsers(dest="apikeys_command", required=True)
    add = ksub.add_parser("add", help="create a key for a source; prints it once")
    add.add_argument("source", help="the alarm source the key may speak for, e.g. iot")
    add.add_argument("--name", help="a label, e.g. the gateway's name (default: the source)")
    rot = ksub.add_parser("rotate", help="replace a key (same source and name); prints it once")
    rot.add_argument("key", help="key id (or name of a single live key)")
    rev = ksub.add_parser("revoke", help="end a key at once")
    rev.add_argument("key", help="key id (or name of a single live key)")
    lst = ksub.add_parser("list", help="list keys (never their secrets)")
    lst.add_argument("--all", action="store_true", help="also revoked keys")
    keys.set_defaults(func=cmd_apikeys)
