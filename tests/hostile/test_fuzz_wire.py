"""Property-based fuzzing of the deserializer: any frames give a message or a WireError.

Signed variants are signed with the right key, so the fuzz reaches the JSON and type checks
behind the signature instead of stopping at the HMAC.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernel.wire import DELIMITER, Session, Signer, WireError

KEY = b"fuzz-key"
EXAMPLES = 200
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)
FIELDS = ("msg_id", "msg_type", "session", "username", "date", "version")


def _check(frames: list[bytes]) -> None:
    session = Session(Signer(KEY))
    try:
        _, msg = session.deserialize(frames)
    except WireError:
        return
    assert isinstance(msg["header"], dict) and isinstance(msg["msg_type"], str)
    assert isinstance(msg["content"], dict) and isinstance(msg["parent_header"], dict)


def _sign(parts: list[bytes]) -> list[bytes]:
    return [DELIMITER, Signer(KEY).sign(parts[:4]), *parts]


@FUZZ
@given(st.lists(st.binary(max_size=64), max_size=10))
def test_random_frames(frames: list[bytes]) -> None:
    _check(frames)
    _check([DELIMITER, *frames])


@FUZZ
@given(st.lists(st.binary(max_size=64), min_size=4, max_size=8))
def test_random_signed_frames(parts: list[bytes]) -> None:
    _check(_sign(parts))


@FUZZ
@given(
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6),
    json_values,
    json_values,
    json_values,
)
def test_wrong_types_in_every_field(header: dict[str, Any], parent: Any, metadata: Any, content: Any) -> None:
    parts = [json.dumps(value).encode() for value in (header, parent, metadata, content)]
    _check(_sign(parts))
    header = dict(header, msg_type="execute_request")  # the common path with odd fields
    _check(_sign([json.dumps(header).encode(), *parts[1:]]))


@FUZZ
@given(st.binary(min_size=1, max_size=32), st.integers(min_value=0, max_value=3))
def test_invalid_utf8_and_bad_json(noise: bytes, where: int) -> None:
    parts = [b'{"msg_type": "kernel_info_request", "msg_id": "a"}', b"{}", b"{}", b"{}"]
    parts[where] = parts[where][:1] + b"\xff\xfe" + noise + parts[where][1:]
    _check(_sign(parts))


def test_deep_nesting_and_huge_numbers() -> None:
    for content in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000, b"1" * 100_000, b'{"x": 1e999999}'):
        _check(_sign([b'{"msg_type": "x"}', b"{}", b"{}", content]))
