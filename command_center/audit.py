"""The append-only audit log: who did what, when, from which screen, on which case, with
which result.

Every duty-officer action (successful, refused or failed), every sign-in and every reveal
of personal data is written here. The table refuses UPDATE and DELETE by a database trigger
(migration ``0300_users_audit``), so the log cannot be edited after the fact by any client.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, DateTime, Engine, Integer, String, Table, Text, insert, select

from command_center.auth import metadata

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
)

#: Results an entry can have.
OK, REFUSED, FAILED = "ok", "refused", "failed"


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


class AuditLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(
        self,
        *,
        at: datetime,
        user_name: str,
        action: str,
        result: str,
        role: str = "",
        screen: str = "",
        case_id: int | None = None,
        detail: str = "",
    ) -> int:
        """Append one entry; returns its id."""
        with self.engine.begin() as conn:
            key = conn.execute(
                insert(audit_t).values(
                    at=at,
                    user_name=user_name,
                    role=role,
                    action=action,
                    screen=screen,
                    case_id=case_id,
                    result=result,
                    detail=detail[:2000],
                )
            ).inserted_primary_key
            assert key is not None  # an INSERT always has its key
            new_id = key[0]
        return int(new_id)

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
