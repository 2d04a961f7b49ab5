"""From what a client sent to what is counted: `prepare` checks one hit and builds its engine request.

The rules of every source of web hits (a page's count.js, a backend's batch) in one place: ignored IPs, the
session (named by the client, else made of user agent and IP, else none), path cleaning, campaigns and
referrers, user agents and bots, locations (sent, else from the IP) and languages, screen sizes, and the limits
of each value. A hit that breaks a rule is not stored; its problems say why, field by field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from gateway.ingest.model import EventInput, TrackRequest
from gateway.ingest.web.agents import parse_agent
from gateway.ingest.web.cleaning import clean_path, referral, screen_of
from gateway.ingest.web.model import WebHit
from gateway.ingest.web.places import country_of_ip, language_code, location_of
from gateway.ingest.web.sessions import SessionSalt

PAGEVIEW_KEY = "pageview"
MAX_PATH = 2048
MAX_TITLE = 1024
MAX_REFERRER = 2048
MAX_USER_AGENT = 512
MAX_SHORT = 512  # session names, queries' values kept, screens, locations, languages
# a client's clock may run a little ahead
FUTURE_MARGIN = timedelta(seconds=5)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class RawHit:
    """One hit as a client sent it ('' / 0 / None where it sent nothing)."""

    path: str
    title: str = ""
    event: bool = False
    referrer: str = ""
    query: str = ""
    screen: str = ""
    bot: int = 0
    user_agent: str = ""
    location: str = ""
    ip: str = ""
    language: str = ""
    timestamp: datetime | None = None
    session: str = ""
    no_session: bool = False  # a visit of its own, even with a user agent and IP


@dataclass(frozen=True)
class HitRules:
    """How one source sends its hits."""

    # a hit needs a session (named, or a user agent and an IP): off to count every hit as a visit
    require_session: bool = True
    # a page's referrer (count.js) is counted as its host; a backend's is kept as sent
    referrer_host_only: bool = False
    # browsers always send a user agent: a hit without one is a bot's
    empty_agent_is_bot: bool = False
    # drop hits from the product's ignored IPs
    filter_ignored_ips: bool = True


@dataclass(frozen=True)
class Problem:
    """Why a hit was refused: the field (the graph input's name) and what is wrong with it."""

    field: str
    message: str


@dataclass
class PreparedHit:
    """A checked hit: its engine request (None when refused or ignored), its problems, and what it is."""

    request: TrackRequest | None
    problems: list[Problem] = field(default_factory=list)
    ignored: bool = False
    bot: bool = False


def storable(value: str) -> str:
    """`value` as PostgreSQL can store it: without NUL characters and lone surrogates."""
    if value.isascii() and "\x00" not in value:
        return value
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _longer(name: str, value: str, limit: int) -> list[Problem]:
    return [Problem(name, f"must be shorter than {limit} characters")] if len(value) > limit else []


def _problems(
    path: str, referrer: str, title: str, user_agent: str, at: datetime | None, now: datetime
) -> list[Problem]:
    """What is wrong with a hit's values, sorted by field (stable: a field's problems in this order)."""
    problems: list[Problem] = []
    if not path:
        problems += [Problem("path", "must be set"), Problem("path", "must be longer than 1 characters")]
    problems += _longer("path", path, MAX_PATH)
    problems += _longer("referrer", referrer, MAX_REFERRER)
    problems += _longer("title", title, MAX_TITLE)
    problems += _longer("userAgent", user_agent, MAX_USER_AGENT)
    if at is not None:
        if at > now + FUTURE_MARGIN:
            problems.append(Problem("timestamp", "in the future"))
        elif at < EARLIEST:
            problems.append(Problem("timestamp", "must not be before 1970"))
    return sorted(problems, key=lambda p: p.field)


def prepare(
    account_id: int,
    product_id: int,
    raw: RawHit,
    rules: HitRules,
    salt: SessionSalt,
    ignored_ips: frozenset[str] = frozenset(),
    now: datetime | None = None,
) -> PreparedHit:
    """Check `raw` and build its request for the engine (see the module docstring)."""
    now = now or datetime.now(UTC)
    ip = storable(raw.ip.strip())
    if rules.filter_ignored_ips and ip and ip in ignored_ips:
        return PreparedHit(None, ignored=True)
    user_agent = storable(raw.user_agent.strip())
    session_name = storable(raw.session)
    if raw.no_session:
        session: bytes | None = None
    elif session_name:
        session = salt.named_session(product_id, session_name[:MAX_SHORT])
    elif user_agent and ip:
        session = salt.session(product_id, user_agent, ip)
    elif rules.require_session:
        return PreparedHit(None, [Problem("session", "no session, and no user agent and IP to make one")])
    else:
        session = None

    path = clean_path(storable(raw.path), raw.event)
    title = storable(raw.title).strip()
    came = referral(storable(raw.referrer), storable(raw.query), rules.referrer_host_only)
    at = raw.timestamp
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    if (
        not path
        or len(path) > MAX_PATH
        or len(came.referrer) > MAX_REFERRER
        or len(title) > MAX_TITLE
        or len(user_agent) > MAX_USER_AGENT
        or (at is not None and not EARLIEST <= at <= now + FUTURE_MARGIN)
    ):
        return PreparedHit(None, _problems(path, came.referrer, title, user_agent, at, now))

    agent = parse_agent(user_agent)
    bot = raw.bot if raw.bot > 0 else 0
    if not bot and (agent.bot or (rules.empty_agent_is_bot and not user_agent)):
        bot = 1
    location = storable(raw.location)[:MAX_SHORT]
    country, region = location_of(location) if location else (country_of_ip(ip), "")
    screen, width, size = screen_of(storable(raw.screen))
    hit = WebHit(
        event=raw.event,
        referrer_scheme=came.scheme,
        campaign=came.campaign[:MAX_SHORT],
        browser=agent.browser,
        browser_version=agent.browser_version,
        system=agent.system,
        system_version=agent.system_version,
        screen=screen,
        width=width,
        size=size,
        country=country,
        region=region,
        language=language_code(storable(raw.language)[:MAX_SHORT]) if raw.language else "",
        session=session,
        epoch=salt.epoch,
        bot=bot,
        at=at.astimezone(UTC) if at is not None else None,
    )
    event = EventInput(
        key=path if raw.event else PAGEVIEW_KEY,
        path=None if raw.event else path,
        title=title or None,
        referrer=came.referrer or None,
    )
    request = TrackRequest(
        account_id=account_id, product_id=product_id, device_key="", events=[event], web=hit
    )
    return PreparedHit(request, bot=bot > 0)
