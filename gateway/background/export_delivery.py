"""Delivering finished exports by e-mail: the download link, sent to the address the export names (a list's file,
or the file of a person's data that a GDPR access request asked to be e-mailed).

The link opens the file without credentials until it expires (`/exports/download?token=...`, on the address
people reach the gateway at: GATEWAY_PUBLIC_URL). The token is kept with the export only until its e-mail is
taken for sending. Any worker process with an SMTP server sends the e-mails of finished exports, whichever
process wrote the file: right after writing one, and every few seconds for those another process wrote (or
that a stopped process left). Taking an e-mail clears its token in the same statement (`FOR UPDATE SKIP
LOCKED`), so no two processes send it; a failure to send is recorded on the export (`emailError`) and logged,
and the file stays downloadable by its owner.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from gateway.background.mail import MailServer, send_mail
from gateway.background.tasks import cancel_and_wait
from gateway.config import Settings
from gateway.db.pool import Database

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0

_TAKE = """
WITH picked AS (
    SELECT id, email_token FROM exports
    WHERE status = 'finished' AND email_token IS NOT NULL
    ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1
)
UPDATE exports AS e SET email_token = NULL
FROM picked JOIN products AS p ON true
WHERE e.id = picked.id AND p.id = e.product_id AND p.account_id = e.account_id
RETURNING e.id, picked.email_token, e.email_to, e.kind, e.format, e.rows, e.link_expires_at, p.name AS product,
          e.filter->>'identity' AS identity
"""


@dataclass
class Delivery:
    mail: MailServer | None
    base_url: str
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    async def send_pending(self, db: Database) -> int:
        """Send the e-mails of finished exports that wait for one; how many were taken."""
        if self.mail is None:
            return 0
        sent = 0
        while (row := await db.fetchrow(_TAKE)) is not None:
            sent += 1
            subject, text = _message(row, f"{self.base_url}/exports/download?token={row['email_token']}")
            error = None
            try:
                await send_mail(self.mail, row["email_to"], subject, text)
            except Exception as exc:  # the SMTP server's refusal or the network's: recorded, not raised
                log.warning("export %s: e-mail to %s failed: %s", row["id"], row["email_to"], exc)
                error = f"The e-mail could not be sent ({type(exc).__name__})"
            await db.execute(
                "UPDATE exports SET emailed_at = CASE WHEN $2::text IS NULL THEN now() END, email_error = $2 "
                "WHERE id = $1",
                row["id"],
                error,
            )
        return sent

    async def start(self, db: Database) -> None:
        if self.mail is not None:
            self._task = asyncio.create_task(self._loop(db), name="export-mail")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _loop(self, db: Database) -> None:
        while True:
            with contextlib.suppress(Exception):
                await self.send_pending(db)
            await asyncio.sleep(POLL_SECONDS)


def _message(row: Any, link: str) -> tuple[str, str]:
    """The subject and text of an export's e-mail: a list's file, or the data of a person (a GDPR access)."""
    until = f"Download it here until {row['link_expires_at']:%Y-%m-%d %H:%M} UTC:\n{link}\n"
    if row["kind"] == "person":
        # the name stays out of the subject: a header is no place for text the requester typed
        return (
            "The personal data you requested is ready",
            f"The copy of everything stored about {row['identity']!r} that you requested (a request about a "
            f"person's own data) is ready, as a JSON file.\n\n{until}",
        )
    return (
        f"Your {row['kind']} export is ready",
        f"Your export of {row['kind']} of {row['product']} is ready: {row['rows']} rows, "
        f"{row['format'].upper()}.\n\n{until}",
    )


def export_delivery(settings: Settings) -> Delivery:
    """The delivery of a gateway's settings (GATEWAY_SMTP_URL, GATEWAY_SMTP_FROM, GATEWAY_PUBLIC_URL)."""
    mail = MailServer.from_url(settings.smtp_url, settings.smtp_from) if settings.smtp_url else None
    return Delivery(mail=mail, base_url=settings.base_url)
