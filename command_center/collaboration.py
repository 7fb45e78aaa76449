"""业务协同 collaboration: what a duty officer does to a case, and what the console shows.

``Collaboration`` is the one service the duty console's callbacks talk to:

- ``perform``: one workflow action by a signed-in user, checked against the user's role,
  applied through the case adapter (``DataServices.act``: transaction, event bus), written to
  the audit log whatever its outcome, and followed by an SMS notice to the department for
  dispatch, urge and escalate (queued: a gateway that is down never blocks the case);
- ``drawer``: everything the case drawer shows (class, place, history, SLA clock, the actions
  this user may take from the case's state, suggested departments with their time limit,
  SMS delivery);
- ``queue``: open cases per step with filters and working-hour SLA countdowns;
- ``department_board``: workload per department and today's funnel;
- ``put_on_wall`` / ``wall_focus``: a case or region sent from the console to a wall.

``install_collaboration(cc)`` wires it into the app (tables, sign-in routes, callbacks).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from adapters.base import AdapterError, NotFound
from adapters.case.contract import (
    Case,
    CaseAction,
    CaseDetail,
    CaseFilter,
    CaseSource,
    CaseStatus,
    Department,
    NewCase,
    NewPhoto,
    PhotoKind,
    SlaState,
)
from command_center import events
from command_center.audit import FAILED, OK, REFUSED, AuditLog, audit_key
from command_center.auth import User, UserStore, actions_for_role, may, owns, schema_is_current
from command_center.domain.calendar import WorkingCalendar, load_calendar, remaining_time
from command_center.domain.classes import CaseClass, Catalogue, load_catalogue
from command_center.domain.indicators import indicators
from command_center.domain.roles import CASE_FROM_ALARM, own_cases_only
from command_center.domain.workflow import (
    DEFAULT_MAX_EXTENSIONS,
    OPEN_STATUSES,
    TransitionError,
    allowed_actions,
)
from command_center.i18n import Term, one_language, t
from command_center.photos import PhotoRefused, photo_from_upload, register_photo_routes
from command_center.sms_queue import QueuedSms, SmsQueue

log = logging.getLogger(__name__)

#: The queue's steps (待受理 … 待结案) and the statuses waiting in each.
QUEUE_STEPS: tuple[tuple[str, tuple[CaseStatus, ...]], ...] = (
    ("accept", (CaseStatus.REPORTED,)),
    ("confirm", (CaseStatus.CONFIRMING,)),  # 待核实: where 核实 is a stage of its own
    ("register", (CaseStatus.ACCEPTED,)),
    ("dispatch", (CaseStatus.REGISTERED,)),
    ("handle", (CaseStatus.DISPATCHED,)),
    ("verify", (CaseStatus.HANDLED,)),
    ("close", (CaseStatus.VERIFIED,)),
)
STEP_OF_STATUS: dict[CaseStatus, str] = {s: step for step, sts in QUEUE_STEPS for s in sts}

#: Actions that notify whoever holds the case by SMS: the department once dispatched.
SMS_ACTIONS = frozenset({CaseAction.DISPATCH, CaseAction.URGE, CaseAction.ESCALATE})

#: Who holds a case in each open status: the department it is dispatched to, or a desk of the
#: command centre (the workflow role whose SMS contacts are set with ``contacts set ROLE``):
#: 催办 and 督办 press the holder, at every stage.
HOLDER_OF_STATUS: dict[CaseStatus, str] = {
    CaseStatus.REPORTED: "acceptor",  # 受理员: to accept
    CaseStatus.CONFIRMING: "supervisor",  # 监督员: to confirm on site
    CaseStatus.ACCEPTED: "shift_leader",  # 值班长: to register
    CaseStatus.REGISTERED: "dispatcher",  # 派遣员: to dispatch
    CaseStatus.DISPATCHED: "department",  # the case's department: to handle
    CaseStatus.HANDLED: "supervisor",  # 监督员: to verify on site
    CaseStatus.VERIFIED: "shift_leader",  # 值班长: to close
}

#: Actions an officer may send a photo with, and what the photo documents: 处置反馈 shows the
#: site handled, 核查 (passed, or sent back for rework) shows what the supervisor found.
PHOTO_ACTIONS = {
    CaseAction.REPORT_BACK: PhotoKind.AFTER,
    CaseAction.VERIFY: PhotoKind.VERIFY,
    CaseAction.REWORK: PhotoKind.VERIFY,
}

WALL_FOCUS = "wall.focus"  # event topic: payload {screen, case_id | region_code, until}


@dataclass(frozen=True)
class ActionOutcome:
    ok: bool
    message: str  # for the officer: what happened, or why nothing did (Chinese; the log's)
    case: Case | None = None
    sms_ids: list[int] = field(default_factory=list)
    key: str = ""  # the message's catalogue key, for ``text``
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str = "zh") -> str:
        """The message in ``lang``, as the screen that asked shows it."""
        if self.key:
            return t(self.key, lang, **self.params)
        return one_language(self.message, lang)

    @classmethod
    def said(cls, ok: bool, key: str, case: Case | None = None, **params: Any) -> ActionOutcome:
        return cls(ok, t(key, **params), case, key=key, params=params)

    @classmethod
    def of_error(cls, exc: BaseException) -> ActionOutcome:
        """A refusal that tells what ``exc`` says, in the screen's language."""
        key = getattr(exc, "cc_key", "")
        if key:
            return cls.said(False, key, **getattr(exc, "cc_params", {}))
        return cls(False, str(exc))


@dataclass(frozen=True)
class DepartmentChoice:
    department: Department
    reason: str  # "owner" (属主), "territorial" (属地) or "" for the rest of the list
    suggested: bool


@dataclass(frozen=True)
class SlaClock:
    """A countdown the browser can tick: ``remaining_s`` working (or wall-clock) seconds at
    ``as_of``; it runs only until ``runs_until`` (end of the current working period)."""

    deadline: datetime
    remaining_s: float
    as_of: datetime
    runs_until: datetime | None  # None: it runs on (wall-clock limit); as_of: paused now
    state: SlaState | None
    limit_text: str


@dataclass
class DrawerData:
    detail: CaseDetail
    case_class: CaseClass | None
    actions: list[CaseAction]  # allowed from the state AND for this user
    state_actions: list[CaseAction]  # allowed from the state (what a kiosk may not do)
    departments: list[DepartmentChoice]
    limit_text: str
    clock: SlaClock | None
    sms: list[QueuedSms]
    user: User | None
    masters: list[Case] = field(default_factory=list)  # where a duplicate may be merged
    merged_into: Case | None = None  # a merged duplicate's master


@dataclass
class QueueItem:
    case: Case
    step: str
    clock: SlaClock | None
    department_name: str = ""


#: Queue orders: the most pressing first, newest or oldest report first, by class.
QUEUE_SORTS = ("deadline", "newest", "oldest", "class")


@dataclass
class WallFocus:
    screen: str
    case_id: int | None
    region_code: str | None
    until: float  # time.monotonic() deadline
    seq: int
    by: str = ""


class Collaboration:
    def __init__(
        self,
        services: Any,
        engine: Any,
        settings: Any,
        *,
        clock: Callable[[], datetime] | None = None,
        sms: Callable[[], Any] | None = None,
        alarms: Callable[[], Any] | None = None,
    ) -> None:
        self.services = services
        self.alarms = alarms or (lambda: None)
        self.engine = engine
        self.settings = settings
        self.clock = clock or services.clock
        self.users = UserStore(engine)
        self.audit = AuditLog(engine, audit_key(settings), clock=self.clock)
        self.sms = SmsQueue(
            engine,
            sms or (lambda: services.adapters.sms),
            self.clock,
            retry_seconds=settings.sms_retry_seconds,
            max_attempts=settings.sms_max_attempts,
        )
        self.catalogue: Catalogue = load_catalogue(settings.case_classes_file)
        self.calendar: WorkingCalendar = load_calendar(
            settings.calendar_file, settings.workday_start, settings.workday_end
        )
        self.max_extensions = int(
            settings.case_options.get("max_extensions", DEFAULT_MAX_EXTENSIONS)
        )
        self.verify_stage = bool(settings.workflow_verify_stage)
        self._focus: dict[str, WallFocus] = {}
        self._focus_seq = 0
        self._focus_lock = threading.Lock()
        services.bus.subscribe(WALL_FOCUS, self._on_focus)

    # --- actions ------------------------------------------------------------------------
    def perform(
        self,
        user: User | None,
        case_id: int,
        action: CaseAction | str,
        note: str = "",
        *,
        screen: str = "",
        department_code: str | None = None,
        extend_hours: float | None = None,
        expected_status: CaseStatus | str | None = None,
        photo: bytes | None = None,
        master_case_id: int | None = None,
    ) -> ActionOutcome:
        """One action by ``user`` on a case. Never raises for a refused action: the outcome
        says why, the case is unchanged and the refusal is audited like a success.

        ``photo`` (an uploaded image) goes with 处置反馈, 核查 and 返工 (``PHOTO_ACTIONS``);
        it is checked before the action, so an unreadable image refuses the action.
        ``master_case_id`` is the open case a duplicate is merged into (合并)."""
        name = user.name if user else "(kiosk)"
        role = user.role if user else ""
        try:
            act = CaseAction(action)
        except ValueError:
            why = ActionOutcome.said(False, "collab.unknown_action", action=str(action))
            return self._refuse(name, role, str(action), screen, case_id, why)
        if user is None:
            why = ActionOutcome.said(False, "collab.sign_in_first")
            return self._refuse(name, role, act.value, screen, case_id, why)
        if not may(user, act):
            why = ActionOutcome.said(False, "collab.role_may_not")
            return self._refuse(name, role, act.value, screen, case_id, why)
        if own_cases_only(user.role):
            try:
                mine = owns(user, self.services.case_detail(case_id).case)
            except NotFound as exc:
                return self._refuse(name, role, act.value, screen, case_id, exc)
            if not mine:
                why = ActionOutcome.said(
                    False, "collab.not_own_department", department=user.department_code or "—"
                )
                return self._refuse(name, role, act.value, screen, case_id, why)
        kw: dict[str, Any] = {}
        if department_code:
            kw["department_code"] = department_code
        if extend_hours:
            kw["extend_hours"] = float(extend_hours)
        if expected_status is not None:
            kw["expected_status"] = CaseStatus(expected_status)
        if act is CaseAction.MERGE:
            if not master_case_id:
                why = ActionOutcome.said(False, "collab.pick_master")
                return self._refuse(name, role, act.value, screen, case_id, why)
            kw["master_case_id"] = int(master_case_id)
        new_photo: NewPhoto | None = None
        if photo:
            if act not in PHOTO_ACTIONS:
                why = ActionOutcome.said(
                    False, "collab.no_photo_with", action=Term(f"action.{act.value}")
                )
                return self._refuse(name, role, act.value, screen, case_id, why)
            try:
                new_photo = photo_from_upload(photo, PHOTO_ACTIONS[act], user.label)
            except PhotoRefused as exc:
                return self._refuse(name, role, act.value, screen, case_id, exc)
        detail = note
        try:
            case = self.services.act(case_id, act, user.name, note, **kw)
        except (TransitionError, NotFound, AdapterError) as exc:
            return self._refuse(name, role, act.value, screen, case_id, exc)
        except Exception as exc:  # noqa: BLE001 - a backend failure is shown, not raised
            log.exception("case action %s on %s failed", act, case_id)
            self.audit.record(
                at=self.clock(),
                user_name=name,
                role=role,
                action=act.value,
                screen=screen,
                case_id=case_id,
                result=FAILED,
                detail=f"{type(exc).__name__}: {exc}",
            )
            return ActionOutcome.said(False, "collab.failed", error=one_language(str(exc)))
        if department_code:
            detail = f"{note} [{department_code}]".strip()
        if act is CaseAction.MERGE:
            detail = f"{note} {t('collab.audit_merged', id=master_case_id)}".strip()
        remark: ActionOutcome | None = None
        if new_photo is not None:
            try:
                stored = self.services.adapters.case.add_photo(case_id, new_photo)
                detail = f"{detail} {t('collab.audit_photo', id=stored.id)}".strip()
            except AdapterError as exc:  # the action stands; the officer is told
                remark = ActionOutcome.said(False, "collab.photo_not_stored", error=str(exc))
                detail = f"{detail} {t('collab.audit_photo_lost')}".strip()
        sms_ids = self._notify(case, act) if act in SMS_ACTIONS else []
        if act in (CaseAction.URGE, CaseAction.ESCALATE):  # whom it pressed, at which stage
            notice = f"→ {self.holder(case)} @ {case.status.value}, {len(sms_ids)} SMS"
            detail = f"{detail} [{notice}]".strip()
        self.audit.record(
            at=self.clock(),
            user_name=name,
            role=role,
            action=act.value,
            screen=screen,
            case_id=case_id,
            result=OK,
            detail=detail,
        )
        if remark is not None:
            return ActionOutcome(True, remark.message, case, sms_ids, remark.key, remark.params)
        return ActionOutcome(True, "", case, sms_ids)

    def _refuse(
        self,
        name: str,
        role: str,
        action: str,
        screen: str,
        case_id: int | None,
        why: ActionOutcome | BaseException,
    ) -> ActionOutcome:
        """Audit a refusal (its detail: the log's words) and return what the officer sees."""
        outcome = why if isinstance(why, ActionOutcome) else ActionOutcome.of_error(why)
        detail = str(why) if isinstance(why, BaseException) else outcome.message
        self.audit.record(
            at=self.clock(),
            user_name=name,
            role=role,
            action=action,
            screen=screen,
            case_id=case_id,
            result=REFUSED,
            detail=detail,
        )
        return outcome

    @staticmethod
    def holder(case: Case) -> str:
        """Who holds ``case`` now: its department's code while it is dispatched, else the
        desk (workflow role) the case waits for; "" for a final case."""
        desk = HOLDER_OF_STATUS.get(case.status, "")
        if desk == "department":
            return case.department_code or ""
        return desk

    def holder_name(self, case: Case, lang: str = "zh") -> str:
        desk = HOLDER_OF_STATUS.get(case.status, "")
        if desk == "department":
            return self.department_name(case.department_code)
        return t(f"workflow.holder.{desk}", lang) if desk else ""

    def _notify(self, case: Case, action: CaseAction) -> list[int]:
        """The SMS to whoever holds the case: the department (its templates name its
        deadline), or the desk of the command centre it waits at (``*_desk`` templates)."""
        holder = self.holder(case)
        at_desk = HOLDER_OF_STATUS.get(case.status) != "department"
        key = f"{action.value}_desk" if at_desk else action.value
        template = self.settings.sms_action_templates.get(key)
        if not template or not holder:
            return []
        params = {
            "number": case.number,
            "class_name": case.class_name,
            "department": self.holder_name(case),
            # an SMS to a department is in the city's language
            "deadline": t(
                "collab.sms_deadline",
                month=case.deadline.month,
                day=case.deadline.day,
                time=f"{case.deadline:%H:%M}",
            )
            if case.deadline
            else "",
            "place": case.address or case.grid_code,
            "step": self.step_name(case),
        }
        try:
            return self.sms.enqueue(
                department_code=holder,
                template_id=template,
                params=params,
                case_id=case.id,
                action=action.value,
            )
        except Exception:  # noqa: BLE001 - the case action stands even if queueing fails
            log.exception("could not queue the SMS for case %s", case.id)
            return []

    @staticmethod
    def step_name(case: Case, lang: str = "zh") -> str:
        """The queue step a case waits at (待受理, 待核实 …), for the desk's SMS."""
        step = STEP_OF_STATUS.get(case.status)
        return t(f"duty.step.{step}", lang) if step else ""

    def merge_candidates(self, case: Case, limit: int = 20) -> list[Case]:
        """Open cases a duplicate report may be merged into: of the same class in the same
        community, newest first (the same grid first), never the case itself."""
        flt = CaseFilter(
            region_code=case.community_code,
            kind=case.kind,
            class_codes=[case.class_code],
            open_only=True,
            limit=limit + 1,
        )
        found = [c for c in self.services.cases(flt).value if c.id != case.id]
        found.sort(key=lambda c: c.grid_code != case.grid_code)  # stable: newest first kept
        return found[:limit]

    # --- from alarm to case ---------------------------------------------------------------
    def case_from_alarm(
        self, user: User | None, alarm_id: int, *, screen: str = "", note: str = ""
    ) -> ActionOutcome:
        """Turn an alarm with no case into one: class, place and evidence (source, camera,
        title) pre-filled; the alarm is linked to the case and acknowledged at once; the
        case is accepted and registered as far as the user's role allows (the alarm's
        evidence is the on-site confirmation; where 核实 is a stage of its own, only a
        supervisor's role records it), so the next click can dispatch it."""
        name = user.name if user else "(kiosk)"
        role = user.role if user else ""
        alarms = self.alarms()
        if alarms is None:
            return ActionOutcome.said(False, "collab.no_alarm_service")
        if user is None:
            why = ActionOutcome.said(False, "collab.sign_in_first")
            return self._refuse(name, role, "case_from_alarm", screen, None, why)
        if not may(user, CASE_FROM_ALARM):
            why = ActionOutcome.said(False, "collab.role_may_not_register")
            return self._refuse(name, role, "case_from_alarm", screen, None, why)
        try:
            alarm = alarms.store.get(alarm_id)
        except Exception as exc:  # noqa: BLE001 - an unknown id
            log.info("no alarm %s: %s", alarm_id, exc)
            return ActionOutcome.said(False, "collab.no_alarm", id=alarm_id)
        if alarm.case_id:
            case = self.services.case_detail(int(alarm.case_id)).case
            return ActionOutcome(True, "", case)
        source = {"video": CaseSource.VIDEO, "iot": CaseSource.IOT}.get(
            alarm.source, CaseSource.SUPERVISOR
        )
        # the case's own record, in the city's language (zh), as every case description is
        evidence = t(
            "collab.evidence",
            id=alarm.id,
            at=f"{alarm.at:%m-%d %H:%M}",
            source=alarm.source,
            source_id=alarm.source_id,
        )
        if alarm.camera_id:
            evidence += " " + t("collab.evidence_camera", camera=alarm.camera_id)
        new = NewCase(
            kind="event",
            class_code=alarm.class_code,
            source=source,
            description=t("collab.description", title=alarm.title, evidence=evidence)
            + (f" {note}" if note else ""),
            lon=alarm.lon,
            lat=alarm.lat,
            grid_code=alarm.grid_code,
            address=self.services.grid_address(alarm.grid_code, alarm.lon, alarm.lat),
            reporter=user.name,
            external_id=f"alarm-{alarm.id}",
            urgent=alarm.level in ("critical", "emergency"),
            photos=self._camera_evidence(alarm),
        )
        try:
            case = self.services.adapters.case.report_case(new)
        except AdapterError as exc:
            return self._refuse(name, role, "case_from_alarm", screen, None, exc)
        self.services.bus.publish(
            events.CASE_REPORTED,
            {"case_id": case.id, "number": case.number, "grid_code": case.grid_code},
        )
        self._link_alarm(alarms, alarm.id, case.id)
        try:
            alarms.acknowledge(alarm.id, user.name, t("collab.ack_note", number=case.number))
        except Exception:  # noqa: BLE001 - the case exists; the ack can be repeated by hand
            log.exception("could not acknowledge alarm %s", alarm.id)
        self.audit.record(
            at=self.clock(),
            user_name=name,
            role=role,
            action="case_from_alarm",
            screen=screen,
            case_id=case.id,
            result=OK,
            detail=evidence,
        )
        # where 核实 is a stage, it is a supervisor's: another role stops at 待核实
        steps = [CaseAction.ACCEPT, CaseAction.CONFIRM, CaseAction.REGISTER]
        for step in steps if self.verify_stage else steps[::2]:
            if not may(user, step):
                break
            done = self.perform(user, case.id, step, t("collab.from_alarm_note"), screen=screen)
            if not done.ok:
                break
            case = done.case or case
        return ActionOutcome(True, "", case)

    def _camera_evidence(self, alarm: Any) -> list[NewPhoto]:
        """The alarm's camera still, as the case's evidence photo (取证); none when the alarm
        has no camera or the video platform cannot give one now (the case is made anyway)."""
        if not alarm.camera_id:
            return []
        try:
            still = self.services.adapters.video.snapshot(alarm.camera_id)
            return [
                photo_from_upload(
                    still,
                    PhotoKind.EVIDENCE,
                    str(alarm.camera_id),
                    caption=t(
                        "collab.evidence_caption",
                        id=alarm.id,
                        title=alarm.title,
                        camera=alarm.camera_id,
                    ),
                )
            ]
        except Exception as exc:  # noqa: BLE001 - evidence is welcome, never required
            log.warning("no snapshot of camera %s for alarm %s: %s", alarm.camera_id, alarm.id, exc)
            return []

    @staticmethod
    def _link_alarm(alarms: Any, alarm_id: int, case_id: int) -> None:
        """Record the case on the alarm (its ``case_id`` column), once."""
        from sqlalchemy import text

        with alarms.store.engine.begin() as conn:
            conn.execute(
                text("UPDATE alarms SET case_id = :c WHERE id = :a AND case_id IS NULL"),
                {"c": case_id, "a": alarm_id},
            )

    def linked_alarms(self, case_id: int) -> list[dict[str, Any]]:
        """Alarms linked to a case (open or acknowledged), newest first."""
        alarms = self.alarms()
        if alarms is None:
            return []
        from sqlalchemy import text

        with alarms.store.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, at, title, level, status FROM alarms WHERE case_id = :c "
                    "ORDER BY id DESC LIMIT 20"
                ),
                {"c": case_id},
            ).all()
        return [
            {"id": r.id, "at": str(r.at)[5:16], "label": r.title, "level": r.level} for r in rows
        ]

    def alarm(self, alarm_id: int) -> Any:
        """One alarm (for the drawer's alarm card), or None without an alarm service."""
        alarms = self.alarms()
        return alarms.store.get(alarm_id) if alarms is not None else None

    # --- the drawer ---------------------------------------------------------------------
    def case_class(self, case: Case) -> CaseClass | None:
        return self.catalogue.find(case.kind, case.class_code)

    def class_title(self, kind: str, code: str, lang: str = "zh") -> str:
        """ "大类 · 小类" of a class in ``lang`` (the catalogue's English names where it has
        them), or "" for a class the catalogue does not know."""
        cls = self.catalogue.find(kind, code)
        if cls is None:
            return ""
        if lang == "en" and cls.name_en:
            big = self.catalogue.big_class_name_en(kind, cls.big_code) or cls.big_name
            return f"{big} · {cls.name_en}"
        return f"{cls.big_name} · {cls.name}"

    def limit_text(self, cls: CaseClass | None, urgent: bool, lang: str = "zh") -> str:
        if cls is None:
            return ""
        limit = cls.limit_for(urgent)
        return t(f"collab.limit.{limit.unit}", lang, n=f"{limit.amount:g}")

    def department_name(self, code: str | None) -> str:
        if not code:
            return ""
        for dep in self.departments():
            if dep.code == code:
                return dep.name
        return code

    def departments(self) -> list[Department]:
        try:
            return list(self.services.departments().value)
        except Exception:  # noqa: BLE001 - a drawer without a list still opens
            return []

    def suggested_departments(self, case: Case) -> list[DepartmentChoice]:
        """Departments for dispatch, the responsible ones first: 部件先属主后属地 (a component
        goes first to its owner department, then the street), 事件先属地后属主 (an event
        first to its street, then the professional department)."""
        cls = self.case_class(case)
        owner = cls.default_department if cls else ""
        territorial = case.street_code
        order = [(owner, "owner"), (territorial, "territorial")]
        if case.kind != "component":
            order.reverse()
        all_deps = {d.code: d for d in self.departments()}
        choices: list[DepartmentChoice] = []
        seen: set[str] = set()
        for code, reason in order:
            if code and code in all_deps and code not in seen:
                choices.append(DepartmentChoice(all_deps[code], reason, True))
                seen.add(code)
        for code, dep in all_deps.items():
            if code not in seen:
                choices.append(DepartmentChoice(dep, "", False))
        return choices

    def sla_clock(self, case: Case, now: datetime | None = None) -> SlaClock | None:
        """The countdown of the case's current clock (None when no clock runs)."""
        if case.deadline is None or case.status not in OPEN_STATUSES:
            return None
        cls = self.case_class(case)
        if cls is None:
            return None
        now = now or self.clock()
        limit = cls.limit_for(case.urgent)
        if limit.unit == "hours":
            remaining = (case.deadline - now).total_seconds()
            runs_until = None
        else:
            # working seconds left, positive or negative (overdue time counts working hours too)
            remaining = remaining_time(case.deadline, now, limit, self.calendar) * 3600
            if limit.unit == "work_days":
                remaining *= self.calendar.hours_per_day
            if case.deadline < now:
                remaining = -self.calendar.working_hours_between(case.deadline, now) * 3600
            runs_until = self._working_until(now)
        return SlaClock(
            case.deadline, remaining, now, runs_until, case.sla_state, self.limit_text(cls, False)
        )

    def _working_until(self, now: datetime) -> datetime:
        """The end of the working period ``now`` is in, or ``now`` itself when off duty."""
        cal = self.calendar
        if not cal.is_working_day(now.date()):
            return now
        start = datetime.combine(now.date(), cal.day_start)
        end = datetime.combine(now.date(), cal.day_end)
        return end if start <= now < end else now

    def drawer(self, case_id: int, user: User | None) -> DrawerData:
        """What the drawer shows of one case for ``user`` (None: a read-only kiosk)."""
        detail = self.services.case_detail(case_id)
        case = detail.case
        cls = self.case_class(case)
        extensions = 1 if case.extended else 0
        state_actions = allowed_actions(
            case.status,
            extensions=extensions,
            max_extensions=self.max_extensions,
            verify_stage=self.verify_stage,
        )
        mine = actions_for_role(user.role) if user and owns(user, case) else frozenset()
        actions = [a for a in state_actions if a in mine]
        deps = self.suggested_departments(case) if CaseAction.DISPATCH in actions else []
        masters = self.merge_candidates(case) if CaseAction.MERGE in actions else []
        merged_into = None
        if case.merged_into:
            try:
                merged_into = self.services.case_detail(case.merged_into).case
            except Exception:  # noqa: BLE001 - the drawer opens without the link
                merged_into = None
        return DrawerData(
            detail=detail,
            case_class=cls,
            actions=actions,
            state_actions=state_actions,
            departments=deps,
            limit_text=self.limit_text(cls, case.urgent),
            clock=self.sla_clock(case),
            sms=self.sms.for_case(case_id),
            user=user,
            masters=masters,
            merged_into=merged_into,
        )

    # --- the queue ----------------------------------------------------------------------
    def queue(
        self,
        *,
        region_code: str | None = None,
        department_code: str | None = None,
        class_codes: Sequence[str] | None = None,
        sources: Sequence[str] | None = None,
        urgent_only: bool = False,
        level: str | None = None,
        sort: str = "deadline",
        limit: int | None = None,
        clock_rows: int | None = None,
    ) -> dict[str, list[QueueItem]]:
        """Open cases per step. ``level``: "overdue", "due_soon" or "urgent" only.
        ``sort``: "deadline" (overdue first, then by deadline, then oldest report),
        "newest", "oldest" or "class"."""
        flt = CaseFilter(
            region_code=region_code or None,
            open_only=True,
            department_code=department_code or None,
            class_codes=list(class_codes) if class_codes else None,
            sources=list(sources) if sources else None,  # type: ignore[arg-type]
            limit=limit,
            newest_first=False,
        )
        cases = self.services.cases(flt).value
        now = self.clock()
        out: dict[str, list[QueueItem]] = {step: [] for step, _ in QUEUE_STEPS}
        if not self.verify_stage:
            out.pop("confirm")  # no such step, unless cases still wait there (below)
        names = {d.code: d.name for d in self.departments()}
        urgent_only = urgent_only or level == "urgent"
        wanted_sla = {"overdue": SlaState.OVERDUE, "due_soon": SlaState.DUE_SOON}.get(level or "")
        for case in cases:
            step = STEP_OF_STATUS.get(case.status)
            if step is None or (urgent_only and not case.urgent):
                continue
            out.setdefault(step, [])
            if wanted_sla is not None and case.sla_state != wanted_sla:
                continue
            dep = names.get(case.department_code or "", case.department_code or "")
            out[step].append(QueueItem(case, step, None, dep))
        far = datetime.max
        for items in out.values():
            if sort == "newest":
                items.sort(key=lambda i: i.case.reported_at, reverse=True)
            elif sort == "oldest":
                items.sort(key=lambda i: i.case.reported_at)
            elif sort == "class":
                items.sort(key=lambda i: (i.case.kind, i.case.class_code, i.case.reported_at))
            else:
                items.sort(
                    key=lambda i: (
                        i.case.sla_state != SlaState.OVERDUE,
                        i.case.deadline or far,
                        i.case.reported_at,
                    )
                )
            # Clocks cost a calendar walk each: only for the rows a screen will show.
            for item in items[:clock_rows] if clock_rows is not None else items:
                item.clock = self.sla_clock(item.case, now)
        return out

    # --- the department board -----------------------------------------------------------
    def department_board(self, region_code: str | None = None) -> dict[str, Any]:
        """Workload per department (open, due soon, overdue, 平均处置时长 in working and
        wall-clock hours over 30 days) and today's funnel (reported → registered →
        dispatched → closed)."""
        case_adapter = self.services.adapters.case
        now = self.clock()
        today = datetime.combine(now.date(), datetime.min.time())
        open_cases = self.services.cases(
            CaseFilter(region_code=region_code, open_only=True, limit=None)
        ).value
        rows: dict[str, dict[str, Any]] = {}
        for case in open_cases:
            if not case.department_code or case.status not in OPEN_STATUSES:
                continue
            row = rows.setdefault(
                case.department_code,
                {"code": case.department_code, "open": 0, "due_soon": 0, "overdue": 0},
            )
            row["open"] += 1
            if case.sla_state == SlaState.DUE_SOON:
                row["due_soon"] += 1
            elif case.sla_state == SlaState.OVERDUE:
                row["overdue"] += 1
        # 平均处置时长 (``domain.indicators``: last dispatch to last report-back, in working
        # and wall-clock hours) of the cases reported in the last 30 days: the appraisal's
        # definition, read from the rollups
        since = today - timedelta(days=30)
        handling = case_adapter.case_stats(
            ["department_code"],
            CaseFilter(
                region_code=region_code,
                since=since,
                limit=None,
                counters=["handling_timed", "handling_seconds", "handling_work_seconds"],
            ),
        )
        for stats in handling:
            code = stats.key.get("department_code")
            if not code or not stats.handling_timed:
                continue
            ind = indicators(stats)
            row = rows.setdefault(code, {"code": code, "open": 0, "due_soon": 0, "overdue": 0})
            row["avg_hours"] = ind["avg_handling_hours"]
            row["avg_work_hours"] = ind["avg_handling_work_hours"]
        names = {d.code: d.name for d in self.departments()}
        board = []
        for row in rows.values():
            row.setdefault("avg_hours", None)
            row.setdefault("avg_work_hours", None)
            row["name"] = names.get(row["code"], row["code"])
            board.append(row)
        board.sort(key=lambda r: (-r["overdue"], -r["open"], r["code"]))
        stats = case_adapter.case_stats(
            [], CaseFilter(region_code=region_code, since=today, limit=None)
        )
        t = stats[0] if stats else None
        funnel = {
            "reported": t.reported if t else 0,
            "registered": t.registered if t else 0,
            "dispatched": t.dispatched if t else 0,
            "closed": t.closed if t else 0,
        }
        return {"departments": board, "funnel": funnel}

    # --- wall focus ---------------------------------------------------------------------
    def put_on_wall(
        self,
        user: User | None,
        *,
        screen: str = "main",
        case_id: int | None = None,
        region_code: str | None = None,
        seconds: float = 60.0,
        from_screen: str = "",
    ) -> ActionOutcome:
        """Show a case or a region on ``screen`` for ``seconds``: its map flies there, a
        case card shows, or the whole wall follows the region; then the wall returns to its
        tour. Needs a signed-in user; an unknown region is refused.

        The focus travels as a ``wall.focus`` event, so with Redis every process of the
        deployment shows it on the walls it serves."""
        if user is None:
            return ActionOutcome.said(False, "collab.sign_in_first")
        if not may(user, "put_on_wall"):
            why = ActionOutcome.said(False, "collab.role_may_not")
            return self._refuse(user.name, user.role, "put_on_wall", from_screen, case_id, why)
        if case_id is None and not region_code:
            return ActionOutcome.said(False, "collab.pick_case_or_region")
        region_name = ""
        if region_code:
            try:
                region_name = self.services.region(region_code).value.name
            except Exception:  # noqa: BLE001 - an unknown code, or the GIS backend is down
                return self._refuse(
                    user.name,
                    user.role,
                    "put_on_wall",
                    from_screen,
                    None,
                    ActionOutcome.said(False, "collab.no_region", code=region_code),
                )
        with self._focus_lock:
            # unique across processes and restarts: the wall only compares it to the last
            self._focus_seq = max(self._focus_seq + 1, time.time_ns() // 1_000_000)
            seq = self._focus_seq
        self.audit.record(
            at=self.clock(),
            user_name=user.name,
            role=user.role,
            action="put_on_wall",
            screen=from_screen,
            case_id=case_id,
            result=OK,
            detail=f"{screen} {region_code or ''} {region_name}".strip(),
        )
        self.services.bus.publish(
            WALL_FOCUS,
            {
                "screen": screen,
                "case_id": case_id,
                "region_code": region_code or None,
                "seconds": seconds,
                "seq": seq,
                "by": user.label,
            },
        )
        return ActionOutcome(True, region_name)

    def region_summary(self, region_code: str) -> dict[str, int]:
        """What a wall's region card says: open and overdue cases now, reports today."""
        today = datetime.combine(self.clock().date(), datetime.min.time())
        case_adapter = self.services.adapters.case
        [total] = case_adapter.case_stats([], CaseFilter(region_code=region_code, limit=None))
        [daily] = case_adapter.case_stats(
            [], CaseFilter(region_code=region_code, since=today, limit=None)
        )
        return {"open": total.open, "overdue": total.overdue_open, "today": daily.reported}

    def _on_focus(self, _topic: str, payload: dict[str, Any]) -> None:
        """Remember a focus put on a wall (by this process or, through Redis, another)."""
        focus = WallFocus(
            screen=str(payload.get("screen") or "main"),
            case_id=int(payload["case_id"]) if payload.get("case_id") else None,
            region_code=payload.get("region_code") or None,
            until=time.monotonic() + float(payload.get("seconds") or 60.0),
            seq=int(payload.get("seq") or 0),
            by=str(payload.get("by") or ""),
        )
        with self._focus_lock:
            self._focus[focus.screen] = focus

    def wall_focus(self, screen: str) -> WallFocus | None:
        """The focus a wall should show now, or None (expired or never set)."""
        with self._focus_lock:
            focus = self._focus.get(screen)
        if focus is None or focus.until < time.monotonic():
            return None
        return focus


def install_collaboration(cc: Any, *, start: bool = True) -> Collaboration:
    """Add the collaboration service, sign-in routes and the duty console's callbacks;
    ``start`` runs the SMS sender thread (stopped with the app)."""
    from adapters.sql.db import make_engine, upgrade

    url = cc.settings.effective_database_url
    engine = make_engine(url)
    _ensure_schema(engine, url, upgrade)
    collab = Collaboration(
        cc.services, engine, cc.settings, alarms=lambda: getattr(cc, "alarms", None)
    )
    cc.collab = collab
    try:
        collab.audit.seal()  # rows from before the chain existed: sealed once, at first start
    except Exception:  # noqa: BLE001 - the first append seals them then; the ops screen tells
        log.exception("could not seal the audit log's earlier entries")

    from command_center.sessions import install_sessions

    # server-side sessions, timed by the same clock as a user's expiry
    install_sessions(cc.server, engine, lambda: collab.clock(), cc.settings)

    from callbacks import auth as auth_callbacks
    from callbacks import case_drawer as drawer_callbacks

    auth_callbacks.register_routes(cc.server, cc)
    register_photo_routes(cc.server, lambda: cc.services.adapters.case)
    drawer_callbacks.install(cc.dash, cc)
    if start:
        collab.sms.start()
    app_stop = cc.stop

    def stop() -> None:
        collab.sms.stop()
        app_stop()
        engine.dispose()

    cc.stop = stop
    _ = events  # topics used by the callbacks
    return collab


def _ensure_schema(engine: Any, url: str, upgrade: Callable[[str], None]) -> None:
    """Create the tables on a database that predates this module (idempotent)."""
    if not schema_is_current(engine):
        upgrade(url)
