"""``command-center``: run the demo wall, serve, seed the embedded backend, check screens."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from command_center.settings import Settings


def _registry():  # noqa: ANN202 - local import keeps `--help` instant
    from command_center.panels import default_registry

    return default_registry()


def _city_regions(settings: Settings) -> dict[str, str] | None:
    """The configured city's streets and communities, for checking screens' ``region``;
    None when there is no city to ask (an embedded database not seeded yet)."""
    from sqlalchemy.engine import make_url

    from command_center.plugins import build_adapter
    from command_center.screens.loader import known_region_names

    url = make_url(settings.effective_database_url)
    if settings.gis_adapter == "sql" and url.get_backend_name() == "sqlite":
        if not url.database or not Path(url.database).exists():
            return None  # connecting would leave an empty file where the demo seeds
    gis: Any = build_adapter("gis", settings)
    try:
        return known_region_names(gis.regions)
    finally:
        gis.close()


def cmd_screens_check(args: argparse.Namespace, settings: Settings) -> int:
    from command_center.screens.loader import check_file

    path = Path(args.file) if args.file else settings.screens_file
    issues = check_file(path, _registry(), lambda: _city_regions(settings))
    for issue in issues:
        print(issue)
    if issues:
        print(f"{path}: {len(issues)} error(s)", file=sys.stderr)
        return 1
    print(f"{path}: OK")
    return 0


def cmd_screens_schema(args: argparse.Namespace, settings: Settings) -> int:
    from command_center.screens.loader import json_schema

    text = json.dumps(json_schema(_registry()), ensure_ascii=False, indent=2)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        print(text)
    return 0


def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    from command_center.demo.generator import seed_cli

    seed_cli(
        settings, args.size or settings.seed_size, args.seed or settings.seed, reset=args.reset
    )
    return 0


def _serve(settings: Settings, simulate: bool = False) -> int:
    from command_center.app import create_app
    from command_center.screens.loader import ScreensError
    from command_center.secret_key import SecretKeyError, require_secret_key

    try:
        require_secret_key(settings.secret_key)
    except SecretKeyError as exc:
        print(f"not starting: {exc}", file=sys.stderr)
        return 2
    if "sql" in (settings.case_adapter, settings.gis_adapter):
        # The embedded backend's schema follows the code: a newer release's migrations
        # (a rollup, an index) are applied before serving, never half-way through.
        from adapters.sql.db import upgrade

        upgrade(settings.effective_database_url)
    try:
        cc = create_app(settings)
    except ScreensError as exc:
        print(f"screens file rejected, not starting:\n{exc}", file=sys.stderr)
        return 2
    from command_center.runtime import run_server

    if simulate:
        from command_center.simulator import LiveSimulator

        LiveSimulator(cc.services, rate_per_minute=settings.simulate_rate).start()
    url = f"http://{settings.host}:{settings.port}/"
    print(f"command-center: {url}  (walls: {url}wall/<id>)", flush=True)
    run_server(cc)
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    return _serve(settings)


def has_city(url: str) -> bool:
    """Whether the embedded database already holds a generated city."""
    from sqlalchemy import inspect, text

    from adapters.sql.db import make_engine

    engine = make_engine(url)
    try:
        if "regions" not in inspect(engine).get_table_names():
            return False
        with engine.connect() as conn:
            return conn.execute(text("SELECT 1 FROM regions LIMIT 1")).first() is not None
    finally:
        engine.dispose()


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Bring the schema up to date, seed the demo city if there is none, then serve with the
    live simulator (``CC_SIMULATE``). Without a real ``CC_SECRET_KEY`` the demo uses its own,
    generated on first run into ``CC_DATA_DIR`` and reused after."""
    from adapters.sql.db import upgrade
    from command_center.demo.generator import seed_cli
    from command_center.secret_key import demo_secret_key, secret_key_problem

    if secret_key_problem(settings.secret_key):
        secret = demo_secret_key(settings.data_dir)
        settings = settings.model_copy(update={"secret_key": secret})

    url = settings.effective_database_url
    upgrade(url)  # before has_city: a fresh file gets its tables first
    if args.reset or not has_city(url):
        seed_cli(settings, args.size or settings.seed_size, settings.seed, reset=args.reset)
    return _serve(settings, simulate=settings.simulate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="command-center", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="seed the embedded database if empty and serve the walls")
    demo.add_argument("--size", choices=["tiny", "demo", "large"])
    demo.add_argument("--reset", action="store_true", help="drop and regenerate the demo city")
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="serve the walls (development server)")
    serve.set_defaults(func=cmd_serve)

    seed = sub.add_parser("seed", help="generate the demo city into the configured database")
    seed.add_argument("--size", choices=["tiny", "demo", "large"])
    seed.add_argument("--seed", type=int)
    seed.add_argument("--reset", action="store_true", help="drop existing data first")
    seed.set_defaults(func=cmd_seed)

    screens = sub.add_parser("screens", help="check screens.yaml or write its JSON Schema")
    ssub = screens.add_subparsers(dest="screens_command", required=True)
    check = ssub.add_parser(
        "check", help="validate a screens file; errors as FILE:LINE: path: message"
    )
    check.add_argument("file", nargs="?")
    check.set_defaults(func=cmd_screens_check)
    schema = ssub.add_parser("schema", help="write the JSON Schema of screens.yaml")
    schema.add_argument("-o", "--output")
    schema.set_defaults(func=cmd_screens_schema)

    from command_center.auth import add_cli as add_collaboration_cli

    add_collaboration_cli(sub)  # users, audit, contacts

    from command_center.api_keys import add_cli as add_api_keys_cli

    add_api_keys_cli(sub)  # keys of the alarm API

    from command_center.briefing import add_cli as add_briefing_cli

    add_briefing_cli(sub)  # the daily briefing PDF/PNG
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = build_parser().parse_args(argv)
    settings = Settings()
    from adapters.base import AdapterConfigError
    from command_center.domain.calendar import set_city_timezone

    set_city_timezone(settings.city_timezone)  # seeding, briefings: the city's "today"

    try:
        return int(args.func(args, settings))
    except AdapterConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
