"""``get_ipython().events``: callbacks around each cell, as IPython's event manager calls them.

``pre_execute()`` and ``pre_run_cell(info)`` fire before a cell runs, ``post_execute()`` and
``post_run_cell(result)`` after it, with objects that carry the fields IPython's
``ExecutionInfo`` and ``ExecutionResult`` carry.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from typing import Any

EVENTS = ("pre_execute", "pre_run_cell", "post_execute", "post_run_cell", "shell_initialized")


class ExecutionInfo:
    """What is about to run (the argument of ``pre_run_cell``)."""

    def __init__(self, raw_cell: str, store_history: bool = True, silent: bool = False) -> None:
        self.raw_cell = raw_cell
        self.transformed_cell = raw_cell
        self.store_history = store_history
        self.silent = silent
        self.shell_futures = True
        self.cell_id: str | None = None
        self.cell_meta: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"<ExecutionInfo raw_cell={self.raw_cell[:50]!r} store_history={self.store_history} silent={self.silent}>"


class ExecutionResult:
    """What a run produced (the argument of ``post_run_cell`` and the value of ``run_cell``)."""

    def __init__(self, info: ExecutionInfo) -> None:
        self.info = info
        self.execution_count: int | None = None
        self.error_before_exec: BaseException | None = None
        self.error_in_exec: BaseException | None = None
        self.result: Any = None

    @property
    def success(self) -> bool:
        return self.error_before_exec is None and self.error_in_exec is None

    def raise_error(self) -> None:
        """Raise the error of the run, if there was one."""
        if self.error_before_exec is not None:
            raise self.error_before_exec
        if self.error_in_exec is not None:
            raise self.error_in_exec

    def __repr__(self) -> str:
        return (f"<ExecutionResult execution_count={self.execution_count} "
                f"error_in_exec={self.error_in_exec!r} result={self.result!r}>")


class EventManager:
    """Callbacks by event name; a failing callback is reported on stderr and the others run."""

    def __init__(self) -> None:
        self.callbacks: dict[str, list[Callable[..., Any]]] = {name: [] for name in EVENTS}

    def register(self, event: str, function: Callable[..., Any]) -> None:
        """Call ``function`` on ``event`` (one of ``EVENTS``)."""
        if not callable(function):
            raise TypeError(f"Need a callable, got {function!r}")
        if event not in self.callbacks:
            raise KeyError(f"unknown event {event!r}; events are {', '.join(EVENTS)}")
        if function not in self.callbacks[event]:
            self.callbacks[event].append(function)

    def unregister(self, event: str, function: Callable[..., Any]) -> None:
        """Stop calling ``function`` on ``event``."""
        if function not in self.callbacks.get(event, []):
            raise ValueError(f"Function {function!r} is not registered as a {event} callback")
        self.callbacks[event].remove(function)

    def trigger(self, event: str, *args: Any) -> None:
        """Call each callback of ``event`` with ``args``."""
        for function in list(self.callbacks[event]):
            try:
                function(*args)
            except Exception:  # noqa: BLE001 - one broken callback must not stop the cell
                print(f"Error in callback {function!r} (for {event}):", file=sys.stderr)
                traceback.print_exc()

    def any(self) -> bool:
        """True when some callback is registered (the shell hooks cost nothing otherwise)."""
        return any(self.callbacks.values())
