"""Keys typed while a cell runs: Ctrl-C interrupts, everything else is type-ahead.

While no prompt is on screen the terminal is kept in raw mode and read by the event loop, so
keys are neither echoed over the output nor lost: they are handed to the next prompt (or to an
``input()`` prompt) through prompt_toolkit's type-ahead store, in the order they were typed.

Every wait that catches keys can be broken: a second Ctrl-C within ``BREAK_WINDOW`` seconds of
one that did not end the wait (a kernel ignoring the interrupt, or never answering) calls the
wait's ``on_break`` instead, which gives the prompt back; keys typed ahead are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from prompt_toolkit.input.typeahead import store_typeahead
from prompt_toolkit.key_binding.key_processor import KeyPress
from prompt_toolkit.keys import Keys

BREAK_WINDOW = 5.0
"""Seconds after a Ctrl-C that had no effect within which a second one breaks the wait."""
STUCK_HINT_AFTER = 1.0
"""Seconds after a Ctrl-C that has not ended a breakable wait before saying how to leave it."""


class KeyCatcher:
    """Reads the terminal while a cell runs; Ctrl-C calls ``on_interrupt``."""

    def __init__(
        self, input: Any, on_interrupt: Callable[[], None], on_stuck: Callable[[], None] | None = None
    ) -> None:
        self.input = input
        self.on_interrupt = on_interrupt
        self.on_stuck = on_stuck  # says how to leave a wait a Ctrl-C did not end
        self.keys: list[KeyPress] = []
        self._on_break: Callable[[], None] | None = None
        self._pressed_at: float | None = None  # the last Ctrl-C of the current wait
        self.side_keys: list[tuple[str, ...]] = []  # key sequences that call ``on_side``
        self.on_side: Callable[[], None] = lambda: None  # the side-cell key (console.side)

    def _read(self) -> None:
        for key in self.input.read_keys():
            self._take(key)

    def _take(self, key: KeyPress) -> None:
        if key.key == Keys.CPRResponse:
            return  # a late answer to a prompt's cursor-position request, not a key
        if key.key == Keys.ControlC:
            self.ctrl_c()
        else:
            self.keys.append(key)
            self._side_key()

    def _side_key(self) -> None:
        """The last keys typed are a side-cell key: they are not type-ahead, they call ``on_side``."""
        names = [k.key.value if isinstance(k.key, Keys) else k.key for k in self.keys]
        for sequence in self.side_keys:
            if sequence and tuple(names[-len(sequence):]) == sequence:
                del self.keys[-len(sequence):]
                self.on_side()
                return

    def ctrl_c(self) -> None:
        """A Ctrl-C (read here, or a SIGINT while the terminal was not in raw mode)."""
        now = time.monotonic()
        first, self._pressed_at = self._pressed_at, now
        if self._on_break is not None and first is not None and now - first <= BREAK_WINDOW:
            on_break, self._on_break = self._on_break, None
            on_break()  # the first Ctrl-C had no effect: stop waiting, keep what was typed
            return
        self.keys.clear()  # like a terminal: Ctrl-C drops what was typed ahead
        self.on_interrupt()
        if self._on_break is not None and self.on_stuck is not None:
            with contextlib.suppress(RuntimeError):  # no running loop: nobody to tell
                asyncio.get_running_loop().call_later(STUCK_HINT_AFTER, self._hint_if_stuck, now)

    def _hint_if_stuck(self, pressed_at: float) -> None:
        """The wait that Ctrl-C at ``pressed_at`` should have ended still goes on: say so."""
        if self._pressed_at == pressed_at and self._on_break is not None and self.on_stuck is not None:
            self.on_stuck()

    def pressed_elsewhere(self) -> None:
        """A Ctrl-C read by another prompt during this wait (an ``input()`` prompt): it counts
        as the first one."""
        self._pressed_at = time.monotonic()

    def hand_over(self) -> None:
        """Give what was typed so far to the next prompt_toolkit application."""
        for key in self.input.flush_keys():
            self._take(key)
        if self.keys:
            store_typeahead(self.input, self.keys)
            self.keys = []

    @contextlib.contextmanager
    def active(self, on_break: Callable[[], None] | None = None) -> Iterator[None]:
        """Catch keys for the duration of the block (no-op when stdin is not a terminal).

        ``on_break``: how to stop waiting when a second Ctrl-C says the first had no effect
        (None: every Ctrl-C calls ``on_interrupt``).
        """
        saved = self._on_break, self._pressed_at
        self._on_break, self._pressed_at = on_break, None
        stack = contextlib.ExitStack()
        try:
            stack.enter_context(self.input.raw_mode())
            stack.enter_context(self.input.attach(self._read))
        except Exception:  # not a terminal (or stdin closed): nothing to catch
            pass
        try:
            yield
        finally:
            stack.close()
            self.hand_over()
            self._on_break, self._pressed_at = saved
