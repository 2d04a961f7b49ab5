"""The benchmark's ingestion requests, joined from pieces quoted once, equal the plain formulation byte for byte:
the faster builders must not change what the gateway is measured on."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from bench.builders import bulk_builder, bulk_items, ingest_builder, ingest_params

# quote_plus escapes these; the run name is the harness's (hex, a dash, a letter and the round)
APP_KEY = "k/+ é&=9"
RUN = "3fa2c1d0-b1"


@pytest.mark.parametrize("number", [0, 1, 7, 399, 12_345])
@pytest.mark.parametrize(("per_call", "events"), [(50, 10), (3, 1), (7, 2)])
def test_a_bulk_call_is_its_items_quoted_whole(number: int, per_call: int, events: int) -> None:
    request = bulk_builder("http://127.0.0.1:1", APP_KEY, RUN, per_call, events)(number)
    assert isinstance(request.data, bytes)
    sent = json.loads(parse_qs(request.data.decode())["requests"][0])
    now = sent[0]["timestamp"]
    plain = urlencode(
        {"app_key": APP_KEY, "requests": json.dumps(bulk_items(RUN, number, per_call, events, now))}
    )
    assert request.data == plain.encode()
    assert request.units == per_call * events
    assert request.url == "http://127.0.0.1:1/i/bulk"


@pytest.mark.parametrize("events", [1, 3])
@pytest.mark.parametrize("client", [0, 5, 63])
def test_an_i_request_is_its_parameters_quoted_whole(events: int, client: int) -> None:
    build = ingest_builder("http://127.0.0.1:1", APP_KEY, RUN, events).sequence(client)
    for number in [*range(30), 1_000_003]:
        request = build(number)
        now = int(parse_qs(urlsplit(request.url).query)["timestamp"][0])
        assert request.url == "http://127.0.0.1:1/i?" + urlencode(
            ingest_params(APP_KEY, RUN, client, number, events, now)
        )
        assert request.units == (events if number % 3 == 1 else 0)


def test_each_i_client_sends_its_devices_sessions_in_order() -> None:
    """A device's begin_session, events and end_session come from one client, one after the other (as an SDK
    sends its queue), and no two clients share a device."""
    builder = ingest_builder("http://127.0.0.1:1", APP_KEY, RUN, 3)
    seen: dict[str, tuple[int, list[str]]] = {}
    for client in range(4):
        build = builder.sequence(client)
        for number in range(9):
            query = parse_qs(urlsplit(build(number).url).query)
            kind = next(k for k in ("begin_session", "events", "end_session") if k in query)
            owner, kinds = seen.setdefault(query["device_id"][0], (client, []))
            assert owner == client
            kinds.append(kind)
    assert len(seen) == 12
    assert all(kinds == ["begin_session", "events", "end_session"] for _, kinds in seen.values())
