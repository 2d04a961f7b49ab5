"""The values of a web hit as they are counted: cleaned paths, event names, referrers and their schemes,
campaigns, screen size classes.

Paths lose the parameters that only track (utm_*, fbclid and the like) and their trailing slash, so that one
page is one path. A campaign comes from the page's query; a referrer that names a source there (utm_source, ref,
src, source) replaces the browser's referrer. Referrer schemes: `h` a web page (count.js reduces it to its host),
`c` a campaign, `o` anything else (and no referrer).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit

NO_EVENT_NAME = "(no event name)"
# query parameters that only track a visitor, removed from paths
_TRACKING = {
    "fbclid",
    "gclid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "ref",
    "nsukey",
    "isappinstalled",
    "_ga",
    "yclid",
}
_CAMPAIGN = ("utm_campaign", "campaign")
_SOURCE = ("utm_source", "ref", "src", "source")
# screen size classes by CSS width (GoatCounter's: 0 unknown)
SIZES = ("phone", "tablet", "desktop", "desktophd", "unknown")
# a site's hits name the same few paths, referrers, queries and screens over and over: values up to this long
# are cleaned once and remembered (bounded caches: a few MB at most, whatever clients send)
_REMEMBERED_LENGTH = 256
_REMEMBERED = 8192
MAX_SCREEN = 512


def clean_path(path: str, event: bool) -> str:
    """A pageview's path as counted (leading `/`, no trailing `/`, no tracking parameters), or an event's name
    (no leading `/`; `/` alone names no event)."""
    if len(path) <= _REMEMBERED_LENGTH:
        return _remembered_path(path, event)
    return _clean_path(path, event)


@lru_cache(maxsize=_REMEMBERED)
def _remembered_path(path: str, event: bool) -> str:
    return _clean_path(path, event)


def _clean_path(path: str, event: bool) -> str:
    path = path.strip()
    if event:
        return path.lstrip("/") or NO_EVENT_NAME
    if not path:
        return ""
    path = "/" + path.strip("/")
    path = path.rstrip("?&")
    if "?" not in path:
        return path
    base, _, query = path.partition("?")
    pairs = [
        (key, value)
        for key, value in parse_qsl(query, keep_blank_values=True)
        if key not in _TRACKING and not key.startswith("utm_")
    ]
    if not pairs:
        return base or "/"
    return f"{base or '/'}?{urlencode(pairs)}"


@dataclass(frozen=True)
class Referral:
    """Where a hit came from: the referrer as counted, its scheme, and the campaign ('' for none)."""

    referrer: str
    scheme: str
    campaign: str


def referral(referrer: str, query: str, host_only: bool) -> Referral:
    """The referrer, scheme and campaign of a hit from its referrer and page query. `host_only`: a page's
    referrer (count.js) is reduced to its host, as the path beyond it is the other site's business."""
    if len(referrer) <= _REMEMBERED_LENGTH and len(query) <= _REMEMBERED_LENGTH:
        return _remembered_referral(referrer, query, host_only)
    return _referral(referrer, query, host_only)


@lru_cache(maxsize=_REMEMBERED)
def _remembered_referral(referrer: str, query: str, host_only: bool) -> Referral:
    return _referral(referrer, query, host_only)


def _referral(referrer: str, query: str, host_only: bool) -> Referral:
    referrer = referrer.strip()
    params = _query(query)
    campaign = next((params[key] for key in _CAMPAIGN if params.get(key)), "")
    source = next((params[key] for key in _SOURCE if params.get(key)), "")
    if source:
        return Referral(source.strip(), "c", campaign)
    if campaign:
        return Referral(referrer.rstrip("/"), "c", campaign)
    if not referrer:
        return Referral("", "o", "")
    if host_only:
        parts = urlsplit(referrer)
        if parts.scheme in ("http", "https") and parts.hostname:
            return Referral(parts.hostname, "h", "")
    return Referral(referrer.rstrip("/"), "o", "")


def _query(query: str) -> dict[str, str]:
    query = query.strip()
    if query.startswith("?"):
        query = query[1:]
    elif "?" in query:
        query = urlsplit(query).query
    found: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=False):
        found.setdefault(key.lower(), value)
    return found


def screen_of(screen: str) -> tuple[str, int, str]:
    """A screen as sent (trimmed, at most MAX_SCREEN characters), its CSS width and its size class."""
    if len(screen) <= _REMEMBERED_LENGTH:
        return _remembered_screen(screen)
    return _screen(screen)


@lru_cache(maxsize=_REMEMBERED)
def _remembered_screen(screen: str) -> tuple[str, int, str]:
    return _screen(screen)


def _screen(screen: str) -> tuple[str, int, str]:
    screen = screen.strip()[:MAX_SCREEN]
    width = screen_width(screen)
    return screen, width, size_class(width)


def screen_width(screen: str) -> int:
    """The CSS width of a screen size sent as `1920`, `1920,1080` or `1920,1080,2` (0: unknown)."""
    first = screen.split(",", 1)[0].strip()
    try:
        width = float(first)
    except ValueError:
        return 0
    if not 0 < width < 100_000:
        return 0
    return int(width)


def size_class(width: int) -> str:
    """phone, tablet, desktop, desktophd or unknown."""
    if width <= 0:
        return "unknown"
    if width <= 600:
        return "phone"
    if width <= 1000:
        return "tablet"
    if width <= 1920:
        return "desktop"
    return "desktophd"
