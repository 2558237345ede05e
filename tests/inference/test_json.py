"""The gateway's JSON (orjson with the standard library behind it) reads and writes what
:mod:`json` does, including the inputs orjson alone would change or refuse."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aisec.inference import _json

_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)  # fmt: skip
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(_VALUES)
def test_reads_and_writes_what_the_standard_library_does(value: Any) -> None:
    text = json.dumps(value)
    assert _json.loads(text.encode()) == json.loads(text)
    assert _json.loads_reply(text.encode())[0] == json.loads(text)
    assert json.loads(_json.dumps(value)) == json.loads(text)
    assert json.loads(_json.dumps_text(value)) == json.loads(text)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"n": 123456789012345678901234567890, "m": -98765432109876543210987}',  # > 64 bits
        b'{"s": "\\ud800"}',  # a lone surrogate escape
        '{"u": "caf\u00e9"}'.encode("utf-16"),  # json.loads detects UTF-16 bytes
    ],
)
def test_what_orjson_would_change_is_read_and_written_exactly(raw: bytes) -> None:
    expected = json.loads(raw)
    for got in (_json.loads(raw), _json.loads_reply(raw)[0]):
        assert json.dumps(got) == json.dumps(expected)
        assert json.loads(_json.dumps(got)) == expected


def test_nan_is_not_json_in_a_request_but_survives_a_reply() -> None:
    raw = b'{"x": NaN, "y": -Infinity, "z": 1}'
    with pytest.raises(ValueError):
        _json.loads(raw)
    data, exact = _json.loads_reply(raw)
    assert exact
    again = json.loads(_json.dumps(data, exact=exact))
    assert math.isnan(again["x"]) and again["y"] == -math.inf and again["z"] == 1


def test_invalid_json_is_still_a_value_error() -> None:
    with pytest.raises(ValueError):
        _json.loads(b'{"cut": ')
    with pytest.raises(ValueError):
        _json.loads_reply(b'{"cut": ')
