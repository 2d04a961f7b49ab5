"""What the engine stores of a web hit beyond its event (path, title, referrer, time): `WebHit`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class WebHit:
    """The web details of one hit, as counted (see `hits.prepare`): '' where unknown.

    The hit's event (`TrackRequest.events[0]`) holds its key ('pageview', or the event's name), path (pageviews
    only), title, referrer (as counted) and time.
    """

    event: bool
    referrer_scheme: str
    campaign: str
    browser: str
    browser_version: str
    system: str
    system_version: str
    screen: str  # as sent: "1920,1080,1"
    width: int  # CSS width, 0 when unknown
    size: str  # phone, tablet, desktop, desktophd, unknown
    country: str  # ISO 3166-1 alpha-2
    region: str  # ISO 3166-2
    language: str  # ISO 639-3
    session: bytes | None  # None: no session (every hit a first visit)
    epoch: int  # the epoch of the session's salt
    bot: int  # 0 for people; the client's bot code, or 1 for a bot user agent
    at: datetime | None = None  # when, as sent (aware); None: when it is written

    def details(self, first_visit: bool) -> dict[str, object]:
        """The hit's `events.web` document."""
        return {
            "event": self.event,
            "referrer_scheme": self.referrer_scheme,
            "campaign": self.campaign,
            "browser": self.browser,
            "browser_version": self.browser_version,
            "system": self.system,
            "system_version": self.system_version,
            "screen": self.screen,
            "width": self.width,
            "size": self.size,
            "country": self.country,
            "region": self.region,
            "language": self.language,
            "session": self.session.hex() if self.session else "",
            "first_visit": first_visit,
            "bot": self.bot,
        }
