"""The `analytics-gateway` command: serve, migrate, bootstrap, seed, export-schema."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict
from pathlib import Path

from gateway.config import Settings


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="where the embedded PostgreSQL lives (GATEWAY_DATA_DIR, ./.data)")
    parser.add_argument(
        "--database-url", help="use this PostgreSQL instead of the embedded one (DATABASE_URL)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="analytics-gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command")

    serve = commands.add_parser("serve", help="run the gateway")
    _common(serve)
    serve.add_argument("--host", help="address to listen on (GATEWAY_HOST, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (GATEWAY_PORT, 8080)")
    serve.add_argument("--workers", type=int, help="serving processes sharing the port (GATEWAY_WORKERS, 1)")

    migrate = commands.add_parser("migrate", help="apply pending database migrations")
    _common(migrate)

    bootstrap = commands.add_parser("bootstrap", help="create (once) an account, admin, product and token")
    _common(bootstrap)
    bootstrap.add_argument("--account", default="default", help="account name (default: default)")
    bootstrap.add_argument("--json", action="store_true", help="print the credentials as one JSON object")

    seed = commands.add_parser("seed", help="fill an account with a reproducible synthetic data set (COPY)")
    _common(seed)
    seed.add_argument("--devices", type=int, required=True, help="devices in total")
    seed.add_argument("--events", type=int, required=True, help="events in total")
    seed.add_argument("--pageviews", type=int, default=0, help="web hits (pageviews and events) in total")
    seed.add_argument("--products", type=int, default=1, help="products to spread them over (default: 1)")
    seed.add_argument("--seed", type=int, default=1, help="random seed: the same number gives the same rows")
    seed.add_argument("--days", type=int, default=60, help="the data spans this many days up to now")
    seed.add_argument("--account", default="default", help="account name (default: default)")

    schema = commands.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    schema.add_argument("-o", "--output", help="write to this file instead of standard output")
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings().with_overrides(
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        workers=getattr(args, "workers", None),
        data_dir=getattr(args, "data_dir", None),
        database_url=getattr(args, "database_url", None),
    )


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    command = args.command or "serve"
    if command == "export-schema":
        from resolvers.sdl import print_sdl

        sdl = print_sdl()
        if args.output:
            Path(args.output).write_text(sdl)
        else:
            sys.stdout.write(sdl)
        return
    if args.command is None:
        args = build_parser().parse_args(["serve", *(argv or sys.argv[1:])])
    settings = settings_from(args)
    if command == "serve":
        from gateway.cli.serve import serve

        serve(settings)
    elif command == "migrate":
        from gateway.cli.serve import database_url
        from gateway.db.migrate import migrate

        applied = asyncio.run(migrate(database_url(settings)))
        print(f"applied migrations: {applied}" if applied else "database is up to date")
    elif command == "bootstrap":
        asyncio.run(_bootstrap(settings, args.account, args.json))
    elif command == "seed":
        from gateway.cli.seed import run_seed
        from gateway.cli.serve import database_url

        result = asyncio.run(
            run_seed(
                database_url(settings),
                settings.data_dir,
                account=args.account,
                devices=args.devices,
                events=args.events,
                products=args.products,
                seed_number=args.seed,
                days=args.days,
                pageviews=args.pageviews,
            )
        )
        print(json.dumps(asdict(result)))


async def _bootstrap(settings: Settings, account: str, as_json: bool) -> None:
    from gateway.cli.bootstrap import bootstrap
    from gateway.cli.serve import database_url
    from gateway.db.migrate import migrate
    from gateway.db.pool import Database

    url = database_url(settings)
    await migrate(url)
    db = await Database.connect(url, min_size=1, max_size=2)
    try:
        credentials = await bootstrap(db, settings.data_dir, account)
    finally:
        await db.close()
    credentials.graphql_url = f"http://{settings.host}:{settings.port}/graphql"
    if as_json:
        print(json.dumps(asdict(credentials)))
    else:
        for key, value in asdict(credentials).items():
            print(f"{key:12} {value}")


if __name__ == "__main__":
    main()
