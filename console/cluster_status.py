"""The ``--cluster`` toolbar line: the cluster's engines and how many are busy.

Asked of the cluster's controller directly, with a client of the console's own, never through
the kernel (a running cell would hold the question back). At most once a second, only while the
prompt is up, each question bounded; a controller that cannot be reached (a kernel on another
machine) or stops answering ends the line, silently: the toolbar is a help, not a duty.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

POLL_INTERVAL = 1.0
"""Seconds between two questions to the controller."""
ANSWER_TIMEOUT = 3.0
"""Seconds the controller has to answer one question (connecting included)."""


def status_line(status: dict[Any, Any]) -> str:
    """ipyparallel's ``queue_status()`` as the toolbar line, e.g. ``cluster: 4 engines, 1 busy``."""
    engines = {k: v for k, v in status.items() if isinstance(v, dict)}
    busy = sum(1 for v in engines.values() if (v.get("queue") or 0) + (v.get("tasks") or 0) > 0)
    waiting = status.get("unassigned") or 0
    word = "engine" if len(engines) == 1 else "engines"
    line = f"cluster: {len(engines)} {word}, {busy} busy"
    return line + (f", {waiting} tasks waiting" if waiting else "")


def _in_daemon_thread(work: Callable[[], Any]) -> asyncio.Future[Any]:
    """Run blocking ``work`` in a daemon thread (one that hangs never holds the exit up)."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if fut.done():
            return  # the waiter gave up
        if error is not None:
            fut.set_exception(error)
        else:
            fut.set_result(result)

    def run() -> None:
        try:
            result = work()
        except BaseException as e:  # handed to the awaiting side
            loop.call_soon_threadsafe(settle, None, e)
            return
        loop.call_soon_threadsafe(settle, result, None)

    threading.Thread(target=run, name="mycon-cluster-status", daemon=True).start()
    return fut


class ClusterStatus:
    """Polls the controller of cluster ``cluster_id`` and keeps the toolbar line."""

    def __init__(self, cluster_id: str, visible: Callable[[], bool], changed: Callable[[], None]) -> None:
        self.cluster_id = cluster_id
        self.visible = visible  # whether the prompt is up (only then is the line seen)
        self.changed = changed  # redraw the toolbar
        self.line = ""
        self._client: Any = None
        self._stopped = False

    def stop(self) -> None:
        """The cluster is stopping: no more questions, no line."""
        self._stopped = True
        self._set("")
        client, self._client = self._client, None
        if client is not None:
            threading.Thread(target=client.close, daemon=True).start()

    async def run(self) -> None:
        """Ask once a second while the prompt is up, until stopped or the controller fails."""
        try:
            while not self._stopped:
                if self.visible():
                    status = await asyncio.wait_for(_in_daemon_thread(self._query), ANSWER_TIMEOUT)
                    if not self._stopped:
                        self._set(status_line(status))
                await asyncio.sleep(POLL_INTERVAL)
        except Exception:  # unreachable or silent controller: the toolbar line goes
            self._set("")

    def _query(self) -> dict[Any, Any]:
        if self._client is None:
            import ipyparallel

            self._client = ipyparallel.Client(cluster_id=self.cluster_id, timeout=ANSWER_TIMEOUT)
        return dict(self._client.queue_status())

    def _set(self, line: str) -> None:
        if line != self.line:
            self.line = line
            self.changed()
