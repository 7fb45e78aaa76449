"""Server-side sessions: the cookie carries a random id, the database holds the session.

A Flask session interface over the table ``cc_sessions`` (migration ``0800_sessions``), so
that every process of a deployment sees the same sessions and the server can end one: logout
deletes its row, a password change, disabling a user and an admin's "sign out everywhere"
delete all of the user's rows (``revoke_user``), and a row past its expiry opens nothing.
A forged or stolen-after-logout cookie finds no row and is an anonymous visitor.

The cookie holds 256 random bits and nothing else; the table keys rows by the id's SHA-256,
so a copy of the table opens no session. The cookie is HttpOnly, SameSite=Lax and Secure
when ``CC_SECURE_COOKIES`` says the site is served over HTTPS. The id changes at sign-in
(``rotate``), so a session fixed by someone else before it never becomes theirs.

Flask-Session was considered: its SQL store needs Flask-SQLAlchemy, creates its table outside
the migrations and cannot find a user's sessions to revoke them. Flask-Login was too: the
user is loaded by ``command_center.auth.session_user``, which every caller (pages, Dash
callbacks) already uses and which re-reads the user from the database on each use; a second
notion of "current user" beside it would add nothing the server-side record does not give.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)
from werkzeug.datastructures import CallbackDict

metadata = MetaData()

sessions_t = Table(
    "cc_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", Integer, nullable=True),
    Column("data", Text, nullable=False, default="{}"),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
)

#: Where the signed-in user lives in the session (``command_center.auth.sign_in``).
USER_KEY = "cc_user"


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode("utf-8")).hexdigest()


class ServerSession(CallbackDict, SessionMixin):  # type: ignore[type-arg]
    """A session dict that knows its id and whether it changed."""

    def __init__(self, initial: dict[str, Any] | None = None, sid: str | None = None) -> None:
        def on_update(_: Any) -> None:
            self.modified = True
            self.accessed = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.new = sid is None
        self.modified = False
        self.rotated = False

    def rotate(self) -> None:
        """Give the session a new id when it is saved (at sign-in: no fixation)."""
        self.rotated = True
        self.modified = True


def rotate(session: Any) -> None:
    """Rotate ``session``'s id if it is a server-side one (a plain dict has none)."""
    if isinstance(session, ServerSession):
        session.rotate()


def revoke_user(conn: Connection, user_id: int) -> int:
    """End every session of the user ``user_id`` (inside the caller's transaction)."""
    return int(conn.execute(delete(sessions_t).where(sessions_t.c.user_id == user_id)).rowcount)


class DbSessionInterface(SessionInterface):
    """Flask sessions kept in ``cc_sessions``; ``clock`` is the app's clock, the same one
    that times a signed-in user's expiry, and ``minutes`` how long an anonymous session (a
    sign-in page's CSRF token) lives."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime], minutes: float) -> None:
        self.engine = engine
        self.clock = clock
        self.minutes = minutes

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        sid = request.cookies.get(self.get_cookie_name(app))
        if not sid or len(sid) > 128:
            return ServerSession()
        with self.engine.connect() as conn:
            row = conn.execute(
                select(sessions_t.c.data, sessions_t.c.expires_at).where(
                    sessions_t.c.id_hash == _hash(sid)
                )
            ).first()
        if row is None or row.expires_at <= self.clock():
            return ServerSession()  # unknown, revoked or expired: an anonymous visitor
        try:
            data = json.loads(row.data)
        except ValueError:
            data = {}
        return ServerSession(data if isinstance(data, dict) else {}, sid)

    def _expires(self, session: ServerSession, now: datetime) -> datetime:
        user = session.get(USER_KEY)
        if isinstance(user, dict) and user.get("expires"):
            try:
                return datetime.fromisoformat(user["expires"])
            except (TypeError, ValueError):
                pass
        return now + timedelta(minutes=self.minutes)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        if session.accessed:
            response.vary.add("Cookie")
        if not session.modified:
            return
        if not session:  # cleared (logout): the row goes, and the cookie with it
            if session.sid is not None:
                with self.engine.begin() as conn:
                    conn.execute(
                        delete(sessions_t).where(sessions_t.c.id_hash == _hash(session.sid))
                    )
                response.delete_cookie(name, domain=domain, path=path)
            return
        now = self.clock()
        user = session.get(USER_KEY)
        values = {
            "user_id": int(user["id"]) if isinstance(user, dict) and "id" in user else None,
            "data": json.dumps(dict(session), default=str),
            "expires_at": self._expires(session, now),
        }
        if session.sid is not None and not session.rotated:
            with self.engine.begin() as conn:
                found = conn.execute(
                    update(sessions_t)
                    .where(sessions_t.c.id_hash == _hash(session.sid))
                    .values(**values)
                ).rowcount
            if not found:  # revoked while this request ran: never bring it back
                response.delete_cookie(name, domain=domain, path=path)
            return
        sid = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            if session.sid is not None:
                conn.execute(delete(sessions_t).where(sessions_t.c.id_hash == _hash(session.sid)))
            conn.execute(delete(sessions_t).where(sessions_t.c.expires_at < now))
            conn.execute(insert(sessions_t).values(id_hash=_hash(sid), created_at=now, **values))
        session.sid, session.rotated = sid, False
        response.set_cookie(
            name,
            sid,
            domain=domain,
            path=path,
            httponly=self.get_cookie_httponly(app),
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
            partitioned=self.get_cookie_partitioned(app),
        )


def install_sessions(
    server: Flask, engine: Engine, clock: Callable[[], datetime], settings: Any
) -> None:
    """Serve ``server``'s sessions from the database with safe cookie flags."""
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings.secure_cookies),
    )
    server.session_interface = DbSessionInterface(engine, clock, settings.session_minutes)
