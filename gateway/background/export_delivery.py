"""Delivering a finished export by e-mail: the download link, sent to the address the export names.

The link opens the file without credentials until it expires (`/exports/download?token=...`, on the address
people reach the gateway at: GATEWAY_PUBLIC_URL). The token is kept with the export only until the e-mail is
sent; a failure to send is recorded on the export (`emailError`) and logged, and the file stays downloadable.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from gateway.background.mail import MailServer, send_mail
from gateway.config import Settings
from gateway.db.pool import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    mail: MailServer | None
    base_url: str

    async def deliver(self, db: Database, export_id: int) -> None:
        row = await db.fetchrow(
            """SELECT e.email_to, e.email_token, e.kind, e.format, e.rows, e.link_expires_at, p.name AS product
               FROM exports e JOIN products p ON p.id = e.product_id AND p.account_id = e.account_id
               WHERE e.id = $1 AND e.email_to IS NOT NULL AND e.emailed_at IS NULL""",
            export_id,
        )
        if row is None or row["email_token"] is None:
            return
        error = None
        if self.mail is None:
            error = "E-mail delivery is not configured on this gateway"
        else:
            link = f"{self.base_url}/exports/download?token={row['email_token']}"
            text = (
                f"Your export of {row['kind']} of {row['product']} is ready: {row['rows']} rows, "
                f"{row['format'].upper()}.\n\nDownload it here until {row['link_expires_at']:%Y-%m-%d %H:%M} UTC:\n"
                f"{link}\n"
            )
            try:
                await send_mail(self.mail, row["email_to"], f"Your {row['kind']} export is ready", text)
            except Exception as exc:  # the SMTP server's refusal or the network's: recorded, not raised
                log.warning("export %s: e-mail to %s failed: %s", export_id, row["email_to"], exc)
                error = f"The e-mail could not be sent ({type(exc).__name__})"
        await db.execute(
            """UPDATE exports SET email_token = NULL, emailed_at = CASE WHEN $2::text IS NULL THEN now() END,
                   email_error = $2
               WHERE id = $1""",
            export_id,
            error,
        )


def export_delivery(settings: Settings) -> Delivery:
    """The delivery of a gateway's settings (GATEWAY_SMTP_URL, GATEWAY_SMTP_FROM, GATEWAY_PUBLIC_URL)."""
    mail = MailServer.from_url(settings.smtp_url, settings.smtp_from) if settings.smtp_url else None
    return Delivery(mail=mail, base_url=settings.base_url)
