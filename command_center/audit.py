"""The append-only, tamper-evident audit log: who did what, when, from which screen, on which
case, with which result.

Every duty-officer action (successful, refused or failed), every sign-in and every reveal
of personal data is written here. The table refuses UPDATE and DELETE by a database trigger
(migration ``0300_users_audit``), and on PostgreSQL the app's role may be given INSERT and
SELECT only (``scripts/audit_pg_roles.sql``). Since whoever owns the table (or holds the
SQLite file) can still drop that trigger, every row also carries a **hash chain** (migration
``0820_audit_chain``):

``hash = HMAC-SHA256(key, [id, at, user_name, role, action, screen, case_id, result, detail,
prev_hash])`` where ``prev_hash`` is the previous row's ``hash`` ("" for the first). The key
is not in the database (``CC_AUDIT_KEY``, or ``<CC_DATA_DIR>/audit.key`` generated on first
use with mode 0600), so a row inserted with the app's own database role cannot carry a valid
hash. The time is the server's clock at the insert, never a client's. ``cc_audit_head``
keeps the count, last id and last hash (tagged with the same key): a truncated table is told
apart from a short one. Appends are serialised (SQLite ``BEGIN IMMEDIATE``, PostgreSQL a
transaction-scoped advisory lock), so threads and processes build one chain.

``AuditLog.verify`` walks the chain and names the first broken link: a changed row, a
missing row (gap), an inserted row, a truncated table or a changed head. Rows written before
the chain existed are sealed once, at the first append after the migration (the app's first
start does one): a ``audit_chain_start`` row carries their count and SHA-256 digest.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    text,
    update,
)

from command_center.auth import metadata
from command_center.key_files import private_value

log = logging.getLogger(__name__)

audit_t = Table(
    "cc_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("user_name", String(64), nullable=False),
    Column("role", String(20), nullable=False, default=""),
    Column("action", String(40), nullable=False),
    Column("screen", String(64), nullable=False, default=""),
    Column("case_id", Integer, nullable=True),
    Column("result", String(16), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("prev_hash", String(64), nullable=True),
    Column("hash", String(64), nullable=True),
)

#: One row (id 1): how far the chain goes, tagged with the key.
head_t = Table(
    "cc_audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_id", Integer, nullable=False),
    Column("entries", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("tag", String(64), nullable=False),
)

#: Results an entry can have.
OK, REFUSED, FAILED = "ok", "refused", "failed"

#: The action of the row that seals the entries written before the chain existed.
CHAIN_START = "audit_chain_start"
#: The action of the row written when the head record was found missing.
CHAIN_RESUMED = "audit_chain_resumed"
KEY_FILE = "audit.key"
#: Any constant: the PostgreSQL advisory lock that serialises appends to the chain.
PG_LOCK = 0x63635F61  # "cc_a"
BATCH = 2000


def audit_key(settings: Any) -> bytes:
    """The chain's HMAC key: ``CC_AUDIT_KEY``, else ``<data_dir>/audit.key`` (created with
    32 random bytes and mode 0600 when missing; every process of one host shares it; set
    ``CC_AUDIT_KEY`` to the same value on every host of a deployment)."""
    if settings.audit_key:
        return str(settings.audit_key).encode()
    path = Path(settings.data_dir) / KEY_FILE
    value, made = private_value(path, lambda: secrets.token_hex(32))
    if made:
        log.warning("generated the audit-log key %s: back it up, or set CC_AUDIT_KEY", path)
    if len(value) < 32:  # never replaced: a new key would orphan every entry made so far
        raise ValueError(f"{path}: the audit key is too short (want 64 hex digits)")
    return value.encode()


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    user_name: str
    role: str
    action: str
    screen: str
    case_id: int | None
    result: str
    detail: str


@dataclass(frozen=True)
class Checkpoint:
    """Where a verification got to: the last good row, and how many rows up to it."""

    last_id: int
    last_hash: str
    count: int


#: Kinds of broken link ``Verification.problem`` names.
CHANGED, MISSING, INSERTED, TRUNCATED, HEAD, UNSEALED = (
    "changed",
    "missing",
    "inserted",
    "truncated",
    "head",
    "unsealed",
)


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked_at: datetime
    #: the last id verified good (0: none), and the chain's length up to it
    verified_id: int
    count: int
    #: the first broken link: its id, what is wrong (CHANGED, MISSING, ...), in words
    broken_id: int | None = None
    problem: str = ""
    detail: str = ""
    checkpoint: Checkpoint | None = None

    def describe(self) -> str:
        if self.ok:
            return f"verified: {self.count} entries up to id {self.verified_id}"
        where = "" if self.broken_id is None else f" at id {self.broken_id}"
        return f"BROKEN{where}: {self.problem}: {self.detail}"


def _at(value: datetime) -> str:
    return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _canonical(row: Any) -> list[Any]:
    return [
        int(row.id),
        _at(row.at),
        row.user_name,
        row.role,
        row.action,
        row.screen,
        None if row.case_id is None else int(row.case_id),
        row.result,
        row.detail,
    ]


def _mac(key: bytes, payload: list[Any]) -> str:
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def _legacy_digest(rows: list[Any]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps(_canonical(row), ensure_ascii=False).encode() + b"\n")
    return digest.hexdigest()


class AuditLog:
    def __init__(
        self,
        engine: Engine,
        key: bytes,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``key``: the chain's HMAC key, ``audit_key(settings)`` of the running app (every
        writer must use the same one, so it is never guessed here); ``clock``: the server's
        clock (default: local wall time)."""
        self.engine = engine
        self.key = key
        if clock is None:
            from command_center.services import now

            clock = now
        self.clock: Callable[[], datetime] = clock

    # --- writing -------------------------------------------------------------------------
    def row_hash(self, row: Any, prev_hash: str) -> str:
        return _mac(self.key, [*_canonical(row), prev_hash])

    def head_tag(self, last_id: int, count: int, last_hash: str) -> str:
        return _mac(self.key, ["head", int(last_id), int(count), last_hash])

    def record(
        self,
        *,
        user_name: str,
        action: str,
        result: str,
        role: str = "",
        screen: str = "",
        case_id: int | None = None,
        detail: str = "",
        at: datetime | None = None,
    ) -> int:
        """Append one entry; returns its id. Its time is the server's clock now: ``at`` is
        accepted from older callers and ignored (a caller's time is never trusted)."""
        _ = at
        with self._append() as conn:
            return self._append_row(
                conn,
                user_name=user_name[:64],
                role=role[:20],
                action=action[:40],
                screen=screen[:64],
                case_id=case_id,
                result=result[:16],
                detail=detail[:2000],
            )

    def seal(self) -> None:
        """Seal the rows written before the chain existed (once; the app's start calls it)."""
        with self._append() as conn:
            if conn.execute(select(head_t.c.id)).first() is None:
                self._start_chain(conn)

    def _append(self) -> Any:
        """A transaction that holds the chain's write lock until it commits."""
        return _Appending(self.engine)

    def _append_row(self, conn: Connection, **values: Any) -> int:
        head = conn.execute(select(head_t).where(head_t.c.id == 1)).first()
        if head is None:
            prev, count = self._start_chain(conn)
        else:
            prev, count = head.last_hash, int(head.entries)
        new_id = self._next_id(conn)
        row = AuditEntry(id=new_id, at=self.clock(), **values)
        digest = self.row_hash(row, prev)
        conn.execute(
            insert(audit_t).values(
                id=new_id,
                at=row.at.replace(tzinfo=None),
                prev_hash=prev,
                hash=digest,
                **values,
            )
        )
        self._set_head(conn, new_id, count + 1, digest, exists=True)
        return new_id

    def _next_id(self, conn: Connection) -> int:
        top = conn.execute(select(func.max(audit_t.c.id))).scalar() or 0
        if conn.dialect.name == "postgresql":
            # the sequence stays in step (the app's role has USAGE on it); a row someone put
            # above it with an explicit id cannot block the log
            seq = conn.execute(
                text("SELECT nextval(pg_get_serial_sequence('cc_audit', 'id'))")
            ).scalar()
            return max(int(seq or 0), int(top) + 1)
        return int(top) + 1

    def _set_head(
        self, conn: Connection, last_id: int, count: int, last_hash: str, *, exists: bool
    ) -> None:
        values = {
            "last_id": last_id,
            "entries": count,
            "last_hash": last_hash,
            "tag": self.head_tag(last_id, count, last_hash),
        }
        if exists:
            conn.execute(update(head_t).where(head_t.c.id == 1).values(**values))
        else:
            conn.execute(insert(head_t).values(id=1, **values))

    def _start_chain(self, conn: Connection) -> tuple[str, int]:
        """No head yet: seal the rows without a hash (written before the chain existed) in
        one chained row, or, when chained rows exist (the head was deleted), say so in a
        row and continue after the last of them. Returns (prev hash, count)."""
        last = conn.execute(
            select(audit_t).where(audit_t.c.hash.is_not(None)).order_by(audit_t.c.id.desc())
        ).first()
        if last is not None:
            count = conn.execute(
                select(func.count()).select_from(audit_t).where(audit_t.c.hash.is_not(None))
            ).scalar_one()
            self._set_head(conn, int(last.id), int(count), last.hash, exists=False)
            self._append_row(
                conn,
                user_name="(system)",
                role="",
                action=CHAIN_RESUMED,
                screen="",
                case_id=None,
                result=FAILED,
                detail=f"链头记录缺失，自 #{last.id} 续接 / the chain's head record was "
                f"missing; continued after id {last.id}",
            )
            head = conn.execute(select(head_t)).one()
            return head.last_hash, int(head.entries)
        legacy = list(conn.execute(select(audit_t).order_by(audit_t.c.id)).all())
        self._set_head(conn, 0, 0, "", exists=False)
        if not legacy:
            return "", 0
        self._append_row(
            conn,
            user_name="(system)",
            role="",
            action=CHAIN_START,
            screen="",
            case_id=None,
            result=OK,
            detail=_seal_detail(len(legacy), int(legacy[-1].id), _legacy_digest(legacy)),
        )
        head = conn.execute(select(head_t)).one()
        return head.last_hash, int(head.entries)

    # --- reading -------------------------------------------------------------------------
    def entries(
        self,
        *,
        limit: int = 200,
        case_id: int | None = None,
        user_name: str | None = None,
        since: datetime | None = None,
    ) -> list[AuditEntry]:
        """The newest entries first, optionally for one case, one user or since a time."""
        q = select(audit_t).order_by(audit_t.c.id.desc()).limit(limit)
        if case_id is not None:
            q = q.where(audit_t.c.case_id == case_id)
        if user_name:
            q = q.where(audit_t.c.user_name == user_name)
        if since is not None:
            q = q.where(audit_t.c.at >= since)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return [
            AuditEntry(
                int(r.id),
                r.at,
                r.user_name,
                r.role,
                r.action,
                r.screen,
                r.case_id,
                r.result,
                r.detail,
            )
            for r in rows
        ]

    # --- verifying -----------------------------------------------------------------------
    def verify(self, since: Checkpoint | None = None) -> Verification:
        """Walk the chain (from ``since``, a previous good result's checkpoint, else from the
        start) in one consistent snapshot; the first broken link is named."""
        if since is not None and since.last_id == 0:
            since = None  # an empty log's checkpoint: start from the beginning
        with _snapshot(self.engine) as conn:
            return _Walk(self, conn, since).run()


def _seal_detail(count: int, last_id: int, digest: str) -> str:
    return (
        f"封存链前记录 {count} 条 / sealed {count} earlier entries up to id {last_id} "
        f"sha256={digest}"
    )


class _Appending:
    """``with``: a connection in a transaction that holds the chain's write lock."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __enter__(self) -> Connection:
        opts = {"sqlite_immediate": True} if self.engine.dialect.name == "sqlite" else {}
        self.conn = self.engine.connect().execution_options(**opts)
        self.tx = self.conn.begin()
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK})
        return self.conn

    def __exit__(self, exc_type: object, *_rest: object) -> None:
        try:
            if exc_type is None:
                self.tx.commit()
            else:
                self.tx.rollback()
        finally:
            self.conn.close()


class _snapshot:  # noqa: N801 - used like a function
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __enter__(self) -> Connection:
        self.conn = self.engine.connect()
        if self.conn.dialect.name == "postgresql":
            self.conn = self.conn.execution_options(isolation_level="REPEATABLE READ")
        self.tx = self.conn.begin()
        return self.conn

    def __exit__(self, *_exc: object) -> None:
        try:
            self.tx.rollback()
        finally:
            self.conn.close()


class _Walk:
    def __init__(self, log: AuditLog, conn: Connection, since: Checkpoint | None) -> None:
        self.log, self.conn, self.since = log, conn, since
        self.now = log.clock()

    def broken(self, good: Checkpoint, broken_id: int | None, problem: str, detail: str):  # noqa: ANN201
        return Verification(
            False, self.now, good.last_id, good.count, broken_id, problem, detail, good
        )

    def rows(self, after: int) -> Iterator[Any]:
        while True:
            batch = self.conn.execute(
                select(audit_t).where(audit_t.c.id > after).order_by(audit_t.c.id).limit(BATCH)
            ).all()
            yield from batch
            if len(batch) < BATCH:
                return
            after = int(batch[-1].id)

    def run(self) -> Verification:
        conn, log = self.conn, self.log
        head = conn.execute(select(head_t).where(head_t.c.id == 1)).first()
        good = self.since or Checkpoint(0, "", 0)
        if self.since is not None:
            row = conn.execute(select(audit_t).where(audit_t.c.id == self.since.last_id)).first()
            if row is None or row.hash != self.since.last_hash:
                what = "is gone" if row is None else "has changed since it was verified"
                return self.broken(
                    Checkpoint(0, "", 0),
                    self.since.last_id,
                    TRUNCATED if row is None else CHANGED,
                    f"row {self.since.last_id}, verified before, {what}",
                )
        if head is not None and head.tag != log.head_tag(
            head.last_id, head.entries, head.last_hash
        ):
            return self.broken(good, None, HEAD, "the head record was changed (its tag is wrong)")
        legacy: list[Any] = []
        it = iter(self.rows(good.last_id))
        pending: Any = next(it, None)
        while pending is not None:
            row, pending = pending, next(it, None)
            if row.hash is None:
                if good.count == 0 and self.since is None:  # written before the chain
                    legacy.append(row)
                    continue
                return self.broken(
                    good, int(row.id), INSERTED, "no hash: this row was not written by the app"
                )
            content_ok = hmac.compare_digest(log.row_hash(row, row.prev_hash or ""), row.hash)
            link_ok = (row.prev_hash or "") == good.last_hash
            if content_ok and link_ok:
                if good.count == 0 and (legacy or row.action == CHAIN_START):
                    problem = self._check_seal(row, legacy)
                    if problem:
                        return self.broken(good, int(row.id), CHANGED, problem)
                if row.action == CHAIN_RESUMED:  # the app found the head gone
                    return self.broken(
                        good, int(row.id), HEAD, f"the head record was deleted before id {row.id}"
                    )
                good = Checkpoint(int(row.id), row.hash, good.count + 1)
                continue
            if content_ok:  # a genuine row whose predecessor is not the last good one
                gap = (good.last_id + 1, int(row.id) - 1)
                if gap[0] <= gap[1]:
                    span = f"{gap[0]}" if gap[0] == gap[1] else f"{gap[0]}–{gap[1]}"
                    return self.broken(
                        good, gap[0], MISSING, f"row(s) {span} missing before id {row.id}"
                    )
                return self.broken(
                    good,
                    int(row.id),
                    MISSING,
                    f"row {row.id} does not follow id {good.last_id}: a row before it is missing",
                )
            # the row's content does not match its hash
            if pending is not None and (pending.prev_hash or "") == good.last_hash:
                problem, why = INSERTED, "not part of the chain (the next row skips it)"
            elif pending is None and head is not None and head.last_hash == good.last_hash:
                problem, why = INSERTED, "added after the chain's last entry, not by the app"
            else:
                problem, why = CHANGED, "its content does not match its hash"
            return self.broken(good, int(row.id), problem, f"row {row.id}: {why}")
        if legacy and good.count == 0:
            return self.broken(
                good,
                int(legacy[0].id),
                UNSEALED,
                f"{len(legacy)} entries not chained yet (the app seals them at start)",
            )
        if head is None:
            if good.count == 0:
                return Verification(True, self.now, 0, 0, checkpoint=good)
            return self.broken(good, None, HEAD, "the head record is missing")
        if int(head.entries) > good.count or int(head.last_id) > good.last_id:
            return self.broken(
                good,
                good.last_id + 1,
                TRUNCATED,
                f"the head records {head.entries} entries up to id {head.last_id}; "
                f"the table ends at id {good.last_id} with {good.count}",
            )
        if int(head.entries) != good.count or head.last_hash != good.last_hash:
            return self.broken(
                good,
                int(head.last_id),
                HEAD,
                f"the head ({head.entries} entries up to id {head.last_id}) is behind the "
                f"table ({good.count} up to id {good.last_id})",
            )
        return Verification(True, self.now, good.last_id, good.count, checkpoint=good)

    def _check_seal(self, row: Any, legacy: list[Any]) -> str:
        if row.action != CHAIN_START:
            return f"row {row.id} starts the chain but entries before it were never sealed"
        expected = _seal_detail(
            len(legacy), int(legacy[-1].id) if legacy else 0, _legacy_digest(legacy)
        )
        if row.detail != expected:
            return (
                f"the {len(legacy)} entries before id {row.id} differ from the "
                "ones it sealed (changed, added or missing)"
            )
        return ""
