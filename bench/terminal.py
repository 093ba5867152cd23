"""A program in a real pseudo-terminal, read as a person would see its text.

``Terminal`` spawns a command on a pty, drains what it writes whenever the harness waits (in
64 KiB reads, so a fast writer is not held back by us), strips terminal escape sequences, and
waits, with a deadline, for a pattern in the visible text. Times are ``perf_counter`` values taken as the bytes are read.
"""

from __future__ import annotations

import os
import re
import select
import termios
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ptyprocess import PtyProcess

from bench.protocol import BenchError, kill_tree

# CSI, OSC (ended by BEL or ST), two- and one-character escapes.
ESCAPES = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]"
    rb"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
    rb"|\x1b[()*+#%][ -~]"
    rb"|\x1b[ -~]"
)
TAIL_KEEP = 1 << 16
CPR_REQUEST = b"\x1b[6n"
CPR_ANSWER = b"\x1b[1;1R"
PARTIAL_ESCAPE = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*|[()*+#%])?$")


@dataclass(frozen=True)
class Seen:
    """Text found on the screen: the match, its end position in the text, and when."""

    match: re.Match[str]
    end: int
    at: float


class Terminal:
    """One spawned program on a pty: send keys, wait for text, measure when it appeared."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], rows: int = 40,
                 cols: int = 120, answers_cpr: bool = False) -> None:
        self.spawned = time.perf_counter()
        try:
            self.proc = PtyProcess.spawn(list(argv), env=dict(env), dimensions=(rows, cols))
        except (OSError, FileNotFoundError) as exc:
            raise BenchError(f"could not start {argv[0]}: {exc}") from exc
        self.length = 0  # characters shown so far, escapes removed (a position in the text)
        self._tail = ""  # the last part of that text, where patterns are searched
        self._tail_start = 0
        self.raw_bytes = 0
        self._pending = b""
        self._closed = False
        self._capture: list[str] | None = None
        # Answer cursor-position requests (ESC [ 6 n) as a terminal emulator does, when read.
        self.answers_cpr = answers_cpr

    @property
    def pid(self) -> int:
        return int(self.proc.pid)

    def echoing(self) -> bool:
        """Whether the terminal is in cooked mode, where the tty driver itself echoes keys.

        (On Linux the master side reports the settings of the program's side.) A key typed
        then is shown by the driver at once, before the program has read it; prompt_toolkit
        is in cooked mode while it prints above the prompt (``run_in_terminal``).
        """
        try:
            return bool(termios.tcgetattr(self.proc.fd)[3] & termios.ECHO)
        except termios.error:
            return False

    def send(self, data: str) -> float:
        """Type ``data``; return the time it was written."""
        os.write(self.proc.fd, data.encode())
        return time.perf_counter()

    def _read_some(self, timeout: float) -> bool:
        """Read whatever is there within ``timeout``; False once the program has gone."""
        if self._closed:
            return False
        ready, _, _ = select.select([self.proc.fd], [], [], max(timeout, 0))
        if not ready:
            return True
        try:
            data = os.read(self.proc.fd, 1 << 16)
        except OSError:
            data = b""
        if not data:
            self._closed = True
            return False
        self.raw_bytes += len(data)
        if self.answers_cpr and CPR_REQUEST in data:
            # Row 1: the whole screen is free below the cursor (the harness keeps no screen).
            os.write(self.proc.fd, CPR_ANSWER * data.count(CPR_REQUEST))
        data = ESCAPES.sub(b"", self._pending + data)
        partial = PARTIAL_ESCAPE.search(data)
        if partial and len(data) - partial.start() < 256:
            data, self._pending = data[: partial.start()], data[partial.start():]
        else:
            self._pending = b""
        text = data.replace(b"\x1b", b"").decode("utf-8", "replace")
        self.length += len(text)
        if self._capture is not None:
            self._capture.append(text)
        self._tail += text
        if len(self._tail) > TAIL_KEEP * 2:
            cut = len(self._tail) - TAIL_KEEP
            self._tail = self._tail[cut:]
            self._tail_start += cut
        return True

    def start_capture(self) -> None:
        """Keep every character shown from now on (for checking a large output in full)."""
        self._capture = []

    def stop_capture(self) -> str:
        """Everything shown since ``start_capture``, escapes removed."""
        text = "".join(self._capture or [])
        self._capture = None
        return text

    def recent(self, chars: int = 200) -> str:
        """The last ``chars`` characters shown, for messages."""
        return self._tail[-chars:].replace("\r", "").strip()

    def wait_for(self, pattern: re.Pattern[str], timeout: float, what: str,
                 start: int = 0) -> Seen:
        """Wait until ``pattern`` shows in the text after position ``start``.

        Returns what was seen, where it ends and the time of the read that completed it; raises
        BenchError after ``timeout`` seconds or if the program exits first.
        """
        deadline = time.perf_counter() + timeout
        checked = start
        while True:
            begin = max(start, checked - 512, self._tail_start) - self._tail_start
            match = pattern.search(self._tail, begin)
            if match:
                return Seen(match, self._tail_start + match.end(), time.perf_counter())
            checked = self.length
            left = deadline - time.perf_counter()
            if left <= 0:
                raise BenchError(f"timed out after {timeout:g} s waiting for {what}; "
                                 f"the screen ended with {self.recent(120)!r}")
            if not self._read_some(left):
                raise BenchError(f"the program exited while waiting for {what}; "
                                 f"last output {self.recent(120)!r}")

    def drain(self, seconds: float) -> None:
        """Keep reading for ``seconds`` (lets output settle without letting the pty fill)."""
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline and self._read_some(deadline - time.perf_counter()):
            pass

    def close(self) -> None:
        """Kill the program and everything it started (its kernel too); never raises.

        Nothing is measured after this, so there is no point in waiting for a polite exit.
        """
        kill_tree(self.pid, graceful=False)
        try:
            self.proc.close(force=True)
        except Exception:
            pass
