"""The platform API's parameters: paging, dates, comma-separated lists, flags and `fields`.

- `page` (default 1; below 1 or not a number: 1; a page beyond 2**31 - 1 is that page, past every list) and
  `per_page` (default 1000; outside 1..10000: 1000).
- `since_date`, `until_date`, `updated_since`: ISO 8601 in any offset (`2017-04-06T16:41:44+05:00`, `Z`, a
  date alone is its UTC midnight); the documented form typed into a URL unencoded arrives with its `+` decoded
  as a space (`...16:41:44 05:00`), which is read as the `+` it was. A value that does not parse, or lies
  outside the calendar once in UTC, is a 400 naming the parameter.
- `sd`, `ed`: Unix seconds at UTC midnight (export-only endpoints; `dates.py` checks them).
- lists (`device_ids`, `names`, `fields`, ...): comma-separated, blanks dropped; the same parameter given
  twice adds its values; `names[]=a&names[]=b` (Rails style) is read too. A list of blanks only (`names=`) is
  no list, as if absent (Rails' `present?`): scripts write such parameters whether they have values or not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web
from multidict import MultiMapping

from adapters.followanalytics.replies import Failure
from gateway.execution.graphql_core import GRAPHQL_MAX_INT

DEFAULT_PER_PAGE = 1000
MAX_PER_PAGE = 10_000
MAX_LIST_VALUES = 10_000
# the largest page: the graph's Int (a deeper page lies past every list, and answers as empty as this one)
MAX_PAGE = GRAPHQL_MAX_INT
# an ISO time whose offset's `+` a URL query decoded as a space: `2017-04-06T16:41:44 05:00`
_SPACED_OFFSET = re.compile(r"(\d{4}-?\d{2}-?\d{2}T[\d:.,]+) (\d{2}(?::?\d{2})?)")


@dataclass(frozen=True)
class Paging:
    page: int
    per_page: int


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    if not text.lstrip("-").isdigit() or len(text) > 12:
        return None
    return int(text)


def paging(
    query: MultiMapping[str], per_page_name: str = "per_page", default: int = DEFAULT_PER_PAGE
) -> Paging:
    """`page` and `per_page` with the documented defaults and fallbacks."""
    page_text = (query.get("page") or "").strip()
    # only pages below 1 take the default: a deeper page than the graph can count is still past the end, so a
    # script that pages forward until a page is empty stops (page 1 again would loop it for ever)
    digits = page_text.lstrip("0")[:20] or "0"  # more digits than 20: a page past every list anyway
    page = min(int(digits), MAX_PAGE) if page_text.isascii() and page_text.isdigit() else None
    per_page = _int(query.get(per_page_name))
    return Paging(
        page=page if page is not None and page >= 1 else 1,
        per_page=per_page if per_page is not None and 1 <= per_page <= MAX_PER_PAGE else default,
    )


def iso_time(query: MultiMapping[str], name: str) -> datetime | None:
    """An ISO 8601 time parameter, in UTC; None when absent or empty; 400 when it does not parse."""
    text = (query.get(name) or "").strip()
    if not text:
        return None
    spaced = _SPACED_OFFSET.fullmatch(text)
    if spaced:
        text = f"{spaced[1]}+{spaced[2]}"
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        # 0001-01-01T00:00:00+05:00 is before the first UTC time Python holds: an OverflowError
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise Failure(
            400, f"Invalid {name}: expected an ISO 8601 date, such as 2017-04-06T16:41:44+05:00"
        ) from None


def values(query: MultiMapping[str], name: str) -> list[str] | None:
    """A comma-separated list parameter (also `name[]`); None when absent or blank."""
    raw = query.getall(name, []) + query.getall(name + "[]", [])
    found = [value.strip() for text in raw for value in text.split(",") if value.strip()]
    if not found:
        return None
    if len(found) > MAX_LIST_VALUES:
        raise Failure(400, f"Too many values in {name}: at most {MAX_LIST_VALUES}")
    return found


def flag(query: MultiMapping[str], name: str, default: bool = False) -> bool:
    text = (query.get(name) or "").strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    return default


def query_of(request: web.Request) -> MultiMapping[str]:
    return request.rel_url.query
