"""Wiring of the language services into a started kernel: history, magics, display helpers.

``install`` runs at the end of start-up, so it only creates objects and hooks: the history
database is opened by its writer thread on first use, magics import their modules lazily.
"""

from __future__ import annotations

import sys
from typing import Any

from . import history, magics
from .shell import CellOutcome, Shell


class HistoryRecorder:
    """Hooks that feed each stored cell's input and text/plain result to the history store."""

    def __init__(self, shell: Shell, store: history.HistoryStore) -> None:
        self.shell = shell
        self.store = store
        self.last_count = shell.execution_count
        self.result_text: str | None = None

    def before(self, code: str) -> None:
        self.result_text = None

    def on_publish(self, msg_type: str, content: dict[str, Any]) -> None:
        if msg_type == "execute_result":
            text = content.get("data", {}).get("text/plain")
            self.result_text = text if isinstance(text, str) else None

    def after(self, code: str, outcome: CellOutcome) -> None:
        count = outcome.execution_count
        if count != self.last_count:  # silent and store_history=False runs keep the count
            self.last_count = count
            try:
                source = self.shell.transform(code)
            except Exception:  # noqa: BLE001 - the cell already reported its own error
                source = code
            self.store.store_input(count, source, code)
            if self.result_text is not None:
                self.store.store_output(count, self.result_text)
        self.result_text = None
        for warning in self.store.take_warnings():
            print(warning, file=sys.stderr)


def install(shell: Shell, channels: Any) -> None:
    """Attach history, magics and display helpers to ``shell`` (cheap: nothing is opened)."""
    info = getattr(channels, "info", None)
    connection_file = getattr(channels, "connection_file", None)
    kernel_id = ""
    if connection_file:
        kernel_id = str(connection_file).rsplit("/", 1)[-1]
    store = history.HistoryStore(history.default_path(), kernel_id=kernel_id)
    shell.extensions["history"] = store
    recorder = HistoryRecorder(shell, store)
    shell.pre_run_hooks.append(recorder.before)
    shell.post_run_hooks.append(recorder.after)
    _wrap_publish(shell, recorder)
    _wrap_display_result(shell)
    cleanups = getattr(channels, "cleanups", None)
    if cleanups is not None:
        cleanups.append(store.close)
    magics.install(shell, info, connection_file)
    try:
        from . import display  # type: ignore[attr-defined]
    except ImportError:
        return
    display.install(shell)


def _wrap_publish(shell: Shell, recorder: HistoryRecorder) -> None:
    """Let the recorder see each ``execute_result`` (its text goes to output history)."""
    publish = shell.publish

    def publish_and_record(msg_type: str, content: dict[str, Any]) -> None:
        recorder.on_publish(msg_type, content)
        publish(msg_type, content)

    shell.publish = publish_and_record


def _wrap_display_result(shell: Shell) -> None:
    """``exit`` / ``quit`` typed as a cell ask the console to leave instead of showing a repr."""
    display_result = shell.display_result

    def display_or_exit(value: Any, count: int, store: bool = True) -> None:
        if isinstance(value, magics.ExitRequest):
            value()
            return
        display_result(value, count, store=store)

    shell.display_result = display_or_exit  # type: ignore[method-assign]
