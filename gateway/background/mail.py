"""E-mail from the gateway (the links of finished exports), through the SMTP server the operator configures.

`GATEWAY_SMTP_URL` names the server: `smtp://[user:password@]host[:port]` (STARTTLS when the server offers it;
port 25 by default), `smtp+starttls://...` (STARTTLS required; 587), `smtps://...` (TLS from the start; 465).
`GATEWAY_SMTP_FROM` is the sender (default `analytics-gateway@<host>`). aiosmtplib, an asyncio SMTP client,
sends the messages; without a configured server nothing is sent and the graph refuses e-mail delivery.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib

TIMEOUT_SECONDS = 30.0


class MailConfigError(ValueError):
    """GATEWAY_SMTP_URL cannot be used."""


@dataclass(frozen=True)
class MailServer:
    host: str
    port: int
    use_tls: bool
    start_tls: bool | None
    username: str | None
    password: str | None
    sender: str

    @classmethod
    def from_url(cls, url: str, sender: str | None = None) -> MailServer:
        parts = urlsplit(url)
        schemes = {
            "smtp": (25, False, None),
            "smtp+starttls": (587, False, True),
            "smtps": (465, True, False),
        }
        if parts.scheme not in schemes or not parts.hostname:
            raise MailConfigError(
                "GATEWAY_SMTP_URL must look like smtp://host:port (or smtps://, smtp+starttls://)"
            )
        port, use_tls, start_tls = schemes[parts.scheme]
        return cls(
            host=parts.hostname,
            port=parts.port or port,
            use_tls=use_tls,
            start_tls=start_tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            sender=sender or f"analytics-gateway@{socket.getfqdn() or 'localhost'}",
        )


async def send_mail(server: MailServer, to: str, subject: str, text: str) -> None:
    """Send one plain-text message; raises aiosmtplib's errors (and OSError) when it cannot."""
    message = EmailMessage()
    message["From"] = server.sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    await aiosmtplib.send(
        message,
        hostname=server.host,
        port=server.port,
        username=server.username,
        password=server.password,
        use_tls=server.use_tls,
        start_tls=server.start_tls,
        timeout=TIMEOUT_SECONDS,
    )
