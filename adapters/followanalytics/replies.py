"""FollowAnalytics' replies: the `{"success":true,"result":...}` envelope and its errors, in compact JSON.

The official shell client reads the token with the regex `auth_token":"\\([-_a-zA-Z0-9]*\\)`, so replies are
compact (no space after `:` or `,`). Errors carry the message twice: the Ruby gem reads `message`, the Rails
demo `error_message`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.json_text import compact_json

CONTENT_TYPE = "application/json; charset=utf-8"

# messages the real service sends (seed and reference)
MISSING_CREDENTIALS = "The request must contain the user email and password."
MISSING_START_DATE = "Missing start date"
MISSING_END_DATE = "Missing end date"
INVALID_USER_IDS = "Please provide a valid list of user ids"
# messages designed here, in the same style
WRONG_CREDENTIALS = "Invalid email or password."
TOO_MANY_LOGINS = "Too many failed logins for this email; try again next hour."
UNAUTHENTICATED = "You need to sign in or provide a valid authentication token."
FORBIDDEN = "Your token does not allow this request."
NOT_FOUND = "Not found."
APP_NOT_FOUND = "App not found."
SEGMENT_NOT_FOUND = "Segment not found."
CAMPAIGNS = "Campaigns are not available on this server: it collects and reports analytics only."
EXPORT_TOKEN_INVALID = "The export token is missing, invalid or expired."
EXPORT_NOT_READY = "Your report is being generated, try again later."
EXPORT_FAILED = "The report could not be generated."
NO_MAIL_SERVER = (
    "E-mail delivery is not configured on this server: add skip_email=true to get a download URL instead."
)
NO_MAIL_ADDRESS = (
    "Your token belongs to no user with an e-mail address: add skip_email=true to get a download URL instead."
)
GDPR_NO_MAIL_SERVER = 'E-mail delivery is not configured on this server: send "skip_email":true to get the download URLs instead.'
GDPR_NO_MAIL_ADDRESS = (
    'Your token belongs to no user with an e-mail address: send "skip_email":true to get the download URLs '
    "instead."
)
SERVER_ERROR = "There has been an error."
TOO_LARGE = "Request entity too large"


def json_reply(body: Any, status: int = 200) -> web.Response:
    # replies are made of the graph's results (and stored JSON): finite floats only, so a page whose rows hold
    # nulls is written by orjson, not by the json encoder (a 1,000-event page: about 4 ms less)
    return web.Response(
        status=status, text=compact_json(body, finite=True), content_type="application/json", charset="utf-8"
    )


def success(result: Any, status: int = 200) -> web.Response:
    return json_reply({"success": True, "result": result}, status)


def error(status: int, message: str) -> web.Response:
    """An error in the vendor's shape: `status` as a number and the message as both `message` and `error_message`."""
    return json_reply(
        {"success": False, "status": status, "message": message, "error_message": message}, status
    )


def gdpr_error(message: str) -> web.Response:
    """The GDPR endpoints' error: `status` as a string, and `error_message` first (as the real service sends it)."""
    return json_reply({"status": "400", "success": False, "error_message": message, "message": message}, 400)


class Failure(Exception):
    """A request the shim answers with an error in the vendor's shape."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        # the graph's error code, when the failure is the graph's
        self.code = code

    def reply(self) -> web.Response:
        return error(self.status, self.message)
