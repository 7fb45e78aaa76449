"""Finding and building adapters: entry points of group ``command_center.adapters``.

Entry point names are ``<kind>.<name>`` (``case.sql``, ``sms.http`` ...). A city's own
package declares e.g. ``case.mycity = mycity_cc:CaseAdapter`` and sets
``CC_CASE_ADAPTER=mycity`` — no fork needed.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from adapters.base import Adapter, AdapterConfigError
from adapters.case.contract import CaseAdapter
from adapters.gis.contract import GisAdapter
from adapters.sms.contract import SmsAdapter
from adapters.video.contract import VideoAdapter
from command_center.settings import Settings

GROUP = "command_center.adapters"
KINDS: dict[str, type[Adapter]] = {
    "case": CaseAdapter,
    "gis": GisAdapter,
    "video": VideoAdapter,
    "sms": SmsAdapter,
}


@dataclass
class Adapters:
    case: CaseAdapter
    gis: GisAdapter
    video: VideoAdapter
    sms: SmsAdapter

    def all(self) -> dict[str, Adapter]:
        return {"case": self.case, "gis": self.gis, "video": self.video, "sms": self.sms}

    def close(self) -> None:
        for adapter in self.all().values():
            adapter.close()


def available(kind: str) -> list[str]:
    """Names of the installed adapters of one kind."""
    prefix = f"{kind}."
    return sorted(
        ep.name[len(prefix) :] for ep in entry_points(group=GROUP) if ep.name.startswith(prefix)
    )


def _defaults(settings: Settings) -> dict[str, Any]:
    """Settings every built-in adapter may take; passed only where the constructor accepts them."""
    return {
        "database_url": settings.effective_database_url,
        "calendar_file": settings.calendar_file,
        "case_classes_file": settings.case_classes_file,
        "workday_start": settings.workday_start,
        "workday_end": settings.workday_end,
        "due_soon_fraction": settings.due_soon_fraction,
        "grid_seq_width": settings.grid_seq_width,
        "verify_stage": settings.workflow_verify_stage,
        "log_file": settings.data_dir / "sms.jsonl",
    }


def build_adapter(kind: str, settings: Settings, **extra: Any) -> Adapter:
    name, options = settings.adapter_choice(kind)
    setting = f"CC_{kind.upper()}_ADAPTER"
    matches = [ep for ep in entry_points(group=GROUP) if ep.name == f"{kind}.{name}"]
    if not matches:
        raise AdapterConfigError(
            f"{setting}={name!r}: no such {kind} adapter installed "
            f"(installed: {', '.join(available(kind)) or 'none'})"
        )
    try:
        cls = matches[0].load()
    except Exception as exc:  # noqa: BLE001 - report a broken plug-in by its setting
        raise AdapterConfigError(f"{setting}={name!r}: cannot load adapter: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, KINDS[kind])):
        raise AdapterConfigError(f"{setting}={name!r}: {cls!r} is not a {KINDS[kind].__name__}")
    params = inspect.signature(cls).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    kwargs = {
        key: value
        for key, value in {**_defaults(settings), **extra}.items()
        if key in params or (takes_any and key in extra)
    }
    kwargs.update(options)
    try:
        return cls(**kwargs)
    except AdapterConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise AdapterConfigError(
            f"CC_{kind.upper()}_OPTIONS for {setting}={name!r} is invalid: {exc}"
        ) from exc


def load_adapters(settings: Settings) -> Adapters:
    """Build the four configured adapters, or fail at start-up naming the setting at fault."""
    gis = build_adapter("gis", settings)
    case = build_adapter("case", settings)
    video = build_adapter("video", settings, cameras_source=lambda: _cameras_from_gis(gis))
    sms = build_adapter("sms", settings)
    return Adapters(case=case, gis=gis, video=video, sms=sms)  # type: ignore[arg-type]


def _cameras_from_gis(gis: Adapter) -> list[Any]:
    """The demo video adapter shows the cameras the GIS layer knows."""
    from adapters.video.contract import Camera

    assert isinstance(gis, GisAdapter)
    return [
        Camera(
            id=p.id,
            name=p.name,
            lon=p.lon,
            lat=p.lat,
            grid_code=p.grid_code,
            online=p.status != "offline",
            updated_at=p.updated_at,
        )
        for p in gis.points("camera")
    ]
