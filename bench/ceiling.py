"""The HTTP ceiling: a bare aiohttp app answering like Countly's `/i`, with no database behind it.

`python -m bench.ceiling --port P` serves `GET/POST /i` and `POST /graphql` with a constant JSON body, so the
load generator measures what one aiohttp process on this machine can answer in this run.
"""

from __future__ import annotations

import argparse

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18081)
    args = parser.parse_args()
    web.run_app(make_app(), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
