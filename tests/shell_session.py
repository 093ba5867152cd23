"""A kernel Shell with the services installed, run in the test process (no sockets)."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from kernel import language
from kernel.connection import ConnectionInfo
from kernel.execution.shell import CellOutcome, Shell

HELPER_BUILTINS = ("exit", "quit", "__mycon_magic__")  # what services.install puts in builtins


class ShellSession:
    """Runs cells in a Shell with history, magics and display installed; keeps what it publishes."""

    def __init__(self, connection_file: str | None = None) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []
        self.shell = Shell(lambda msg_type, content: self.published.append((msg_type, content)))
        self.info = ConnectionInfo(key="secret-key", shell_port=1234) if connection_file else None
        self.channels = SimpleNamespace(info=self.info, connection_file=connection_file, cleanups=[])
        language.install(self.shell, self.channels)

    def run(self, code: str) -> CellOutcome:
        self.published.clear()
        return self.shell.run_cell(code)

    def ok(self, code: str) -> CellOutcome:
        outcome = self.run(code)
        assert outcome.status == "ok", (outcome.ename, outcome.evalue, outcome.traceback)
        return outcome

    def usage_error(self, code: str) -> str:
        outcome = self.run(code)
        assert outcome.ename == "UsageError", (outcome.ename, outcome.evalue)
        return outcome.evalue

    def result(self) -> str | None:
        for msg_type, content in self.published:
            if msg_type == "execute_result":
                text: str = content["data"]["text/plain"]
                return text
        return None

    def page(self, code: str) -> str:
        outcome = self.ok(code)
        assert [p["source"] for p in outcome.payload] == ["page"], outcome.payload
        text: str = outcome.payload[0]["data"]["text/plain"]
        return text


@contextmanager
def shell_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, connection_file: str | None = None
) -> Iterator[ShellSession]:
    """A session with its data dir and working directory in ``tmp_path``; builtins put back after."""
    monkeypatch.setenv("MYCON_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    saved = {name: getattr(builtins, name, None) for name in HELPER_BUILTINS}
    session = ShellSession(connection_file)
    try:
        yield session
    finally:
        for cleanup in session.channels.cleanups:
            cleanup()
        for name, value in saved.items():
            if value is None:
                if hasattr(builtins, name):
                    delattr(builtins, name)
            else:
                setattr(builtins, name, value)
