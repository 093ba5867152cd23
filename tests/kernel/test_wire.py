"""The wire layer against jupyter_client's Session, byte for byte, in both directions."""

from __future__ import annotations

import json

import pytest
from jupyter_client.session import Session as ReferenceSession

from kernel.wire import DELIMITER, Session, Signer, WireError, dumps

KEY = b"0123456789abcdef-secret"


def _reference() -> ReferenceSession:
    return ReferenceSession(key=KEY, signature_scheme="hmac-sha256")


def test_our_signature_matches_reference_for_same_frames() -> None:
    ref = _reference()
    frames = [dumps({"msg_id": "1"}), dumps({}), dumps({}), dumps({"code": "1+1"})]
    assert Signer(KEY).sign(frames) == ref.sign(frames)


def test_reference_accepts_our_messages() -> None:
    ours = Session(Signer(KEY))
    frames = ours.serialize("execute_reply", {"status": "ok", "execution_count": 3}, {"msg_id": "p"}, idents=[b"client"])
    ref = _reference()
    idents, rest = ref.feed_identities(frames)
    assert idents == [b"client"]
    msg = ref.deserialize(rest)
    assert msg["header"]["msg_type"] == "execute_reply"
    assert msg["content"] == {"status": "ok", "execution_count": 3}
    assert msg["parent_header"]["msg_id"] == "p"
    assert msg["header"]["version"].startswith("5.")


def test_we_accept_reference_messages() -> None:
    ref = _reference()
    msg = ref.msg("execute_request", {"code": "x = 'é'", "silent": False})
    frames = ref.serialize(msg, ident=[b"abc"])
    idents, parsed = Session(Signer(KEY)).deserialize(frames)
    assert idents == [b"abc"]
    assert parsed["content"]["code"] == "x = 'é'"
    assert parsed["header"]["msg_id"] == msg["header"]["msg_id"]


def _reference_frames() -> list[bytes]:
    ref = _reference()
    return ref.serialize(ref.msg("kernel_info_request", {}))


def test_tampered_content_is_rejected() -> None:
    frames = _reference_frames()
    split = frames.index(DELIMITER)
    frames[split + 5] = json.dumps({"code": "import os"}).encode()
    with pytest.raises(WireError, match="invalid signature"):
        Session(Signer(KEY)).deserialize(frames)


def test_unsigned_message_is_rejected() -> None:
    frames = _reference_frames()
    frames[frames.index(DELIMITER) + 1] = b""
    with pytest.raises(WireError, match="unsigned"):
        Session(Signer(KEY)).deserialize(frames)


def test_replayed_message_is_rejected() -> None:
    ours = Session(Signer(KEY))
    frames = _reference_frames()
    ours.deserialize(list(frames))
    with pytest.raises(WireError, match="duplicate"):
        ours.deserialize(list(frames))


def test_wrong_key_is_rejected() -> None:
    with pytest.raises(WireError, match="invalid signature"):
        Session(Signer(b"another key")).deserialize(_reference_frames())


@pytest.mark.parametrize(
    "frames",
    [
        [],
        [b"no delimiter"],
        [DELIMITER, b"sig"],
        [DELIMITER, b"", b"{", b"{}", b"{}", b"{}"],
        [DELIMITER, b"", b"[]", b"{}", b"{}", b"{}"],
        [DELIMITER, b"", b'{"msg_type": 5}', b"{}", b"{}", b"{}"],
        [DELIMITER, b"", b'{"msg_type": "x"}', b"{}", b"{}", b"[1]"],
        [DELIMITER, b"", b"\xff\xfe", b"{}", b"{}", b"{}"],
    ],
)
def test_malformed_frames_raise_wire_error_only(frames: list[bytes]) -> None:
    with pytest.raises(WireError):
        Session(Signer(b"")).deserialize(frames)


def test_empty_key_means_no_signing() -> None:
    ours = Session(Signer(b""))
    frames = ours.serialize("status", {"execution_state": "idle"})
    assert frames[frames.index(DELIMITER) + 1] == b""
    ref = ReferenceSession(key=b"")
    assert ref.deserialize(ref.feed_identities(frames)[1])["content"]["execution_state"] == "idle"


def test_nan_and_bytes_never_break_encoding() -> None:
    encoded = json.loads(dumps({"x": float("nan"), "b": b"\x00\x01", "o": object()}))
    assert encoded["x"] is None
    assert encoded["b"] == "AAE="


def test_replay_memory_is_bounded() -> None:
    signer = Signer(KEY, memory=10)
    ref = _reference()
    for _ in range(50):
        frames = ref.serialize(ref.msg("kernel_info_request", {}))
        split = frames.index(DELIMITER)
        signer.verify(frames[split + 1], frames[split + 2 : split + 6])
    assert len(signer._seen) == 10
