"""``mycon --cluster N``: an ipyparallel cluster started in the kernel, stopped on leaving.

Once the kernel is ready, a silent cell (no counter, no history) starts N engines, connects a
client (``rc`` in the user's namespace) and activates the ``%px`` magics. The prompt stays live
meanwhile: a cell typed before the cluster is up is sent at once and the kernel runs it right
after the set-up cell. When the console leaves, a second silent cell stops the cluster, unless
``--keep-cluster`` (then the cluster outlives the kernel and the note says how to stop it).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from console import render
from console.errors import LinkError
from console.link import KernelLink, Msg

START_TIMEOUT = 120.0
"""Seconds the engines have to register with the cluster's controller."""
STOP_TIMEOUT = 15.0
"""Seconds the cluster has to stop on leaving before the console stops waiting."""
INSTALL_HINT = "pip install mycon[parallel]"
CLUSTER = "__mycon_cluster__"  # the kernel-side name of the ipyparallel Cluster


def setup_code(engines: int, keep: bool) -> str:
    """The silent cell that starts ``engines`` engines and activates ``%px`` on all of them."""
    lines = [
        "import ipyparallel as __mycon_ipp__",
        f"{CLUSTER} = __mycon_ipp__.Cluster(n={engines}, log_level=40)",
        f"{CLUSTER}.shutdown_atexit = {not keep}",
        "del __mycon_ipp__",
        f"{CLUSTER}.start_cluster_sync()",
        f"rc = {CLUSTER}.connect_client_sync()",
        f"rc.wait_for_engines({engines}, timeout={START_TIMEOUT:g}, interactive=False)",
        "rc.activate()",
    ]
    return "\n".join(lines)


def stop_code() -> str:
    """The silent cell that stops the cluster started by ``setup_code``."""
    return f"{CLUSTER}.stop_cluster_sync()"


def failure_text(content: Msg) -> str:
    """An execute_reply's error as one line: what went wrong and what to do."""
    ename = str(content.get("ename", "Error"))
    evalue = str(content.get("evalue", ""))
    if ename in ("ModuleNotFoundError", "ImportError") and "ipyparallel" in evalue:
        return f"--cluster needs ipyparallel where the kernel runs: {INSTALL_HINT}"
    return f"the cluster did not start: {ename}: {evalue}"


def ready_text(content: Msg, engines: int) -> str:
    """The note saying the cluster is up (from the set-up cell's user_expressions)."""
    found = _expression(content, "engines")
    count = found if found.isdigit() else str(engines)
    word = "engine" if count == "1" else "engines"
    return f"(cluster ready: {count} {word} up; %px runs a cell on all of them, `rc` is the client)"


def _expression(content: Msg, name: str) -> str:
    value = (content.get("user_expressions") or {}).get(name) or {}
    if value.get("status") != "ok":
        return ""
    return str((value.get("data") or {}).get("text/plain", "")).strip("'\"")


class ClusterControl:
    """Starts the cluster once the kernel is ready and stops it when the console leaves."""

    def __init__(self, link: KernelLink, note: Callable[[str, str], None], engines: int, keep: bool,
                 ready_timeout: float) -> None:
        self.link = link
        self.note = note  # a line of the console's own (text, colour)
        self.engines = engines
        self.keep = keep
        self.ready_timeout = ready_timeout
        self.started = False
        self.cluster_id = ""
        self._setup_sent = asyncio.Event()  # set once the set-up cell is sent (or never will be)
        self.on_started: Callable[[ClusterControl], None] = lambda control: None  # the cluster is up
        self.on_stopping: Callable[[], None] = lambda: None  # it is about to stop (or went with the kernel)

    async def setup_sent(self) -> None:
        """Wait until the set-up cell went out (a cell sent after it runs after it: ``%px``
        works), at most as long as the kernel has to start."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._setup_sent.wait(), self.ready_timeout)

    def forget(self) -> None:
        """The kernel restarts: its cluster stops with it (ipyparallel stops it at the kernel's
        exit); nothing is left to stop on leaving, and cells wait for the next set-up cell."""
        self.started = False
        self._setup_sent = asyncio.Event()
        self.on_stopping()

    async def start(self) -> None:
        """Wait for the kernel, then run the set-up cell (bounded) and say how it went."""
        try:
            await self._start()
        finally:
            self._setup_sent.set()

    async def _start(self) -> None:
        try:
            await asyncio.wait_for(self.link.ready_event(), self.ready_timeout)
        except asyncio.TimeoutError:
            return  # the console says itself that the kernel did not start
        self.note(f"(starting a cluster of {self.engines} engines; cells typed meanwhile run once it is up)", "")
        expressions = {"engines": "len(rc.ids)", "cluster_id": f"{CLUSTER}.cluster_id"}
        try:
            content = await self._execute(setup_code(self.engines, self.keep), START_TIMEOUT + 15, expressions)
        except asyncio.TimeoutError:
            self.note(f"mycon: the cluster did not start within {START_TIMEOUT + 15:g} s", render.RED)
            return
        except LinkError as e:
            self.note(f"mycon: the cluster did not start: {e}", render.RED)
            return
        if content.get("status") != "ok":
            self.note(f"mycon: {failure_text(content)}", render.RED)
            return
        self.started = True
        self.cluster_id = _expression(content, "cluster_id")
        self.note(ready_text(content, self.engines), render.GREEN)
        self.on_started(self)

    async def stop(self) -> None:
        """Leaving: stop the cluster (bounded), or say how to stop a kept one."""
        if not self.started:
            return
        self.started = False
        self.on_stopping()
        if self.keep:
            self.note(f"(the cluster keeps running: ipcluster stop --cluster-id={self.cluster_id} stops it)", "")
            return
        self.note(f"(stopping the cluster's {self.engines} engines)", "")
        try:
            content = await self._execute(stop_code(), STOP_TIMEOUT)
        except asyncio.TimeoutError:
            self.note(f"(the cluster did not stop within {STOP_TIMEOUT:g} s; "
                      f"ipcluster stop --cluster-id={self.cluster_id} stops it)", render.RED)
            return
        except LinkError:
            return  # the kernel is gone; its exit stops the cluster
        if content.get("status") != "ok":
            self.note(f"(the cluster did not stop: {content.get('ename')}: {content.get('evalue')})", render.RED)

    async def _execute(self, code: str, timeout: float, expressions: Msg | None = None) -> Msg:
        """Run ``code`` silently in the kernel; the reply's content (bounded by ``timeout``)."""
        content = {"code": code, "silent": True, "store_history": False,
                   "user_expressions": expressions or {}, "allow_stdin": False, "stop_on_error": False}
        msg_id = self.link.send("execute_request", content)
        fut = self.link.expect(msg_id, "execute_reply")
        self._setup_sent.set()
        try:
            reply = await asyncio.wait_for(fut, timeout)
        finally:
            self.link.forget(msg_id)
            with contextlib.suppress(BaseException):
                fut.cancel()
        return dict(reply.get("content") or {})
