"""Who may act: users and roles in the embedded database, passwords, sessions.

A wall is a read-only kiosk: without a signed-in session it shows cases but offers no
action. A duty console signs in at ``/login``; the session (kept on the server, see
``command_center.sessions``: the cookie holds only a random id) carries the user's name and
an expiry (``CC_SESSION_MINUTES`` of inactivity), renewed on every request that acts.
Logout, a password change, disabling a user and ``users signout`` end the user's sessions.

Passwords are hashed with Argon2id (``argon2-cffi``, the algorithm of the Password Hashing
Competition and OWASP's first choice); a hash made with older parameters is re-hashed on the
next successful sign-in.

User roles (岗位) and their rights are the table of ``command_center.domain.roles``: each
acts as workflow roles of ``command_center.domain.workflow``, which decide its case actions
(separation of duties: the one who handles a case never closes it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError

from adapters.case.contract import CaseAction
from command_center.domain.calendar import local_now
from command_center.domain.roles import (
    BY_NAME,
    OTHER_RIGHTS,
    ROLE_NAMES,
    USER_ROLES,
    case_actions,
    own_cases_only,
    roles_with,
)
from command_center.sessions import USER_KEY, revoke_user

metadata = MetaData()

users_t = Table(
    "cc_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False, default=""),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime, nullable=False),
    # a 专业部门 user's department (migration 0310_user_department): its own cases only
    Column("department_code", String(20), nullable=False, default=""),
)

#: User roles, in the order the CLI lists them: the table of ``command_center.domain.roles``.
ROLES: tuple[str, ...] = ROLE_NAMES

#: User role -> the workflow roles it acts as in the hall (from the table).
WORKFLOW_ROLES: Mapping[str, frozenset[str]] = {r.name: r.acts_as for r in USER_ROLES}

#: User role -> case actions beyond its workflow roles' (a leader urges and supervises).
EXTRA_ACTIONS: Mapping[str, frozenset[CaseAction]] = {r.name: r.also for r in USER_ROLES}

#: Actions outside the case workflow and the user roles that may take them: 确认 an alarm,
#: 告警立案, 推送到大屏, the briefing export and the admin pages (see the table).
OTHER_ACTIONS: Mapping[str, frozenset[str]] = {name: roles_with(name) for name in OTHER_RIGHTS}

_hasher = PasswordHasher()

#: The newest tables of the collaboration migrations: a database without one of them is
#: brought up to date before use.
NEWEST_TABLES: tuple[str, ...] = ("cc_sessions", "cc_audit_head")
#: ... and the newest columns (table, column) of tables that already existed.
NEWEST_COLUMNS: tuple[tuple[str, str], ...] = (("cc_users", "department_code"),)


def schema_is_current(engine: Engine) -> bool:
    """Whether the database has the collaboration tables and columns this code reads."""
    from sqlalchemy import inspect

    insp = inspect(engine)
    if not all(insp.has_table(t) for t in NEWEST_TABLES):
        return False
    for table, column in NEWEST_COLUMNS:
        if column not in {c["name"] for c in insp.get_columns(table)}:
            return False
    return True


class AuthError(ValueError):
    """A user that cannot be created or changed (unknown role, duplicate name ...)."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    display_name: str
    role: str
    active: bool = True
    department_code: str = ""  # a 专业部门 user's department

    @property
    def label(self) -> str:
        return self.display_name or self.name


def actions_for_role(role: str) -> frozenset[CaseAction]:
    """The workflow actions a user of ``role`` may take."""
    return case_actions(role)


def may(user: User | None, action: CaseAction | str) -> bool:
    """Whether ``user`` (None: a kiosk without a session) may take ``action``: a workflow
    action (``CaseAction``) or one of ``OTHER_ACTIONS``. On which cases: ``owns`` (a
    专业部门 user acts on its own department's cases only)."""
    if user is None or not user.active:
        return False
    if isinstance(action, str) and action in OTHER_ACTIONS:
        return user.role in OTHER_ACTIONS[action]
    try:
        act = CaseAction(action)
    except ValueError:
        return False
    return act in actions_for_role(user.role)


def owns(user: User, case: Any) -> bool:
    """Whether ``case`` is within ``user``'s reach: every case, except for a role that acts
    on its own department's cases only (the case dispatched to the user's department)."""
    if not own_cases_only(user.role):
        return True
    return bool(user.department_code) and case.department_code == user.department_code


def hash_password(password: str) -> str:
    return _hasher.hash(password)


class UserStore:
    """Users in the embedded database (table ``cc_users``, migration ``0300_users_audit``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self,
        name: str,
        role: str,
        password: str,
        display_name: str = "",
        *,
        now: datetime,
        department_code: str = "",
    ) -> User:
        """Create a user; raises ``AuthError`` for an unknown role, an empty password, a
        name already taken, or a department role without its department."""
        name = name.strip()
        if not name:
            raise AuthError("用户名不能为空 / the user name is empty")
        if role not in ROLES:
            raise AuthError(f"未知岗位 {role!r} / unknown role; use one of {', '.join(ROLES)}")
        if len(password) < 8:
            raise AuthError("密码至少 8 位 / the password needs at least 8 characters")
        department_code = department_code.strip()
        if BY_NAME[role].own_cases and not department_code:
            raise AuthError(
                f"岗位 {role} 需指定部门 / role {role!r} needs --department (its department's code)"
            )
        try:
            with self.engine.begin() as conn:
                key = conn.execute(
                    insert(users_t).values(
                        name=name,
                        display_name=display_name,
                        role=role,
                        password_hash=hash_password(password),
                        active=True,
                        created_at=now,
                        department_code=department_code,
                    )
                ).inserted_primary_key
                assert key is not None  # an INSERT always has its key
                new_id = key[0]
        except IntegrityError:
            raise AuthError(f"用户 {name} 已存在 / user {name!r} exists") from None
        return User(int(new_id), name, display_name, role, department_code=department_code)

    def get(self, name: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users_t).where(users_t.c.name == name)).first()
        return _user(row) if row else None

    def list(self) -> list[User]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(users_t).order_by(users_t.c.name)).all()
        return [_user(r) for r in rows]

    def set_password(self, name: str, password: str) -> None:
        """Change ``name``'s password; every session of the user ends with the old one."""
        if len(password) < 8:
            raise AuthError("密码至少 8 位 / the password needs at least 8 characters")
        with self.engine.begin() as conn:
            done = conn.execute(
                update(users_t)
                .where(users_t.c.name == name)
                .values(password_hash=hash_password(password))
            ).rowcount
            if done:
                self._revoke(conn, name)
        if not done:
            raise AuthError(f"没有用户 {name} / no user {name!r}")

    def set_active(self, name: str, active: bool) -> None:
        """Enable or disable ``name``; disabling ends the user's sessions at once."""
        with self.engine.begin() as conn:
            conn.execute(update(users_t).where(users_t.c.name == name).values(active=active))
            if not active:
                self._revoke(conn, name)

    def sign_out_everywhere(self, name: str) -> int:
        """End every session of ``name`` (an admin's "sign out everywhere"); how many ended.
        Raises ``AuthError`` for an unknown user."""
        with self.engine.begin() as conn:
            ended = self._revoke(conn, name)
        if ended is None:
            raise AuthError(f"没有用户 {name} / no user {name!r}")
        return ended

    @staticmethod
    def _revoke(conn: Any, name: str) -> int | None:
        user_id = conn.execute(select(users_t.c.id).where(users_t.c.name == name)).scalar()
        return None if user_id is None else revoke_user(conn, int(user_id))

    def verify(self, name: str, password: str) -> User | None:
        """The active user ``name`` if ``password`` is theirs, else None (same answer for an
        unknown name and a wrong password, so a sign-in page does not reveal who exists)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(users_t).where(users_t.c.name == name, users_t.c.active == true())
            ).first()
        if row is None:
            _hasher.hash(password)  # same work either way: no timing oracle for names
            return None
        try:
            _hasher.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if _hasher.check_needs_rehash(row.password_hash):
            with self.engine.begin() as conn:
                conn.execute(
                    update(users_t)
                    .where(users_t.c.id == row.id)
                    .values(password_hash=hash_password(password))
                )
        return _user(row)


def _user(row: Any) -> User:
    return User(
        int(row.id),
        row.name,
        row.display_name or "",
        row.role,
        bool(row.active),
        row.department_code or "",
    )


# --------------------------------------------------------------------------- sessions

SESSION_KEY = USER_KEY


def sign_in(session: Any, user: User, minutes: float, now: datetime) -> None:
    """Put ``user`` in the (server-side) Flask ``session`` until ``minutes`` from now."""
    session[SESSION_KEY] = {
        "name": user.name,
        "role": user.role,
        "display_name": user.display_name,
        "id": user.id,
        "department_code": user.department_code,
        "expires": (now + timedelta(minutes=minutes)).isoformat(),
    }
    if hasattr(session, "permanent"):
        session.permanent = False  # a browser session cookie; our own expiry governs


def sign_out(session: Any) -> None:
    session.pop(SESSION_KEY, None)


def session_user(
    session: Any, now: datetime, *, minutes: float | None = None, store: UserStore | None = None
) -> User | None:
    """The signed-in user of ``session``, or None when there is none or it expired.

    With ``minutes``, a live session is renewed (sliding expiry); with ``store``, a user who
    was deactivated or whose role changed since signing in is re-read from the database.
    """
    data = session.get(SESSION_KEY) if session is not None else None
    if not data:
        return None
    try:
        expires = datetime.fromisoformat(data["expires"])
    except (KeyError, TypeError, ValueError):
        return None
    if now >= expires:
        sign_out(session)
        return None
    user = User(
        int(data["id"]),
        data["name"],
        data.get("display_name", ""),
        data["role"],
        department_code=data.get("department_code", ""),
    )
    if store is not None:
        current = store.get(user.name)
        if current is None or not current.active:
            sign_out(session)
            return None
        user = current
    if minutes is not None:
        sign_in(session, user, minutes, now)
    return user


# --------------------------------------------------------------------------- CLI


def _engine(settings: Any) -> Engine:
    from adapters.sql.db import make_engine, upgrade

    url = settings.effective_database_url
    engine = make_engine(url)
    if not schema_is_current(engine):
        upgrade(url)
    return engine


def cmd_users(args: Any, settings: Any) -> int:
    """``command-center users add|list|passwd|disable|signout|roles``."""
    import getpass
    import sys

    if args.users_command == "roles":  # the table of docs/roles.md; no database needed
        from command_center.domain.roles import rights_markdown

        print(rights_markdown(), end="")
        return 0
    store = UserStore(_engine(settings))
    if args.users_command == "list":
        for u in store.list():
            state = "" if u.active else "  (disabled)"
            where = f" [{u.department_code}]" if u.department_code else ""
            print(f"{u.name:<20} {u.role:<14} {u.display_name}{where}{state}")
        return 0
    password = getattr(args, "password", None)
    if args.users_command in ("add", "passwd") and not password:
        password = getpass.getpass("password: ")
    try:
        if args.users_command == "add":
            user = store.add(
                args.name,
                args.role,
                password or "",
                args.display_name or "",
                now=local_now(),
                department_code=args.department or "",
            )
            where = f", {user.department_code}" if user.department_code else ""
            print(f"added {user.name} ({user.role}{where})")
        elif args.users_command == "passwd":
            store.set_password(args.name, password or "")
            print(f"password of {args.name} changed")
        elif args.users_command == "disable":
            store.set_active(args.name, False)
            print(f"{args.name} disabled")
        elif args.users_command == "signout":
            ended = store.sign_out_everywhere(args.name)
            print(f"{args.name}: {ended} session(s) ended")
    except AuthError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0


def cmd_audit(args: Any, settings: Any) -> int:
    """``command-center audit [--case ID] [--user NAME] [--limit N]``: newest first;
    ``command-center audit verify``: the hash chain, exit 1 at its first broken link."""
    import sys

    from command_center.audit import AuditLog, audit_key

    log = AuditLog(_engine(settings), audit_key(settings))
    if args.audit_command == "verify":
        result = log.verify()
        print(result.describe(), file=sys.stdout if result.ok else sys.stderr)
        return 0 if result.ok else 1
    for e in log.entries(limit=args.limit, case_id=args.case, user_name=args.user):
        print(
            f"{e.at:%Y-%m-%d %H:%M:%S}  {e.user_name:<12} {e.role:<13} {e.action:<12} "
            f"case={e.case_id or '-':<8} {e.result:<8} {e.screen}  {e.detail}"
        )
    return 0


def cmd_contacts(args: Any, settings: Any) -> int:
    """``command-center contacts set DEPT MOBILE [--name N]`` / ``contacts list``: who gets
    the SMS notices of a department's cases."""
    from command_center.sms_queue import SmsQueue

    queue = SmsQueue(_engine(settings), lambda: None, local_now)  # type: ignore[arg-type,return-value]
    if args.contacts_command == "set":
        queue.set_contact(args.department, args.mobile, args.name or "")
        print(f"{args.department}: {args.mobile}")
        return 0
    for c in queue.contacts():
        print(f"{c.department_code:<12} {c.mobile:<14} {c.contact_name}")
    return 0


def add_cli(sub: Any) -> None:
    """The ``users``, ``audit`` and ``contacts`` subcommands of ``command-center``."""
    users = sub.add_parser("users", help="duty-console users and roles")
    usub = users.add_subparsers(dest="users_command", required=True)
    add = usub.add_parser("add", help="create a user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--password", help="asked for when omitted")
    add.add_argument("--display-name", dest="display_name")
    add.add_argument(
        "--department", help="the department code a department (专业部门) user acts for"
    )
    usub.add_parser("list", help="list users")
    usub.add_parser("roles", help="print the roles and their rights (the table of docs/roles.md)")
    pw = usub.add_parser("passwd", help="set a user's password")
    pw.add_argument("name")
    pw.add_argument("--password")
    dis = usub.add_parser("disable", help="disable a user (sessions end at once)")
    dis.add_argument("name")
    out = usub.add_parser("signout", help="end every session of a user (sign out everywhere)")
    out.add_argument("name")
    users.set_defaults(func=cmd_users)

    audit = sub.add_parser(
        "audit", help="read the audit log, newest first; `audit verify` checks its hash chain"
    )
    audit.add_argument(
        "audit_command",
        nargs="?",
        choices=["verify"],
        help="verify: walk the hash chain, name the first broken link (exit 1 when broken)",
    )
    audit.add_argument("--case", type=int)
    audit.add_argument("--user")
    audit.add_argument("--limit", type=int, default=100)
    audit.set_defaults(func=cmd_audit)

    contacts = sub.add_parser("contacts", help="SMS contacts of departments")
    csub = contacts.add_subparsers(dest="contacts_command", required=True)
    cset = csub.add_parser("set", help="set a department's contact mobile")
    cset.add_argument("department")
    cset.add_argument("mobile")
    cset.add_argument("--name")
    csub.add_parser("list", help="list contacts")
    contacts.set_defaults(func=cmd_contacts)
