"""Data replies: HTML-escaped string values and compact JSON, exactly as the plain recursive form writes them."""

from __future__ import annotations

import json
import random
from typing import Any

from adapters.countly import replies

ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}


def reference_escape(value: Any) -> Any:
    if isinstance(value, str):
        return "".join(ESCAPES.get(char, char) for char in value)
    if isinstance(value, dict):
        return {key: reference_escape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [reference_escape(item) for item in value]
    return value


def random_document(rnd: random.Random, depth: int = 0) -> Any:
    kind = rnd.choice(["int", "float", "str", "bool", "none"] + (["dict", "list"] * 2 if depth < 4 else []))
    if kind == "int":
        return rnd.randint(-(10**6), 10**20)
    if kind == "float":
        return rnd.choice([0.5, -0.0, 1e16, 2.5e-5, rnd.random() * 1000])
    if kind == "str":
        return "".join(rnd.choice("ab<>&\"' é\u2028") for _ in range(rnd.randint(0, 6)))
    if kind == "bool":
        return rnd.random() < 0.5
    if kind == "none":
        return None
    if kind == "dict":
        return {f"k<{i}>'": random_document(rnd, depth + 1) for i in range(rnd.randint(0, 5))}
    return [random_document(rnd, depth + 1) for _ in range(rnd.randint(0, 5))]


def test_data_replies_equal_the_plain_recursive_escape_and_json_dumps() -> None:
    rnd = random.Random(7)
    for _ in range(2000):
        document = random_document(rnd)
        assert replies.escape_data(document) == reference_escape(document)
        expected = json.dumps(reference_escape(document), ensure_ascii=False, separators=(",", ":"))
        response = replies.data(document)
        assert response.text == expected
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"


def test_jsonp_data_reply_wraps_the_same_text() -> None:
    response = replies.data({"a": "<b>", "n": 1}, callback="cb")
    assert response.text == 'cb({"a":"&lt;b&gt;","n":1})'


def test_documents_with_nothing_to_escape_are_written_as_they_are() -> None:
    rnd = random.Random(11)
    for _ in range(2000):
        document = random_document(rnd)
        # the same shapes with names and values that need no escaping, backslashes and quotes aside
        text = json.dumps(document).translate(str.maketrans({"<": "a", ">": "b", "&": "c", "'": "d"}))
        plain = json.loads(text)
        expected = json.dumps(reference_escape(plain), ensure_ascii=False, separators=(",", ":"))
        assert replies.data(plain).text == expected
    for document in ({"a": 'x"y'}, {"a": "back\\"}, {'k"': 1}, {"a": ["\\", '"']}, {"n": 1930.000000000001}):
        expected = json.dumps(reference_escape(document), ensure_ascii=False, separators=(",", ":"))
        assert replies.data(document).text == expected
