"""The start-up terminal query: which graphics the terminal shows (kitty, sixel).

Light on purpose: the query is sent before the console's heavy imports, which then overlap the
terminal's round trip (long over ssh); the answer is read once they are done.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from console.mime.detect import (
    GRAPHICS_QUERY,
    detect_graphics,
    parse_graphics_reply,
    typeahead_in_reply,
)

PROBE_TIMEOUT = 0.1
"""Longest the start-up graphics query may wait for the terminal's answer (seconds)."""


class GraphicsProbe:
    """The terminal's answer to the graphics query (kitty, sixel), asked early, read later.

    ``start`` puts the terminal in raw mode with echo off and sends the query; ``finish`` reads
    the answer (stopping at the device-attributes reply every terminal sends last, or when
    ``timeout`` since the query has passed) and restores the terminal. Work done in between
    (the console's imports) overlaps the terminal's round trip, which is long over ssh.
    """

    def __init__(self, fd_in: int, fd_out: int, timeout: float = PROBE_TIMEOUT) -> None:
        self.fd_in, self.fd_out, self.timeout = fd_in, fd_out, timeout
        self._saved: list[Any] | None = None
        self._deadline = 0.0

    def start(self) -> bool:
        """Send the query; False (nothing done) when either side is not a terminal."""
        import termios
        import time

        if not (os.isatty(self.fd_in) and os.isatty(self.fd_out)):
            return False
        try:
            saved = termios.tcgetattr(self.fd_in)
        except termios.error:
            return False
        raw = list(saved)
        raw[0] = raw[0] & ~termios.ICRNL  # iflags: a typed Enter stays \r, as the prompt reads it
        raw[3] = raw[3] & ~(termios.ECHO | termios.ICANON)  # lflags: no echo, byte by byte
        self._saved = saved
        try:
            termios.tcsetattr(self.fd_in, termios.TCSANOW, raw)
            os.write(self.fd_out, GRAPHICS_QUERY.encode())
        except (OSError, termios.error):
            self._restore()
            return False
        self._deadline = time.monotonic() + self.timeout
        return True

    def finish(self) -> tuple[str | None, str]:
        """(graphics mode or None, keys typed since ``start``); the terminal as it was."""
        import select
        import time

        if self._saved is None:
            return None, ""
        reply = b""
        try:
            while True:
                left = self._deadline - time.monotonic()
                ready, _, _ = select.select([self.fd_in], [], [], max(left, 0))
                if not ready:
                    break
                chunk = os.read(self.fd_in, 1024)
                if not chunk:
                    break
                reply += chunk
                da1 = reply.find(b"\x1b[?")
                if da1 >= 0 and reply.find(b"c", da1) > 0:
                    break
        except OSError:
            pass  # what was read so far still counts
        finally:
            self._restore()
        text = reply.decode("utf-8", "replace")
        return parse_graphics_reply(text), typeahead_in_reply(text)

    def _restore(self) -> None:
        import termios

        if self._saved is not None:
            try:
                termios.tcsetattr(self.fd_in, termios.TCSANOW, self._saved)
            except termios.error:
                pass
            self._saved = None


def probe_graphics(fd_in: int, fd_out: int, timeout: float = PROBE_TIMEOUT) -> tuple[str | None, str]:
    """Ask the terminal which graphics it shows and wait for the answer: (mode or None, type-ahead).

    Bounded by ``timeout``; read in raw mode with echo off, so the answer never shows. Keys the
    user typed meanwhile come back as the type-ahead text, for the prompt. (None, "") when
    either side is not a terminal.
    """
    probe = GraphicsProbe(fd_in, fd_out, timeout)
    probe.start()
    return probe.finish()


def startup_probe(graphics: str, env: Mapping[str, str] | None = None) -> GraphicsProbe | None:
    """The start-up graphics query, sent, when it can tell more than the environment does;
    the caller reads the answer with ``finish()`` once its own start-up work is done.

    Only for ``--graphics auto`` when the environment's guess is plain ``blocks`` outside a
    multiplexer (tmux and screen answer for themselves, not for the terminal behind them).
    """
    env = os.environ if env is None else env
    if graphics != "auto" or detect_graphics(env) != "blocks":
        return None
    if env.get("TMUX") or env.get("STY") or env.get("TERM", "").startswith("linux"):
        return None  # multiplexers answer for themselves; the Linux console shows APC text
    probe = GraphicsProbe(0, 1)
    return probe if probe.start() else None
