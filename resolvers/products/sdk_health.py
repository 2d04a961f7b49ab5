"""The SdkHealthDay type: one day of one SDK's health checks for a product (`Product.sdkHealth`).

Written by the ingestion engine (`gateway/ingest/sdk_health.py`) from requests carrying a health check, such as
the one Countly's web SDK sends at every start; such requests never become people.
"""

from __future__ import annotations

from datetime import date, datetime

import asyncpg
import strawberry

from resolvers.pagination import Listing, Order


@strawberry.type(
    description="What one SDK reported about its own health on one day (the product's time zone)."
)
class SdkHealthDay:
    day: date
    sdk_name: str
    sdk_version: str
    checks: int = strawberry.field(description="Health checks received.")
    error_logs: int = strawberry.field(description="Errors the SDKs logged.")
    warning_logs: int = strawberry.field(description="Warnings the SDKs logged.")
    backoffs: int = strawberry.field(description="Times the SDKs backed off from the server.")
    longest_backoff_run: int = strawberry.field(description="The most consecutive backoffs one SDK reported.")
    failed_requests: int = strawberry.field(
        description="Checks whose SDK's previous request to the server had failed (a status other than 2xx)."
    )
    last_status_code: int = strawberry.field(
        description="HTTP status of the latest reporting SDK's last request (-1: none)."
    )
    last_error_message: str = strawberry.field(description="The reply that request got, if it failed.")
    last_received_at: datetime

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> SdkHealthDay:
        return cls(
            day=row["day"],
            sdk_name=row["sdk_name"],
            sdk_version=row["sdk_version"],
            checks=row["checks"],
            error_logs=row["error_logs"],
            warning_logs=row["warning_logs"],
            backoffs=row["backoffs"],
            longest_backoff_run=row["longest_backoff_run"],
            failed_requests=row["failed_requests"],
            last_status_code=row["last_status_code"],
            last_error_message=row["last_error_message"],
            last_received_at=row["last_received_at"],
        )


SDK_HEALTH_COLUMNS = (
    "t.id, t.day, t.sdk_name, t.sdk_version, t.checks, t.error_logs, t.warning_logs, t.backoffs, "
    "t.longest_backoff_run, t.failed_requests, t.last_status_code, t.last_error_message, t.last_received_at"
)
# newest first: a product's row of a new day (or a new SDK version) is created after the older ones
SDK_HEALTH_ORDER = Order("t.id")
PRODUCT_SDK_HEALTH = Listing("sdk_health", "product_id", SDK_HEALTH_COLUMNS, SdkHealthDay.from_row)
