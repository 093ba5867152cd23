"""The Jupyter wire format: headers, HMAC signing and verification, frames.

Pure functions and small value objects; no sockets. A message travels as
``[routing ids..., b"<IDS|MSG>", signature, header, parent_header, metadata, content,
buffers...]`` where the signature is a hex HMAC over the four JSON frames.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import time
from collections import OrderedDict
from typing import Any

DELIMITER = b"<IDS|MSG>"
PROTOCOL_VERSION = "5.4"
REPLAY_MEMORY = 1 << 16  # signatures remembered for replay protection


class WireError(ValueError):
    """A message that must be dropped: malformed, unsigned, badly signed or replayed."""


def _clean_for_json(value: Any) -> Any:
    """Replace what JSON cannot carry (NaN, infinities, bytes, odd keys) with safe values."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean_for_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_for_json(v) for v in value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        import base64

        return base64.b64encode(bytes(value)).decode("ascii")
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return repr(value)


def dumps(value: Any) -> bytes:
    """Encode one frame as compact JSON (no NaN); unencodable parts are made safe."""
    try:
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        text = json.dumps(_clean_for_json(value), separators=(",", ":"), allow_nan=False)
    return text.encode("ascii")


def loads(frame: bytes) -> Any:
    """Decode one JSON frame (UTF-8)."""
    return json.loads(frame)


def utc_timestamp(now: float | None = None) -> str:
    """An ISO 8601 UTC timestamp with microseconds, as Jupyter headers carry."""
    now = time.time() if now is None else now
    seconds = int(now)
    micros = int((now - seconds) * 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros:06d}Z"


def new_id() -> str:
    """A random hex identifier (session ids, kernel ids)."""
    return os.urandom(16).hex()


class Signer:
    """Signs outgoing frames and verifies incoming ones, with replay protection.

    An empty key disables signing: messages go out with an empty signature and any signature
    is accepted, as the protocol says.
    """

    def __init__(self, key: bytes, scheme: str = "hmac-sha256", memory: int = REPLAY_MEMORY):
        if not scheme.startswith("hmac-"):
            raise ValueError(f"unsupported signature scheme {scheme!r}")
        digest_name = scheme[len("hmac-") :]
        try:
            digestmod = getattr(hashlib, digest_name)
            digestmod()
        except (AttributeError, TypeError, ValueError) as exc:
            raise ValueError(f"unsupported signature scheme {scheme!r}") from exc
        self.key = key
        self._template = hmac.new(key, digestmod=digestmod) if key else None
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self._memory = memory

    @property
    def enabled(self) -> bool:
        return self._template is not None

    def sign(self, frames: list[bytes]) -> bytes:
        """The hex signature of the four JSON frames, or b"" without a key."""
        if self._template is None:
            return b""
        mac = self._template.copy()
        for frame in frames:
            mac.update(frame)
        return mac.hexdigest().encode("ascii")

    def verify(self, signature: bytes, frames: list[bytes]) -> None:
        """Raise WireError unless the signature is valid and new."""
        if self._template is None:
            return
        if not signature:
            raise WireError("unsigned message")
        if signature in self._seen:
            raise WireError("duplicate signature (replayed message)")
        if not hmac.compare_digest(signature, self.sign(frames)):
            raise WireError("invalid signature")
        self._seen[signature] = None
        if len(self._seen) > self._memory:
            self._seen.popitem(last=False)


class Session:
    """Builds and parses Jupyter messages for one kernel session."""

    def __init__(self, signer: Signer, username: str = "kernel", session_id: str | None = None):
        self.signer = signer
        self.username = username
        self.session_id = session_id or new_id()
        self._counter = 0

    def header(self, msg_type: str) -> dict[str, Any]:
        """A fresh header for a message of ``msg_type``."""
        self._counter += 1
        return {
            "msg_id": f"{self.session_id}_{os.getpid()}_{self._counter}",
            "msg_type": msg_type,
            "username": self.username,
            "session": self.session_id,
            "date": utc_timestamp(),
            "version": PROTOCOL_VERSION,
        }

    def serialize(
        self,
        msg_type: str,
        content: dict[str, Any],
        parent: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        idents: list[bytes] | None = None,
        buffers: list[bytes] | None = None,
    ) -> list[bytes]:
        """The frames of a new message, ready for ``send_multipart``."""
        frames = [
            dumps(self.header(msg_type)),
            dumps(parent or {}),
            dumps(metadata or {}),
            dumps(content),
        ]
        out = list(idents or [])
        out.append(DELIMITER)
        out.append(self.signer.sign(frames))
        out.extend(frames)
        if buffers:
            out.extend(buffers)
        return out

    def deserialize(self, raw: list[bytes]) -> tuple[list[bytes], dict[str, Any]]:
        """Split routing ids from a verified message; raise WireError for anything wrong."""
        try:
            split = raw.index(DELIMITER)
        except ValueError:
            raise WireError("no <IDS|MSG> delimiter") from None
        idents = raw[:split]
        rest = raw[split + 1 :]
        if len(rest) < 5:
            raise WireError(f"too few frames ({len(rest)} after the delimiter, need 5)")
        signature = bytes(rest[0])
        frames = [bytes(f) for f in rest[1:5]]
        self.signer.verify(signature, frames)
        try:
            header, parent, metadata, content = (loads(f) for f in frames)
        except (ValueError, UnicodeDecodeError) as exc:
            raise WireError(f"bad JSON: {exc}") from None
        if not isinstance(header, dict) or not isinstance(header.get("msg_type"), str):
            raise WireError("header is not an object with a msg_type")
        if not isinstance(header.get("msg_id", ""), str):
            raise WireError("header msg_id is not a string")
        msg = {
            "header": header,
            "parent_header": parent if isinstance(parent, dict) else {},
            "metadata": metadata if isinstance(metadata, dict) else {},
            "content": content if isinstance(content, dict) else {},
            "buffers": [bytes(b) for b in rest[5:]],
            "msg_type": header["msg_type"],
        }
        if not isinstance(content, dict):
            raise WireError("content is not an object")
        return idents, msg
