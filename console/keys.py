"""Keys typed while a cell runs: Ctrl-C interrupts, everything else is type-ahead.

While no prompt is on screen the terminal is kept in raw mode and read by the event loop, so
keys are neither echoed over the output nor lost: they are handed to the next prompt (or to an
``input()`` prompt) through prompt_toolkit's type-ahead store, in the order they were typed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from prompt_toolkit.input.typeahead import store_typeahead
from prompt_toolkit.key_binding.key_processor import KeyPress
from prompt_toolkit.keys import Keys


class KeyCatcher:
    """Reads the terminal while a cell runs; Ctrl-C calls ``on_interrupt``."""

    def __init__(self, input: Any, on_interrupt: Callable[[], None]) -> None:
        self.input = input
        self.on_interrupt = on_interrupt
        self.keys: list[KeyPress] = []

    def _read(self) -> None:
        for key in self.input.read_keys():
            self._take(key)

    def _take(self, key: KeyPress) -> None:
        if key.key == Keys.ControlC:
            self.keys.clear()  # like a terminal: Ctrl-C drops what was typed ahead
            self.on_interrupt()
        else:
            self.keys.append(key)

    def hand_over(self) -> None:
        """Give what was typed so far to the next prompt_toolkit application."""
        for key in self.input.flush_keys():
            self._take(key)
        if self.keys:
            store_typeahead(self.input, self.keys)
            self.keys = []

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """Catch keys for the duration of the block (no-op when stdin is not a terminal)."""
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
