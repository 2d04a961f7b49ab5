"""The record mutation's translation of coerced GraphQL inputs into engine requests."""

from __future__ import annotations

from dataclasses import fields

import pytest

from gateway.ingest.model import EventInput, TrackRequest
from resolvers.errors import UserError
from resolvers.ingest.mutations import _track


def test_every_field_lands_in_its_place() -> None:
    # the request and its events are built positionally: a distinct value per field catches any misplacement
    event = {
        "key": " buy ",
        "count": 3,
        "sum": 1.5,
        "duration": 2.5,
        "segmentation": {"plan": "pro"},
        "timestamp": "1700000000123",
        "path": "/p",
        "title": "T",
        "referrer": "R",
    }
    item = {
        "deviceId": " d1 ",
        "timestamp": "1700000000",
        "beginSession": True,
        "sessionDuration": 30,
        "endSession": True,
        "metrics": {"_os": "Android", "_density": 2, "_carrier": None},
        "events": [event, {"key": "bare", "count": 1}],
        "oldDeviceId": "d0",
        "userDetails": {"name": "Ann"},
        "country": "TR",
        "city": "Izmir",
        "location": "1,2",
        "dedupeHash": "h",
        "checksumPayload": "payload",
        "checksum": "sha1",
        "checksum256": "sha256",
    }
    expected = TrackRequest(
        account_id=7,
        product_id=8,
        device_key="d1",
        timestamp="1700000000",
        begin_session=True,
        session_duration=30,
        end_session=True,
        metrics={"_os": "Android", "_density": "2"},
        events=[
            EventInput(
                key="buy",
                count=3,
                sum=1.5,
                duration=2.5,
                segmentation={"plan": "pro"},
                timestamp="1700000000123",
                path="/p",
                title="T",
                referrer="R",
            ),
            EventInput(key="bare"),
        ],
        old_device_key="d0",
        user_details={"name": "Ann"},
        country="TR",
        city="Izmir",
        location="1,2",
        dedupe_hash="h",
        checksum_payload="payload",
        checksum="sha1",
        checksum256="sha256",
    )
    built = _track(7, 8, item)
    for f in fields(TrackRequest):
        assert getattr(built, f.name) == getattr(expected, f.name), f.name
    assert built == expected


def test_absent_and_empty_values() -> None:
    built = _track(1, 2, {"deviceId": "d", "events": [{"key": "k", "segmentation": {}}], "metrics": None})
    assert built == TrackRequest(1, 2, "d", events=[EventInput("k")])
    assert built.events[0].segmentation is None and built.user_details is None
    assert _track(1, 2, {"deviceId": "d", "userDetails": {}}).user_details is None


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"deviceId": "  "}, "`deviceId` must have"),
        ({"deviceId": "d", "events": [{"key": " "}]}, "An event `key` must have"),
        (
            {"deviceId": "d", "events": [{"key": "k", "segmentation": [1]}]},
            "`segmentation` must be a JSON object",
        ),
        ({"deviceId": "d", "metrics": "x"}, "`metrics` must be a JSON object"),
        ({"deviceId": "d", "userDetails": 5}, "`userDetails` must be a JSON object"),
        ({"deviceId": "d", "events": [{"key": "k"}] * 1001}, "At most 1000 events"),
    ],
)
def test_refused_inputs(item: dict[str, object], message: str) -> None:
    with pytest.raises(UserError, match=message):
        _track(1, 2, item)
