"""`recordPageviews`: hits of web sites (pageviews and events), checked, then counted by the ingestion engine.

Each hit is checked on its own (`gateway.ingest.web.hits.prepare`): the valid ones are stored, in one
transaction, and answered only once committed; the others are answered with their problems, field by field.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import strawberry
from graphql import GraphQLSchema

from gateway.access.hosts import web_settings
from gateway.access.principal import Permission
from gateway.ingest.model import Outcome
from gateway.ingest.web.hits import HitRules, PreparedHit, RawHit, prepare
from gateway.ingest.web.sessions import salts_for
from resolvers.context import Context, ctx_of
from resolvers.errors import NotFound, UserError
from resolvers.inputs import own_pk

MAX_HITS = 1000


@strawberry.enum(description="Who sent the hits, which decides some rules.")
class HitSource(enum.Enum):
    PAGE = "page"
    SERVER = "server"


@strawberry.input(description="One hit of a web site: a pageview of `path`, or an event named `path`.")
class PageviewInput:
    path: str = strawberry.field(
        description="The page's path (cleaned of tracking parameters), or the event's name."
    )
    title: str | None = None
    event: bool = strawberry.field(default=False, description="An event rather than a pageview.")
    referrer: str | None = None
    query: str | None = strawberry.field(
        default=None,
        description="The page's query string: its campaign (utm_campaign) and source (utm_source).",
    )
    screen: str | None = strawberry.field(
        default=None, description="The screen size: `width`, or `width,height,scale`."
    )
    bot: int | None = strawberry.field(
        default=None, description="Above 0: a bot said so (the hit is not counted)."
    )
    user_agent: str | None = None
    ip: str | None = strawberry.field(
        default=None, description="The visitor's IP: its location, and its session."
    )
    location: str | None = strawberry.field(
        default=None, description="ISO 3166-1 country or ISO 3166-2 region."
    )
    language: str | None = strawberry.field(
        default=None, description="A language tag (`fr`, `en-US`, `nld`)."
    )
    timestamp: datetime | None = strawberry.field(default=None, description="When; default now.")
    session: str | None = strawberry.field(
        default=None, description="A session the sender keeps itself, instead of the user agent and IP."
    )
    no_session: bool = strawberry.field(
        default=False,
        description="Count the hit as a visit of its own: no session (the visitor asked for none).",
    )


@strawberry.enum(description="What happened to one hit.")
class HitOutcome(enum.Enum):
    STORED = "stored"
    BOT = "bot"
    IGNORED = "ignored"
    REFUSED = "refused"
    PRODUCT_PAUSED = "product_paused"
    UNKNOWN_PRODUCT = "unknown_product"


@strawberry.type(description="Why a hit was refused.")
class HitProblem:
    field: str = strawberry.field(
        description="The PageviewInput field (`session`: neither it nor user agent and IP)."
    )
    message: str


@strawberry.type(
    description="The outcome of one hit: STORED (and committed), BOT (stored apart, not counted), IGNORED (an "
    "ignored IP's), REFUSED (see `problems`; not stored)."
)
class PageviewResult:
    outcome: HitOutcome
    problems: list[HitProblem]


# GraphQL field name -> RawHit attribute
_FIELDS = {
    "path": "path",
    "title": "title",
    "event": "event",
    "referrer": "referrer",
    "query": "query",
    "screen": "screen",
    "bot": "bot",
    "userAgent": "user_agent",
    "ip": "ip",
    "location": "location",
    "language": "language",
    "timestamp": "timestamp",
    "session": "session",
    "noSession": "no_session",
}


def _raw(item: Mapping[str, Any]) -> RawHit:
    """A hit as graphql-core coerced it (GraphQL field names, omitted fields absent)."""
    get = item.get
    return RawHit(
        path=get("path") or "",
        title=get("title") or "",
        event=bool(get("event")),
        referrer=get("referrer") or "",
        query=get("query") or "",
        screen=get("screen") or "",
        bot=int(get("bot") or 0),
        user_agent=get("userAgent") or "",
        ip=get("ip") or "",
        location=get("location") or "",
        language=get("language") or "",
        timestamp=get("timestamp"),
        session=get("session") or "",
        no_session=bool(get("noSession")),
    )


def _rules(source: Any, require_session: bool, filter_ignored_ips: bool) -> HitRules:
    page = source in (HitSource.PAGE, "PAGE", "page")
    return HitRules(
        require_session=require_session and not page,
        referrer_host_only=page,
        empty_agent_is_bot=page,
        filter_ignored_ips=filter_ignored_ips,
    )


# the results of hits without problems, shared by every hit with that outcome (the executor only reads them)
_PLAIN_RESULTS = {outcome: PageviewResult(outcome=outcome, problems=[]) for outcome in HitOutcome}


def _result(prepared: PreparedHit, outcome: Outcome | None) -> PageviewResult:
    if prepared.ignored:
        return _PLAIN_RESULTS[HitOutcome.IGNORED]
    if outcome is None:
        problems = [HitProblem(field=p.field, message=p.message) for p in prepared.problems]
        return PageviewResult(outcome=HitOutcome.REFUSED, problems=problems)
    if outcome is Outcome.STORED:
        return _PLAIN_RESULTS[HitOutcome.BOT if prepared.bot else HitOutcome.STORED]
    return _PLAIN_RESULTS[HitOutcome(outcome.value)]


async def record_pageviews(
    ctx: Context,
    product_id: Any,
    items: Sequence[Mapping[str, Any]],
    source: Any,
    require_session: bool,
    filter_ignored_ips: bool = True,
) -> list[PageviewResult]:
    if len(items) > MAX_HITS:
        raise UserError(f"At most {MAX_HITS} hits per call")
    principal = ctx.require(Permission.COUNT)
    if product_id is None:
        if principal.product_id is None:
            raise UserError("`productId` is required")
        pk = principal.product_id
    else:
        pk = own_pk(product_id, "Product")
    # remembered for a few seconds (every page view of a site asks): no statement per batch of hits
    settings = await web_settings(ctx.db, pk)
    if settings is None or settings.account_id != principal.account_id or not principal.may_use_product(pk):
        raise NotFound("Product")
    if ctx.engine is None:
        raise RuntimeError("the ingestion engine is not running in this process")
    salt = await salts_for(ctx.db).current()
    rules = _rules(source, require_session, filter_ignored_ips)
    ignored = settings.ignored_ips
    now = datetime.now(UTC)
    prepared = [prepare(principal.account_id, pk, _raw(item), rules, salt, ignored, now) for item in items]
    requests = [p.request for p in prepared if p.request is not None]
    outcomes = iter(await ctx.engine.submit(requests) if requests else [])
    return [_result(p, next(outcomes) if p.request is not None else None) for p in prepared]


@strawberry.type
class WebMutations:
    @strawberry.mutation(
        description="Record hits of a web site (pageviews, and events with `event: true`); answers once the "
        "valid ones are committed, with one result per hit. `productId` may be omitted by a credential of one "
        "product. `source: PAGE` applies a browser page's rules (referrers counted by host, no user agent means "
        "a bot); `requireSession: false` counts hits without a session as visits instead of refusing them; "
        "`filterIgnoredIps: false` keeps the hits of the product's ignored IPs."
    )
    async def record_pageviews(
        self,
        info: strawberry.Info,
        pageviews: list[PageviewInput],
        product_id: strawberry.ID | None = None,
        source: HitSource = HitSource.SERVER,
        require_session: bool = True,
        filter_ignored_ips: bool = True,
    ) -> list[PageviewResult]:
        # the schema runs `record_pageviews_coerced` instead (see install_pageviews_resolver)
        items = [{graph: getattr(hit, name) for graph, name in _FIELDS.items()} for hit in pageviews]
        return await record_pageviews(
            ctx_of(info), product_id, items, source, require_session, filter_ignored_ips
        )


async def record_pageviews_coerced(
    _root: Any,
    info: Any,
    pageviews: list[dict[str, Any]],
    productId: Any = None,  # noqa: N803
    source: Any = HitSource.SERVER,
    requireSession: bool = True,  # noqa: N803
    filterIgnoredIps: bool = True,  # noqa: N803
) -> Any:
    """`Mutation.recordPageviews` on graphql-core's coerced arguments: a batch of 500 hits would otherwise cost
    Strawberry an input object per hit before any is checked."""
    return await record_pageviews(
        info.context, productId, pageviews, source, requireSession, filterIgnoredIps
    )


def install_pageviews_resolver(schema: GraphQLSchema) -> None:
    """Let the executable schema run `recordPageviews` on coerced arguments."""
    mutation = schema.mutation_type
    assert mutation is not None
    mutation.fields["recordPageviews"].resolve = record_pageviews_coerced
