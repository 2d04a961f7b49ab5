"""The HTTP ceiling: a bare aiohttp app answering like Countly's `/i`, with no database behind it.

`python -m bench.ceiling --port P [--processes N]` serves `GET/POST /i` and `POST /graphql` with a constant
JSON body, so the load generator measures what N aiohttp processes on this machine can answer in this run:
as many as the gateway's workers it is compared with, sharing the port the same way (SO_REUSEPORT).
"""

from __future__ import annotations

import argparse
import multiprocessing

from aiohttp import web

BODY = b'{"result":"Success"}'


async def _reply(request: web.Request) -> web.Response:
    if request.can_read_body:
        await request.read()
    return web.Response(body=BODY, content_type="application/json")


def make_app() -> web.Application:
    """The bare app."""
    app = web.Application()
    app.router.add_route("*", "/i", _reply)
    app.router.add_route("*", "/i/bulk", _reply)
    app.router.add_route("*", "/graphql", _reply)
    return app


def serve(host: str, port: int, reuse_port: bool) -> None:
    """One serving process (blocks until SIGTERM/SIGINT)."""
    web.run_app(make_app(), host=host, port=port, reuse_port=reuse_port, print=None, access_log=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18081)
    parser.add_argument("--processes", type=int, default=1, help="serving processes sharing the port")
    args = parser.parse_args()
    shared = args.processes > 1
    # daemonic: stopped when this process exits (the harness stops it with SIGTERM)
    context = multiprocessing.get_context("spawn")
    others = [
        context.Process(target=serve, args=(args.host, args.port, True), daemon=True)
        for _ in range(args.processes - 1)
    ]
    for other in others:
        other.start()
    serve(args.host, args.port, shared)


if __name__ == "__main__":
    main()
