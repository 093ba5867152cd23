"""Input history: the console's own file per kernel language, merged with the kernel's.

The file lives in the user's data directory (``$XDG_DATA_HOME/mycon/history/<language>``), so
kernels without history support still have history across sessions. The language is known only
once the kernel answered ``kernel_info``; until then ``load`` waits (the prompt keeps working and
receives the entries when they come). Entries from the kernel's ``history_request`` are merged in
without duplicates but are not written to the file.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncGenerator, Iterable

from prompt_toolkit.history import FileHistory, History


def data_dir() -> str:
    """mycon's directory in the user's data dir ($MYCON_DATA_DIR, else XDG)."""
    explicit = os.environ.get("MYCON_DATA_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return os.path.join(base, "mycon")


def history_path(language: str) -> str:
    """The history file for kernels of ``language``."""
    safe = re.sub(r"[^A-Za-z0-9_.+-]", "_", language or "unknown") or "unknown"
    return os.path.join(data_dir(), "history", safe)


class ConsoleHistory(History):
    """History that learns its file late and takes in the kernel's entries."""

    def __init__(self, size: int = 10000) -> None:
        super().__init__()
        self.size = size
        self._file: FileHistory | None = None
        self._pending: list[str] = []
        self._known = asyncio.Event()
        self._entries: list[str] = []  # newest first

    def open_file(self, path: str) -> None:
        """Use the history file at ``path`` (created on first write)."""
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        except OSError:
            return
        self._file = FileHistory(path)
        file_entries: list[str] = []
        try:
            for i, item in enumerate(self._file.load_history_strings()):
                if i >= self.size:
                    break
                file_entries.append(item)
        except OSError:
            pass
        self._entries = self._entries + [e for e in file_entries if e not in self._entries]
        for item in self._pending:
            self._store(item)
        self._pending.clear()

    @property
    def has_file(self) -> bool:
        """True once the history file is known."""
        return self._file is not None

    def merge_kernel(self, oldest_first: Iterable[str]) -> int:
        """Add the kernel's history behind the console's own; returns how many were new."""
        known = set(self._entries)
        fresh = []
        for entry in oldest_first:
            if entry and entry.strip() and entry not in known:
                known.add(entry)
                fresh.append(entry)
        self._entries.extend(reversed(fresh))
        del self._entries[self.size :]
        if self._loaded:  # prompts already have the console's own: add the kernel's behind
            self._loaded_strings.extend(e for e in reversed(fresh) if e not in self._loaded_strings)
            del self._loaded_strings[self.size :]
        return len(fresh)

    def done_loading(self) -> None:
        """Everything known is in: let waiting prompts have it."""
        self._known.set()

    async def load(self) -> AsyncGenerator[str, None]:
        """Yield entries newest first, once the language and kernel history are known."""
        if not self._loaded:
            await self._known.wait()
            self._loaded_strings = list(self._entries) + [
                s for s in self._loaded_strings if s not in self._entries
            ]
            self._loaded = True
        for item in list(self._loaded_strings):
            yield item

    def load_history_strings(self) -> Iterable[str]:
        """Entries known so far (used only by prompt_toolkit's synchronous paths)."""
        return list(self._entries)

    def store_string(self, string: str) -> None:
        """Write to the file, or keep it until the file is known."""
        if self._file is None:
            self._pending.append(string)
        else:
            self._store(string)

    def _store(self, string: str) -> None:
        assert self._file is not None
        try:
            self._file.store_string(string)
        except OSError:
            pass  # a read-only or full disk never stops the console
