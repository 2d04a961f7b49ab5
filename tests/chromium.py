"""Debian's Chromium for the browser tests: where it is, and the flags every test starts it with."""

from __future__ import annotations

import os
import shutil


def find_chromium() -> str | None:
    """The browser binary: `$CHROMIUM`, or the first of the usual names on the PATH (None: tests skip)."""
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and (path := shutil.which(candidate)):
            return path
    return None


CHROMIUM = find_chromium()

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # anything not on 127.0.0.1 fails to resolve: a page that needs another host (a CDN) breaks
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)
"""Headless, without the sandbox (tests run as root), and with nothing that reaches the network by itself."""
