"""Analytics reads over the rollup tables (never the raw events): session/user series, event series, event keys.

`queries` holds the read functions, `types` the Strawberry types (`ProductAnalytics`) the lead attaches to
the Product type.
"""

from resolvers.analytics.queries import (
    EventKeys,
    EventPoint,
    SessionPoint,
    event_keys,
    event_series,
    session_series,
)

__all__ = ["EventKeys", "EventPoint", "SessionPoint", "event_keys", "event_series", "session_series"]
