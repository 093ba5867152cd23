"""Generators of hostile messages, shared by the CI fuzz tests and ``bench/fuzz_kernel.py``.

Everything is drawn from a ``random.Random``, so hypothesis (``st.randoms()``) and the long
bench run use the same generators. ``hostile_request`` makes well-signed messages with wrong
types in every field; ``malformed_frames`` makes raw frames the kernel must drop.
"""

from __future__ import annotations

import json
import random
from typing import Any

from jupyter_client.session import Session as ReferenceSession

DELIMITER = b"<IDS|MSG>"

# request fields by message type, as the protocol names them
FIELDS: dict[str, tuple[str, ...]] = {
    "execute_request": ("code", "silent", "store_history", "user_expressions", "allow_stdin", "stop_on_error"),
    "complete_request": ("code", "cursor_pos"),
    "inspect_request": ("code", "cursor_pos", "detail_level"),
    "is_complete_request": ("code",),
    "history_request": ("output", "raw", "hist_access_type", "session", "start", "stop", "n", "pattern", "unique"),
    "kernel_info_request": (),
    "comm_info_request": ("target_name",),
    "comm_open": ("comm_id", "target_name", "data"),
    "comm_msg": ("comm_id", "data"),
    "comm_close": ("comm_id", "data"),
    "connect_request": (),
    "interrupt_request": (),
    "debug_request": ("command", "arguments", "seq", "type"),
    "input_reply": ("value", "status"),
}
SHELL_TYPES = tuple(t for t in FIELDS if t not in ("debug_request", "input_reply"))
CONTROL_TYPES = ("kernel_info_request", "interrupt_request", "debug_request", "execute_request", "complete_request")
ODD_STRINGS = (
    "", "\x00", "\ud800", "\udfff\ud800", "é" * 3, "🐍" * 5, "\r\n" * 3, "%%%", "!", "?", "??", "%time",
    "import os; os.", "def f(:", "'''", "\\", "a" * 5000, "x." * 2000, "(" * 300, "print(", "\t\t",
    "tail", "range", "search", "*", "[", "__import__", "1/0", "yield", "await", "return 1", "raise SystemExit",
)


def wild_value(rng: random.Random, depth: int = 0) -> Any:
    """Any JSON value, biased towards the kinds that break handlers."""
    kind = rng.randrange(12 if depth < 3 else 8)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 1, 2**31, -(2**63), 2**64 + 1, 10**30, -(10**30), 7])
    if kind == 3:
        return rng.choice([0.5, -1e308, 1e308, 1e-320, -0.0, 3.0])
    if kind in (4, 5, 6):
        return rng.choice(ODD_STRINGS)
    if kind == 7:
        return "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(20)))
    if kind in (8, 9):
        return [wild_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(["a", "", "code", "🐍", "0"]): wild_value(rng, depth + 1) for _ in range(rng.randrange(4))}


def hostile_content(rng: random.Random, msg_type: str) -> dict[str, Any]:
    """Content for ``msg_type`` with wrong types (or odd values) in its fields."""
    content: dict[str, Any] = {}
    for name in FIELDS.get(msg_type, ("code",)):
        roll = rng.random()
        if roll < 0.15:
            continue  # field missing
        if name == "cursor_pos" and roll < 0.6:
            content[name] = rng.choice([-1, -(10**12), 10**12, 2**63, 0, 5, 10**6])
        elif name == "code" and roll < 0.6:
            content[name] = rng.choice(ODD_STRINGS)
        else:
            content[name] = wild_value(rng)
    if rng.random() < 0.2:
        content[rng.choice(["extra", "", "🐍"])] = wild_value(rng)
    if msg_type == "execute_request" and isinstance(content.get("code"), str):
        content["allow_stdin"] = False  # nobody answers input() here
    return content


def hostile_request(rng: random.Random) -> tuple[str, str, dict[str, Any]]:
    """(channel, msg_type, content) of one well-formed but hostile request."""
    roll = rng.random()
    if roll < 0.1:
        msg_type = rng.choice(["", "nonsense", "execute_reply", "status", "shutdown", "x_request", "🐍_request", "stream"])
        return rng.choice(["shell", "control"]), msg_type, hostile_content(rng, msg_type)
    if roll < 0.25:
        msg_type = rng.choice(CONTROL_TYPES)
        return "control", msg_type, hostile_content(rng, msg_type)
    if roll < 0.3:
        return "stdin", "input_reply", hostile_content(rng, "input_reply")
    msg_type = rng.choice(SHELL_TYPES)
    return "shell", msg_type, hostile_content(rng, msg_type)


def sign_parts(session: ReferenceSession, parts: list[bytes]) -> list[bytes]:
    return [DELIMITER, session.sign(parts[:4]), *parts]


def malformed_frames(rng: random.Random, session: ReferenceSession, code: str) -> tuple[str, list[bytes]]:
    """(why, frames) of a message the kernel must drop without running ``code``."""
    header = session.pack(session.msg_header("execute_request"))
    content = json.dumps({"code": code}).encode()
    good = [header, b"{}", b"{}", content]
    kind = rng.randrange(12)
    if kind == 0:
        return "no delimiter", [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))]
    if kind == 1:
        return "too few frames", [DELIMITER, *[b"{}"] * rng.randrange(5)]
    if kind == 2:
        return "unsigned", [DELIMITER, b"", *good]
    if kind == 3:
        return "bad signature", [DELIMITER, session.sign(good)[::-1], *good]
    if kind == 4:
        tampered = list(good)
        tampered[rng.randrange(4)] += b" "
        return "tampered", [DELIMITER, session.sign(good), *tampered]
    if kind == 5:
        return "random signature", [DELIMITER, bytes(rng.randrange(256) for _ in range(64)), *good]
    if kind == 6:
        parts = list(good)
        parts[rng.randrange(4)] = b"{" + bytes(rng.randrange(256) for _ in range(10))
        return "bad JSON", sign_parts(session, parts)
    if kind == 7:
        parts = list(good)
        parts[0] = rng.choice([b"[]", b"1", b'"x"', b"null", b'{"msg_type": 5}', b'{"msg_type": "x", "msg_id": []}'])
        return "bad header", sign_parts(session, parts)
    if kind == 8:
        parts = list(good)
        parts[3] = rng.choice([b"[]", b"1", b'"code"', b"null"])
        return "content not an object", sign_parts(session, parts)
    if kind == 9:
        parts = list(good)
        parts[rng.randrange(4)] += b"\xff\xfe"
        return "invalid UTF-8", sign_parts(session, parts)
    if kind == 10:
        stale = session.msg("execute_request", {"code": code})
        stale["header"]["date"] = "1999-12-31T23:59:59Z"
        return "stale date", session.serialize(stale)
    return "deep nesting", sign_parts(session, [header, b"{}", b"{}", b"[" * 100_000 + b"]" * 100_000])
