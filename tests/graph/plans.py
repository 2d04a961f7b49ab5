"""What PostgreSQL did for a statement: the scans of the tables that lookups read (`resolvers/lookups.py`)."""

from __future__ import annotations

from typing import Any

from gateway.db.pool import Database

LOOKED_UP = ("devices", "person_identities")


async def lookup_scans(db: Database, sql: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
    """The scans of devices and person identities when the statement runs (EXPLAIN ANALYZE's nodes)."""
    plan = await db.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *args)  # json: decoded by the pool

    def scans(node: dict[str, Any]) -> list[dict[str, Any]]:
        found = [node] if node.get("Relation Name") in LOOKED_UP else []
        return found + [scan for child in node.get("Plans", ()) for scan in scans(child)]

    return scans(plan[0]["Plan"])
