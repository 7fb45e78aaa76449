"""One settings object for the whole app, read from ``CC_*`` environment variables.

Every variable is documented in the README with its default. Nothing else reads
``os.environ``: code that needs a setting takes a ``Settings``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CC_", extra="ignore")

    # Where things are
    data_dir: Path = Field(ROOT / "var", description="Folder for the SQLite file, logs, exports")
    database_url: str = Field(
        "", description="SQLAlchemy URL; empty means sqlite:///<data_dir>/command_center.sqlite"
    )
    redis_url: str = Field("", description="Redis URL; empty runs everything in one process")
    screens_file: Path = Field(ROOT / "screens.yaml", description="The walls to serve")

    # Serving
    host: str = "127.0.0.1"
    port: int = 8050
    lang: Literal["zh", "en"] = "zh"
    secret_key: str = "change-me-in-production"
    screens_poll_seconds: float = Field(2.0, description="How often screens.yaml is re-read")

    # Adapters: which implementation per kind (entry point name) and its options (JSON)
    case_adapter: str = "sql"
    gis_adapter: str = "sql"
    video_adapter: str = "demo"
    sms_adapter: str = "log"
    case_options: dict[str, Any] = Field(default_factory=dict)
    gis_options: dict[str, Any] = Field(default_factory=dict)
    video_options: dict[str, Any] = Field(default_factory=dict)
    sms_options: dict[str, Any] = Field(default_factory=dict)

    # The domain's city-set values (DOMAIN.md: configuration, not constants)
    district_code: str = Field("110101", description="GB/T 2260 code of the demo district")
    grid_seq_width: Literal[2, 3] = Field(2, description="Digits of a unit grid's sequence")
    workday_start: str = "08:30"
    workday_end: str = "17:30"
    calendar_file: Path | None = Field(
        None, description="YAML of holidays and make-up working days; empty: built-in default"
    )
    case_classes_file: Path | None = Field(
        None, description="YAML overriding class names and time limits; empty: built-in default"
    )
    due_soon_fraction: float = Field(
        0.2, description="A case is 临期 when less than this share of its time limit is left"
    )

    # Demo
    seed_size: Literal["tiny", "demo", "large"] = "demo"
    seed: int = 20261125
    simulate: bool = Field(True, description="Run the live simulator in `command-center demo`")
    simulate_rate: float = Field(6.0, description="New cases per minute from the simulator")

    # Base map: a local tile server or 天地图 WMTS; empty means no tiles (plain background)
    tile_url: str = ""
    tile_attribution: str = ""
    tile_datum: Literal["wgs84", "gcj02"] = "wgs84"

    # Data services
    cache_seconds: float = Field(5.0, description="How long a data service reuses a result")

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'command_center.sqlite'}"

    def adapter_choice(self, kind: str) -> tuple[str, dict[str, Any]]:
        """The entry-point name and options configured for one adapter kind."""
        return getattr(self, f"{kind}_adapter"), dict(getattr(self, f"{kind}_options"))
