"""Printed by `make run` before the server starts: where GraphiQL is and where the credentials are."""

from __future__ import annotations

import json

from gateway.cli.bootstrap import credentials_path
from gateway.config import Settings


def main() -> None:
    settings = Settings()
    path = credentials_path(settings.data_dir, "default")
    credentials = json.loads(path.read_text())
    url = f"http://{settings.host}:{settings.port}/graphql"
    print(
        f"""
  GraphiQL:     {url}   (open it in a browser)
  Credentials:  {path.resolve()}
  Token:        {credentials["token"]}

  In GraphiQL's Headers pane put:  {{"Authorization": "Bearer {credentials["token"]}"}}
  then run:                        {{ account {{ name products {{ nodes {{ id name appKey }} }} }} }}
""",
        flush=True,
    )


if __name__ == "__main__":
    main()
