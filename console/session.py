"""The session: the state machine of one console on one kernel.

It runs a cell (execute_request, then follow that request's iopub messages until ``idle`` and
its reply), answers the kernel's stdin requests through a UI callback, collects payloads, and
hands messages caused by other clients to a hook (shown live by the UI). It keeps the prompt
number in step with the kernel's execution counter.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from console import render
from console.console_commands import console_command, is_console_command
from console.displays import OutputArea
from console.errors import LinkError
from console.link import KernelLink, Msg
from console.notebook import NotebookRecorder, notebook_json, save_notebook

LATE_COUNT_BOUND = 600.0  # seconds a late answer about the kernel's counter is still taken


class InputCancelled(Exception):
    """The user pressed Ctrl-C at an ``input()`` prompt."""


class CellAbandoned(Exception):
    """The user stopped waiting for a cell the kernel does not finish (nor interrupt)."""


class CellLost(Exception):
    """The kernel process that ran the cell is gone and another one answers on its ports."""


@dataclass
class CellOutcome:
    """What came back from one cell: its status, counter and payloads."""

    status: str
    execution_count: int | None = None
    payloads: list[Msg] = field(default_factory=list)
    error: str = ""


@dataclass
class SessionHooks:
    """What the session needs from the UI."""

    write: Callable[[str], None]
    ask_input: Callable[[str, bool], Awaitable[str]]
    on_other: Callable[[Msg], None] = field(default=lambda msg: None)
    on_kernel_status: Callable[[str], None] = field(default=lambda state: None)


@dataclass
class _Cell:
    """A cell sent to the kernel and not finished yet."""

    msg_id: str
    code: str
    reply: asyncio.Future[Msg]
    idle: asyncio.Event = field(default_factory=asyncio.Event)


PendingCell = _Cell


def _terminal_rows() -> int:
    return shutil.get_terminal_size((80, 24)).lines


def _payloads(value: object) -> list[Msg]:
    """The reply's payloads that are objects (a kernel may send anything there)."""
    return [p for p in value if isinstance(p, dict)] if isinstance(value, list) else []


class ConsoleSession:
    """Runs cells on one kernel and routes what the kernel says."""

    def __init__(self, link: KernelLink, hooks: SessionHooks, options: render.RenderOptions):
        self.link = link
        self.hooks = hooks
        self.options = options
        self.execution_count = 1
        self._cell: _Cell | None = None
        self._stdin_tasks: set[asyncio.Future[None]] = set()
        self._stdin_turn = asyncio.Lock()  # one input prompt at a time, in the kernel's order
        self.area = OutputArea(hooks.write, self._render_options, _terminal_rows)
        self.recorder = NotebookRecorder()  # for %mycon notebook
        self._saved_notebooks: set[str] = set()  # written by us: may be replaced without -f
        link.on_iopub = self.on_iopub
        link.on_stdin = self.on_stdin

    @property
    def busy(self) -> bool:
        """True while one of our cells runs."""
        return self._cell is not None

    # -- running cells ----------------------------------------------------------------------

    def _render_options(self) -> render.RenderOptions:
        return render.resolve_options(self.options)

    async def run_cell(self, code: str, silent: bool = False) -> CellOutcome:
        """Execute ``code`` and follow it until its reply and its ``idle`` both came.

        A ``%mycon ...`` line is a console command, run here and never sent to the kernel.
        """
        if not silent and is_console_command(code):
            if code.split()[1:2] == ["notebook"]:
                self.hooks.write(self.save_notebook(code.split()[2:]))
                return CellOutcome("ok")
            pages: list[Msg] = []
            text = console_command(
                code, self.area, lambda t: pages.append({"source": "page", "data": {"text/plain": t}})
            )
            self.hooks.write(text)
            return CellOutcome("ok", payloads=pages)
        return await self.wait_cell(self.start_cell(code, silent), silent)

    def start_cell(self, code: str, silent: bool = False) -> PendingCell:
        """Send the execute_request now (output is routed from here on); await ``wait_cell``."""
        content = {
            "code": code,
            "silent": silent,
            "store_history": not silent,
            "user_expressions": {},
            "allow_stdin": True,
            "stop_on_error": True,
        }
        msg_id = self.link.send("execute_request", content)
        reply_fut = self.link.expect(msg_id, "execute_reply")
        cell = _Cell(msg_id, code, reply_fut)
        self._cell = cell
        self.area.begin_cell()
        if not silent:
            self.recorder.begin(code)
        return cell

    async def wait_cell(self, cell: PendingCell, silent: bool = False, liveness: float = 2.0) -> CellOutcome:
        """Follow a started cell to its end.

        A running cell may take as long as it likes; every ``liveness`` seconds the kernel
        process is checked so a dead kernel ends the wait with a message.
        """
        msg_id, reply_fut = cell.msg_id, cell.reply
        done = asyncio.ensure_future(asyncio.gather(reply_fut, cell.idle.wait()))
        try:
            while True:
                finished, _ = await asyncio.wait({done}, timeout=liveness)
                if finished:
                    break
                if not await self.link.is_alive():
                    return CellOutcome("dead", error="the kernel died while running this cell")
                if await self.link.replaced():
                    return CellOutcome("lost", error="the kernel was restarted while running this cell")
            reply = reply_fut.result()
        except CellAbandoned:
            return CellOutcome(
                "abandoned", error="stopped waiting for this cell (the kernel may still be running it)"
            )
        except CellLost as e:
            return CellOutcome("lost", error=str(e))
        except LinkError as e:
            return CellOutcome("dead", error=str(e))
        finally:
            self._cell = None
            self.area.end_cell()
            if not silent:
                self._record_end(reply_fut)
            self.link.forget(msg_id)
            if not done.done():
                done.cancel()
            with contextlib.suppress(BaseException):
                await done  # also retrieves a failure, which would otherwise be logged
        rc = reply.get("content", {})
        count = rc.get("execution_count")
        if isinstance(count, int) and not silent:
            # max: another client's execute_input (read on iopub) may already have moved it on
            self.execution_count = max(self.execution_count, count + 1)
        return CellOutcome(
            status=str(rc.get("status", "ok")),
            execution_count=count if isinstance(count, int) else None,
            payloads=_payloads(rc.get("payload")),
        )

    def _record_end(self, reply_fut: asyncio.Future[Msg]) -> None:
        """Tell the notebook recorder how the cell ended (its reply, if one came)."""
        content: Msg = {}
        if reply_fut.done() and not reply_fut.cancelled() and reply_fut.exception() is None:
            content = reply_fut.result().get("content") or {}
        count = content.get("execution_count")
        self.recorder.end(
            str(content.get("status", "unknown")), count if isinstance(count, int) else None, content.get("payload")
        )

    def save_notebook(self, args: list[str]) -> str:
        """``%mycon notebook FILE [-f]``: this console's cells and outputs as a notebook."""
        force = "-f" in args
        names = [a for a in args if a != "-f"]
        if len(names) != 1:
            return "usage: %mycon notebook FILE.ipynb [-f]  (-f: replace an existing file)\n"
        path = os.path.abspath(os.path.expanduser(names[0]))
        if not path.endswith(".ipynb"):
            path += ".ipynb"
        if os.path.exists(path) and not force and path not in self._saved_notebooks:
            return f"{path} exists; add -f to replace it\n"
        document = notebook_json(self.recorder.cells, self.link.kernel_name(), self.link.kernel_info)
        try:
            save_notebook(path, document)
        except OSError as e:
            return f"cannot save {path}: {e.strerror}\n"
        self._saved_notebooks.add(path)
        count = len(self.recorder.cells)
        return f"saved {count} cell{'s' if count != 1 else ''} to {path}\n"

    def abandon(self) -> None:
        """Stop waiting for the running cell: for a kernel that answers neither it nor an interrupt."""
        cell = self._cell
        if cell is not None and not cell.reply.done():
            cell.reply.set_exception(CellAbandoned())
            cell.idle.set()

    def lose_cell(self, reason: str) -> None:
        """The kernel behind the ports is a new process: the running cell will never finish."""
        cell = self._cell
        if cell is not None and not cell.reply.done():
            cell.reply.set_exception(CellLost(reason))
            cell.idle.set()

    async def sync_execution_count(self, timeout: float, on_late: Callable[[], None] = lambda: None) -> None:
        """Learn the kernel's counter with a silent empty execute (for attached kernels).

        Waits ``timeout`` for it. A kernel busy with another client's cell answers only after
        that cell: the late reply still sets the counter (then ``on_late`` is called), for up to
        LATE_COUNT_BOUND seconds.
        """
        msg_id = self.link.send(
            "execute_request",
            {"code": "", "silent": True, "store_history": False, "allow_stdin": False},
        )
        fut = self.link.expect(msg_id, "execute_reply")
        asyncio.get_running_loop().call_later(LATE_COUNT_BOUND, self.link.forget, msg_id)

        def take_count(done: asyncio.Future[Msg]) -> None:
            if done.cancelled() or done.exception() is not None:
                return
            count = done.result().get("content", {}).get("execution_count")
            if isinstance(count, int) and count >= 0:
                # A silent execute reports the counter of the last stored cell.
                self.execution_count = max(self.execution_count, count + 1)

        def take_late_count(done: asyncio.Future[Msg]) -> None:
            take_count(done)
            on_late()

        try:
            await asyncio.wait_for(asyncio.shield(fut), timeout)
        except asyncio.TimeoutError:
            fut.add_done_callback(take_late_count)
            return
        take_count(fut)

    # -- routing ----------------------------------------------------------------------------

    def _ours(self, msg: Msg) -> bool:
        return bool(msg.get("parent_header", {}).get("session") == self.link.client.session.session)

    def on_iopub(self, msg: Msg) -> None:
        """Route one iopub message: our cell's output, our own chatter, or another client's."""
        parent_id = msg.get("parent_header", {}).get("msg_id")
        msg_type = msg["header"]["msg_type"]
        cell = self._cell
        if cell is not None and parent_id == cell.msg_id:
            if msg_type == "status":
                if msg["content"].get("execution_state") == "idle":
                    cell.idle.set()
                return
            self.recorder.output(msg)
            self.area.show(msg, live=True)
            return
        if msg_type == "status" and not parent_id:
            self.hooks.on_kernel_status(str(msg["content"].get("execution_state", "")))
            return
        if self._ours(msg):
            # Late output of one of our earlier cells (e.g. from a thread it started) is shown;
            # the status chatter of our completion, inspection and kernel_info is not.
            if msg_type in ("stream", "display_data", "update_display_data", "execute_result", "error"):
                self.area.show(msg, live=False)
            return
        if msg_type == "execute_input":
            count = msg["content"].get("execution_count")
            if isinstance(count, int):
                self.execution_count = max(self.execution_count, count + 1)
        self.hooks.on_other(msg)

    def on_stdin(self, msg: Msg) -> None:
        """The kernel asks for input: ask the user (in a task) and send the reply."""
        if msg["header"]["msg_type"] != "input_request":
            return
        cell = self._cell
        parent = msg.get("parent_header", {}).get("msg_id")
        if cell is None or parent != cell.msg_id or cell.reply.done():
            # Not for a running cell of ours (a kernel asks before it replies, never after): a
            # prompt now would take over the In prompt and send the user's next cell as input.
            self.hooks.write("(the kernel asked for input while no cell of this console runs; ignored)\n")
            return
        content = msg.get("content", {})
        task = asyncio.ensure_future(
            self._answer_input(str(content.get("prompt", "")), bool(content.get("password")))
        )
        self._stdin_tasks.add(task)  # a task only weakly held by the loop may vanish
        task.add_done_callback(self._stdin_tasks.discard)

    async def _answer_input(self, prompt: str, password: bool) -> None:
        async with self._stdin_turn:  # a kernel asking twice at once gets two prompts in turn
            await self._answer_one(prompt, password)

    async def _answer_one(self, prompt: str, password: bool) -> None:
        try:
            value = await self.hooks.ask_input(prompt, password)
        except InputCancelled:
            try:
                await self.link.interrupt()
            except LinkError as e:
                self.hooks.write(f"could not interrupt the kernel: {e}\n")
            return
        except EOFError:
            value = "\x04"  # the EOF convention kernels turn into EOFError
        self.link.input_reply(value)
