"""Printed by `make run` before the server starts: where the dashboard and GraphiQL are, and how to sign in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway.cli.bootstrap import credentials_path
from gateway.config import Settings


def welcome_text(host: str, port: int, path: Path, credentials: dict[str, Any]) -> str:
    """The text: the dashboard's address with the email and password to sign in, then GraphiQL and the token."""
    base = f"http://{host}:{port}"
    return f"""
  Dashboard:    {base}/   (open it in a browser and sign in with)
    Email:      {credentials["email"]}
    Password:   {credentials["password"]}

  GraphiQL:     {base}/graphql
  Token:        {credentials["token"]}
  Credentials:  {path.resolve()}

  In GraphiQL's Headers pane put:  {{"Authorization": "Bearer {credentials["token"]}"}}
  then run:                        {{ account {{ name products {{ nodes {{ id name appKey }} }} }} }}
"""


def main() -> None:
    settings = Settings()
    path = credentials_path(settings.data_dir, "default")
    print(welcome_text(settings.host, settings.port, path, json.loads(path.read_text())), flush=True)


if __name__ == "__main__":
    main()
