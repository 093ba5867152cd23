"""The Jupyter wire format: headers, HMAC signing and verification, frames.

Pure functions and small value objects; no sockets. A message travels as
``[routing ids..., b"<IDS|MSG>", signature, header, parent_header, metadata, content,
buffers...]`` where the signature is a hex HMAC over the four JSON frames.

Replay protection, and why it is bounded this way. Anyone who can read the traffic (a
non-loopback ip without CurveZMQ) can copy a signed message and send it again. Replaying an
``execute_request`` re-runs code with its side effects (files, databases, payments); a replayed
one with ``user_expressions`` returns the *current* values; a replayed ``shutdown_request``
kills the kernel; a replayed ``input_reply`` answers a new prompt. So a signature is accepted
once. The set of seen signatures must be bounded (memory), and a plain bounded set forgets:
once it overflows, the oldest messages could be replayed again. Each message's signed header
date closes that gap: when a signature is forgotten, its date becomes a floor, and messages
dated at or before the floor are refused (a replay cannot change its date without the key).
The floor starts at the kernel's start minus ``CLOCK_SKEW``: a restarted kernel keeps its key
but starts with an empty set, and messages captured from the previous process are refused.
The cost: a client whose clock lags the kernel's by more than ``CLOCK_SKEW`` (or, after
``REPLAY_MEMORY`` messages, by more than that many messages' worth of time) is refused, with a
log line that names the clock. Messages without a readable date are accepted until the set
first overflows (older clients), refused after (they could be forgotten replays).

The date floor is only needed where traffic can be copied: plain tcp on an address other
than loopback. On loopback and ipc only the machine's administrator can read it, and CurveZMQ
refuses replayed frames itself; there (``dated=False``) only repeated signatures are refused,
so a client on another machine, reached through an ssh tunnel, may have any clock.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import math
import os
import time
from collections import deque
from typing import Any

DELIMITER = b"<IDS|MSG>"
PROTOCOL_VERSION = "5.5"
REPLAY_MEMORY = 1 << 14  # signatures remembered (~100 bytes each); the date floor covers the rest
CLOCK_SKEW = 300.0  # seconds a client's clock may lag the kernel's (see the module docstring)


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
    if hasattr(value, "isoformat"):  # datetime and date (ipyparallel's metadata): ISO 8601, UTC as Z
        text: str = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return repr(value)


def _fast_encoder() -> Any:
    """The C JSON encoder with our settings, called directly (half the cost of
    ``json.dumps``, which builds an encoder per call); ``JSONEncoder.encode`` where the C
    encoder is missing or takes other arguments (checked on a sample)."""
    plain = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
    try:
        from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]

        def refuse(value: Any) -> Any:
            raise TypeError(f"not JSON serializable: {type(value).__name__}")

        make = c_make_encoder
        if make is None:
            return plain.encode

        def encode(value: Any) -> str:
            # a fresh markers dict per call: circular structures raise ValueError, as in dumps
            chunks = make({}, refuse, encode_basestring_ascii, None, ":", ",", False, False, False)(value, 0)
            return "".join(chunks)

        sample = {"a": [1, 2.5, None, True, "\u00e9\n"], "b": {}}
        if encode(sample) != plain.encode(sample):
            return plain.encode
        return encode
    except Exception:  # noqa: BLE001 - any surprise: the public way
        return plain.encode


_encode = _fast_encoder()
_DECODER = json.JSONDecoder()
_scan_once = _DECODER.scan_once  # type: ignore[attr-defined]


def dumps(value: Any) -> bytes:
    """Encode one frame as compact JSON (no NaN); unencodable parts are made safe."""
    if not value and isinstance(value, dict):
        return b"{}"
    try:
        text = _encode(value)
    except (TypeError, ValueError):
        text = json.dumps(_clean_for_json(value), separators=(",", ":"), allow_nan=False)
    return text.encode("ascii")


# the content frames of the two status messages every request has (and of "starting")
_STATUS_FRAMES = {state: dumps({"execution_state": state}) for state in ("busy", "idle", "starting")}


def loads(frame: bytes) -> Any:
    """Decode one JSON frame (UTF-8).

    The decoder's scanner is called directly (``json.loads`` adds an encoding check, two
    whitespace matches and two calls per frame); anything it does not take in one step
    (surrounding whitespace, an error to report) goes through the full decoder.
    """
    if frame == b"{}":
        return {}
    text = frame.decode("utf-8")
    try:
        value, end = _scan_once(text, 0)
    except StopIteration:
        end = -1
    if end != len(text):
        return _DECODER.decode(text)
    return value


_last_second: list[Any] = [-1, ""]  # the second last formatted and its text (a cache)


def utc_timestamp(now: float | None = None) -> str:
    """An ISO 8601 UTC timestamp with microseconds, as Jupyter headers carry."""
    now = time.time() if now is None else now
    seconds = int(now)
    micros = int((now - seconds) * 1_000_000)
    cached_second, text = _last_second  # (read together: another thread may replace the list items)
    if cached_second != seconds:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        _last_second[:] = [seconds, text]
    return f"{text}.{micros:06d}Z"


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def parse_date(value: Any) -> float | None:
    """Seconds since the epoch of an ISO 8601 header date, or None if it cannot be read.

    Handles what Jupyter clients send (``2026-11-22T01:02:03.456789Z``, ``+01:00`` offsets,
    local dates without an offset); parsed by hand because ``datetime`` costs start-up time.
    """
    if not isinstance(value, str) or len(value) < 19:
        return None
    text = value.strip()
    if text[4:5] != "-" or text[7:8] != "-" or text[10:11] not in ("T", "t", " "):
        return None
    if text[13:14] != ":" or text[16:17] != ":":
        return None
    try:
        fields = [int(text[a:b]) for a, b in ((0, 4), (5, 7), (8, 10), (11, 13), (14, 16), (17, 19))]
        year, month, day, hour, minute, second = fields
        rest = text[19:]
        fraction = 0.0
        if rest[:1] in (".", ","):
            digits = len(rest) - len(rest[1:].lstrip("0123456789")) - 1
            fraction = float("0." + (rest[1 : 1 + digits] or "0"))
            rest = rest[1 + digits :]
        if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59 and second <= 60):
            return None
        if rest == "":
            return time.mktime((year, month, day, hour, minute, second, 0, 0, -1)) + fraction
        if rest in ("Z", "z"):
            offset = 0
        elif len(rest) == 6 and rest[0] in "+-" and rest[3] == ":":
            offset = (int(rest[1:3]) * 3600 + int(rest[4:6]) * 60) * (-1 if rest[0] == "-" else 1)
        else:
            return None
    except (ValueError, OverflowError):
        return None
    days = _days_from_civil(year, month, day)
    return days * 86400 + hour * 3600 + minute * 60 + second + fraction - offset


def new_id() -> str:
    """A random hex identifier (session ids, kernel ids)."""
    return os.urandom(16).hex()


def _hmac_template(key: bytes, digest_name: str, digestmod: Any) -> Any:
    """An HMAC object to copy per message: OpenSSL's own where it has the digest (its copy,
    update and hexdigest are C calls, a third cheaper than the ``hmac`` module's wrappers)."""
    try:
        import _hashlib

        return _hashlib.hmac_new(key, digestmod=digest_name)
    except (ImportError, AttributeError, ValueError, TypeError):
        return hmac.new(key, digestmod=digestmod)


class Signer:
    """Signs outgoing frames and verifies incoming ones, with replay protection.

    An empty key disables signing: messages go out with an empty signature and any signature
    is accepted, as the protocol says. Replay protection: each signature is accepted once, and
    with ``dated`` messages dated at or before ``floor`` are refused (see the module docstring).
    """

    def __init__(
        self,
        key: bytes,
        scheme: str = "hmac-sha256",
        memory: int = REPLAY_MEMORY,
        started: float | None = None,
        dated: bool = True,
    ):
        if not scheme.startswith("hmac-"):
            raise ValueError(f"unsupported signature scheme {scheme!r}")
        digest_name = scheme[len("hmac-") :]
        try:
            digestmod = getattr(hashlib, digest_name)
            digestmod()
        except (AttributeError, TypeError, ValueError) as exc:
            raise ValueError(f"unsupported signature scheme {scheme!r}") from exc
        self.key = key
        self._template = _hmac_template(key, digest_name, digestmod) if key else None
        # remembered signatures, as 64-bit prefixes (a collision only refuses a message, and
        # nobody without the key can aim for one): prefix -> date, and the arrival order
        self._seen: dict[int, float | None] = {}
        self._order: deque[int] = deque()
        self._memory = memory
        self.floor = (time.time() if started is None else started) - CLOCK_SKEW
        self._forgot = False  # True once a signature was dropped from the set
        self.dated = dated

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
        """Raise WireError unless the signature is valid and new; remember it."""
        self.authenticate(signature, frames)
        self.remember(signature, None)

    def authenticate(self, signature: bytes, frames: list[bytes]) -> None:
        """Raise WireError unless the signature is present, not seen before, and valid."""
        if self._template is None:
            return
        if not signature:
            raise WireError("unsigned message")
        if not hmac.compare_digest(signature, self.sign(frames)):
            raise WireError("invalid signature")
        if int(signature[:16], 16) in self._seen:
            raise WireError("duplicate signature (replayed message)")

    def remember(self, signature: bytes, date: Any) -> None:
        """Accept an authenticated message unless its header ``date`` is at or before the floor
        (``None``: the caller has no date to check, as in ``verify``).

        Only accepted messages enter the bounded set, so refused replays cannot push real
        signatures out (and the floor up).
        """
        if self._template is None:
            return
        when = parse_date(date) if self.dated else None
        if when is None and date is not None and self._forgot and self.dated:
            raise WireError("message without a readable date (replay protection needs one)")
        if when is not None and when <= self.floor:
            raise WireError(
                f"message dated {date} is older than replay protection allows "
                f"(before the kernel started, or before messages it no longer remembers): "
                f"a replay, or a client clock more than {CLOCK_SKEW:.0f} s behind"
            )
        key = int(signature[:16], 16)
        self._seen[key] = when
        self._order.append(key)
        if len(self._order) > self._memory:
            forgotten = self._seen.pop(self._order.popleft(), None)
            self._forgot = True
            if forgotten is not None and forgotten > self.floor:
                self.floor = forgotten


class Session:
    """Builds and parses Jupyter messages for one kernel session."""

    def __init__(self, signer: Signer, username: str = "kernel", session_id: str | None = None):
        self.signer = signer
        self.username = username
        self.session_id = session_id or new_id()
        self._ids = itertools.count(1)  # next() is atomic: threads (subshells) never share an id
        # the headers of the last requests received, with their JSON as it came: a reply or
        # output names its request as parent, and that frame is sent back as it arrived
        # (a handful: the shell, control and subshell threads each have a request in hand)
        self._raw_headers: deque[tuple[dict[str, Any], bytes]] = deque(maxlen=8)
        # (username, session id, both as JSON text) and each msg_type as JSON: for header_frame
        self._json_names: tuple[str, str, str, str] = ("", "", "", "")
        self._json_types: dict[str, str] = {}

    def _parent_frame(self, parent: dict[str, Any] | None) -> bytes:
        """The JSON frame of ``parent``: the bytes it arrived as when it is a request's header."""
        if not parent:
            return b"{}"
        for header, frame in tuple(self._raw_headers):
            if header is parent:
                return frame
        return dumps(parent)

    def header_frame(self, msg_type: str) -> bytes:
        """The JSON frame of a fresh header (msg_id, msg_type, username, session, date,
        version), built as text: every message carries one, and a dict encoded as JSON cost
        twice as much."""
        names = self._json_names
        if names[0] is not self.username or names[1] is not self.session_id:
            names = self._json_names = (self.username, self.session_id, json.dumps(self.username),
                                        json.dumps(self.session_id)[1:-1])
        kind = self._json_types.get(msg_type)
        if kind is None:
            kind = self._json_types[msg_type] = json.dumps(msg_type)
        session = names[3]
        return (
            f'{{"msg_id":"{session}_{os.getpid()}_{next(self._ids)}","msg_type":{kind},'
            f'"username":{names[2]},"session":"{session}","date":"{utc_timestamp()}",'
            f'"version":"{PROTOCOL_VERSION}"}}'
        ).encode("ascii")

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
        content_frame = None
        if msg_type == "status" and len(content) == 1:  # two of every request's messages
            content_frame = _STATUS_FRAMES.get(str(content.get("execution_state")))
        frames = [
            self.header_frame(msg_type),
            self._parent_frame(parent),
            dumps(metadata) if metadata else b"{}",
            content_frame or dumps(content),
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
        self.signer.authenticate(signature, frames)
        try:
            header, parent, metadata, content = (loads(f) for f in frames)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nesting
            raise WireError(f"bad JSON: {str(exc)[:200]}") from None
        if not isinstance(header, dict) or not isinstance(header.get("msg_type"), str):
            raise WireError("header is not an object with a msg_type")
        if not isinstance(header.get("msg_id", ""), str):
            raise WireError("header msg_id is not a string")
        self.signer.remember(signature, header.get("date", ""))
        self._raw_headers.append((header, frames[0]))
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
