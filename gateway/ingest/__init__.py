"""The ingestion engine: validates tracking requests, applies Countly's counting rules and writes raw rows
plus time-bucketed rollups in group-committed transactions.

Public API: `IngestEngine`, `TrackRequest`, `EventInput`, `Outcome`.
"""

from gateway.ingest.engine import IngestEngine
from gateway.ingest.model import EventInput, Outcome, TrackRequest

__all__ = ["EventInput", "IngestEngine", "Outcome", "TrackRequest"]
