"""User agents: browser and system names and versions, and bots, from well-kept libraries.

`ua-parser` (the uap-core rules, kept up to date by the ua-parser project; its Rust accelerator `ua-parser-rs`
parses a string in about 12 us) names browsers and systems; `crawlerdetect` (the CrawlerDetect patterns, also
used by Laravel and others) recognises crawlers, monitors and headless browsers, at about 140 us a string.
Visitors of a site send few distinct user agents, so both are cached per string.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from crawlerdetect import CrawlerDetect
from ua_parser import parse

_crawlers = CrawlerDetect()


@dataclass(frozen=True)
class Agent:
    """What a user agent string tells: '' where it tells nothing."""

    browser: str
    browser_version: str
    system: str
    system_version: str
    bot: bool


_NOBODY = Agent("", "", "", "", False)


@lru_cache(maxsize=20_000)
def parse_agent(user_agent: str) -> Agent:
    """The browser (name, major version), system (name, major version) and bot flag of `user_agent`."""
    if not user_agent:
        return _NOBODY
    result = parse(user_agent)
    browser = result.user_agent
    system = result.os
    spider = result.device is not None and result.device.family == "Spider"
    return Agent(
        browser=(browser.family if browser and browser.family != "Other" else "") or "",
        browser_version=(browser.major or "") if browser else "",
        system=(system.family if system and system.family != "Other" else "") or "",
        system_version=(system.major or "") if system else "",
        bot=spider or bool(_crawlers.isCrawler(user_agent)),
    )
