"""The kernel's life as one console sees it: started (or attached to) in the background while the
prompt is already up, cells held until it is ready, and its death, revival and restarts (ours and
other clients'), each said in words above the prompt.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from console import render
from console.console_commands import RESTART_WORD
from console.errors import LinkError, LinkTimeout, UserInputError
from console.history import ConsoleHistory, history_path
from console.keys import KeyCatcher
from console.link import KernelLink
from console.prompt import PromptState, lexer_for
from console.screen import Screen
from console.session import ConsoleSession
from console.settings import Settings

HISTORY_TIMEOUT = 3.0
DROP_NOTE_INTERVAL = 10.0  # seconds between notes about unreadable kernel messages
RESTART_NOTE_QUIET = 5.0  # seconds in which further signs of one restart are not repeated


class StartFailed(Exception):
    """The kernel could not be started or reached; ``code`` is the exit status."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class KernelLifecycle:
    """Start, readiness, death, revival and restart of the console's kernel."""

    def __init__(
        self,
        settings: Settings,
        link: KernelLink,
        session: ConsoleSession,
        screen: Screen,
        history: ConsoleHistory,
        state: PromptState,
        catcher: KeyCatcher,
    ) -> None:
        self.settings = settings
        self.link = link
        self.session = session
        self.screen = screen
        self.history = history
        self.state = state
        self.catcher = catcher
        self.file_extension = ".txt"  # the kernel language's, for the editor's temporary file
        self.start_error: StartFailed | None = None
        self.on_restart: Callable[[], None] = lambda: None  # the kernel restarted: forget its waits
        self.on_restarted: Callable[[], None] = lambda: None  # our restart is over: the new kernel is ready
        self.before_restart: Callable[[], Awaitable[None]] = _nothing  # a restart was confirmed (bounded)
        self._start: asyncio.Task[None] | None = None
        self._start_wait: asyncio.Future[None] | None = None
        self._after_held: Awaitable[None] | None = None  # start-up work sent after the held cell
        self._restart: asyncio.Task[None] | None = None
        self._restart_noted = -RESTART_NOTE_QUIET
        self._tasks: set[asyncio.Future[Any]] = set()
        self._drops = 0
        self._drop_quiet_until = 0.0
        link.on_death = self._on_death
        link.on_revival = self._on_revival
        link.on_drop = self._on_drop
        link.on_silent = self._on_silent

    def background(self, work: Awaitable[Any]) -> None:
        """Run ``work`` as a task the loop keeps (it holds tasks only weakly)."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- start-up ---------------------------------------------------------------------------

    def begin(self) -> None:
        """Start or attach in the background; cells wait for it in ``wait_started``."""
        self._start = asyncio.create_task(self._connect())

    async def _connect(self) -> None:
        """Start or attach, wait until ready, then load banner, lexer and history."""
        s = self.settings
        try:
            # jupyter_client is heavy: import it off the event loop so the prompt stays live.
            from console import warmup

            local = s.existing is None and not s.server  # a kernelspec of this machine
            early = self.link.early
            await asyncio.to_thread(warmup.wait)  # started by ``warm_up`` (or now)
            language = early.language if early is not None else warmup.language
            if local and language:
                # The spec names the language: the console's own history is usable now,
                # before the kernel answers (its own history joins at the next prompt).
                self.history.open_file(history_path(language))
                self.history.done_loading()
            if s.server:
                if s.existing is not None:
                    await self.link.attach(s.existing)
                else:
                    await self.link.start(s.kernel)
            elif s.existing is not None:
                from console.connection_files import resolve_connection_file

                path = s.connection_file or resolve_connection_file(s.existing)
                await self.link.attach(path, s.ssh)
            else:
                await self.link.start(s.kernel, s.connection_file)
                if early is None:
                    self.background(asyncio.to_thread(lexer_for, language))  # while it boots
            info = await self.link.wait_ready(s.kernel_timeout)
        except UserInputError as e:
            self._fail(StartFailed(str(e), 2))
            return
        except LinkTimeout as e:
            self._fail(StartFailed(f"{e}; giving up", 1))
            return
        except LinkError as e:
            self._fail(StartFailed(str(e), 1))
            return
        except Exception as e:  # anything unexpected from jupyter_client, in words
            self._fail(StartFailed(f"could not reach the kernel: {e}", 1))
            return
        lang = info.get("language_info") or {}
        self.file_extension = str(lang.get("file_extension") or ".txt")
        self.screen.printer.write(render.render_banner(info, self.link.attach_hint(), self.screen.options))
        if not self.history.has_file:
            self.history.open_file(history_path(str(lang.get("name") or "unknown")))
        self.link.watch_heartbeat()
        # Ready: a held cell may run now. History, the counter and the lexer follow in the
        # background; with a cell held, only once it is sent (it goes to the kernel first).
        lexer = str(lang.get("pygments_lexer") or lang.get("name") or "")
        if self._start_wait is not None:
            self._after_held = self._load_extras(lexer)
        else:
            self.background(self._set_lexer(lexer))
            self.background(self._load_extras())

    async def _set_lexer(self, name: str) -> None:
        """Highlight the input with the kernel's language, once its lexer is imported."""
        self.state.lexer = await asyncio.to_thread(lexer_for, name)
        self.screen.invalidate()

    async def _load_extras(self, lexer: str = "") -> None:
        """Kernel history into the prompt's history; the input's highlighting (``lexer``, when
        not set already); an early kernel to its manager; the counter of an attached kernel.

        The kernel answers the history after a cell held at start-up and sent before it: what
        follows (the lexer's import in a thread, 30-150 ms, and the manager's take-over,
        ~20 ms) then never holds that first cell's output back.
        """
        try:
            await self._load_kernel_history()
            if lexer:
                self.background(self._set_lexer(lexer))
            await self.link.settle()
            if not self.link.owned and not self.settings.watch:  # watching sends no execute
                await self.session.sync_execution_count(HISTORY_TIMEOUT, on_late=self.screen.invalidate)
        except LinkError:
            pass
        finally:
            self.history.done_loading()
            self.screen.invalidate()

    async def _load_kernel_history(self) -> None:
        try:
            reply = await self.link.request(
                "history_request",
                {"output": False, "raw": True, "hist_access_type": "tail", "n": 1000},
                HISTORY_TIMEOUT,
            )
        except LinkError:
            return
        entries = reply.get("content", {}).get("history") or []
        inputs = [str(e[2]) for e in entries if isinstance(e, (list, tuple)) and len(e) >= 3]
        self.history.merge_kernel(inputs)

    def _fail(self, error: StartFailed) -> None:
        self.start_error = error
        self.history.done_loading()
        app = self.screen.prompt.app
        if app.is_running and app.future is not None and not app.future.done():
            app.exit(exception=error)

    def cancel_held_cell(self) -> bool:
        """Ctrl-C while a cell waits for the start: drop the cell (the kernel goes on starting)."""
        if self._start_wait is None:
            return False
        self._start_wait.cancel()
        return True

    async def wait_started(self) -> bool:
        """Hold a cell until the kernel is ready; False when the user gave up (Ctrl-C)."""
        assert self._start is not None
        if not self._start.done():
            self._start_wait = asyncio.ensure_future(asyncio.shield(self._start))
            note = asyncio.get_running_loop().call_later(
                1.0,
                self.screen.printer.write,
                self.screen.style("(waiting for the kernel to start; Ctrl-C drops this cell)\n", render.DIM),
            )
            try:
                with self.catcher.active():
                    await self._start_wait
            except asyncio.CancelledError:
                if self._start.cancelled() or not self._start_wait.cancelled():
                    raise
                return False
            finally:
                note.cancel()
                self._start_wait = None
                if self._after_held is not None:  # after the held cell's request is sent
                    asyncio.get_running_loop().call_soon(self.background, self._after_held)
                    self._after_held = None
        if self.start_error is not None:
            raise self.start_error
        return True

    async def stop_starting(self) -> None:
        """Leaving: a start still under way is cancelled."""
        if self._start is not None and not self._start.done():
            self._start.cancel()
            with contextlib.suppress(BaseException):
                await self._start

    # -- unreadable messages ----------------------------------------------------------------

    def _on_drop(self, why: str) -> None:
        """A kernel message that could not be read (bad signature or frames): said, at most
        once per DROP_NOTE_INTERVAL, with a running count."""
        self._drops += 1
        now = time.monotonic()
        if now < self._drop_quiet_until:
            return
        self._drop_quiet_until = now + DROP_NOTE_INTERVAL
        why = why if len(why) <= 100 else why[:99] + "…"
        self.screen.note(f"(ignored an unreadable message from the kernel, {self._drops} so far: {why})")

    # -- a kernel that dies or restarts -----------------------------------------------------

    def on_kernel_status(self, state: str) -> None:
        if state in ("starting", "restarting") and not self.link.restart_is_ours():
            self.restart_note("(the kernel is restarting: its variables are lost)")
            self._await_restarted_kernel()

    def _await_restarted_kernel(self) -> None:
        """Someone else restarted the kernel (another client, or the server that holds it):
        hold the next cell until the new process answers kernel_info and our iopub subscription
        reaches it, or its first output would be lost while the channels reconnect."""
        if self.link.ready and (self._restart is None or self._restart.done()):
            self._restart = asyncio.ensure_future(self._reconfirm_restarted())

    async def _reconfirm_restarted(self) -> None:
        try:
            await self.link.reconfirm(self.settings.kernel_timeout)
        except LinkError as e:
            self.screen.note(f"mycon: the restarted kernel does not answer: {e}", render.RED)

    def restart_note(self, text: str) -> None:
        """Say once (not once per sign of it) that another client's kernel restarted."""
        self.session.lose_cell("the kernel was restarted while it ran")  # it will never finish
        self.session.execution_count = 1
        self.on_restart()
        now = asyncio.get_running_loop().time()
        if now - self._restart_noted < RESTART_NOTE_QUIET:
            return
        self._restart_noted = now
        self.screen.note(text)

    def cell_lost(self, why: str) -> None:
        """Our cell was lost to a restart by someone else: say so; count anew."""
        self.screen.note(f"(the cell was lost: {why}; its variables are gone)", render.RED)
        self.restart_note("(the kernel was restarted: its variables are lost)")
        self.resync_later()

    def _on_death(self, reason: str) -> None:
        """The heartbeat stopped: restart an owned kernel, wait for an attached one."""
        if self.link.owned:
            self.screen.note(
                f"mycon: {reason}; restarting it. Lost: everything defined in it "
                "(variables, imports, functions); your input history is kept.",
                render.RED,
            )
            self._start_restart(now=True)
        else:
            again = f"; `{RESTART_WORD}` starts it again" if self.link.can_restart else ""
            self.screen.note(
                f"mycon: {reason}; it may be gone. Waiting for it to answer again "
                f"(cells are kept, not run); Ctrl-D leaves{again}.",
                render.RED,
            )

    def _on_silent(self, reason: str) -> None:
        """Our kernel's process runs but its heartbeat is silent: say so, keep it."""
        self.screen.note(
            f"mycon: {reason}, but its process is running (busy in C code, or stuck). "
            f"Ctrl-C interrupts a cell; `{RESTART_WORD}` restarts the kernel.",
            render.RED,
        )

    def _on_revival(self) -> None:
        if self.link.owned:
            self.screen.note("(the kernel answers again)")
            return
        self.background(self._revive_attached())

    async def _revive_attached(self) -> None:
        """The heartbeat answers again: say so once the kernel is ready (iopub live) again."""
        try:
            await self.link.reconfirm(self.settings.kernel_timeout)
        except LinkError as e:
            self.screen.note(f"mycon: the kernel answers its heartbeat but not requests: {e}", render.RED)
            return
        self.screen.note("(the kernel answers again)")
        self.resync_later()

    def resync_later(self) -> None:
        """Learn the kernel's execution count again, in the background."""
        self.background(self._resync())

    async def _resync(self) -> None:
        try:
            self.session.execution_count = 1
            await self.session.sync_execution_count(HISTORY_TIMEOUT, on_late=self.screen.invalidate)
        except LinkError:
            pass
        self.screen.invalidate()

    def _start_restart(self, now: bool) -> None:
        self.on_restart()  # a restarted kernel waits for nobody
        if self._restart is None or self._restart.done():
            self._restart = asyncio.ensure_future(self._do_restart(now))

    async def _do_restart(self, now: bool) -> None:
        try:
            await self.link.restart(now=now)
            await self.link.wait_ready(self.settings.kernel_timeout)
        except LinkError as e:
            self.screen.note(f"mycon: {e}", render.RED)
            return
        self.session.execution_count = 1
        self.screen.note("(kernel restarted)")
        self.on_restarted()

    async def wait_restart(self) -> bool:
        """Hold a cell while a restart is under way; False when a second Ctrl-C stopped
        waiting (the restart goes on)."""
        if self._restart is None or self._restart.done():
            return True
        waiting = asyncio.ensure_future(asyncio.shield(self._restart))
        broken: list[bool] = []

        def stop_waiting() -> None:
            broken.append(True)
            waiting.cancel()

        try:
            with self.catcher.active(on_break=stop_waiting):
                await waiting
        except asyncio.CancelledError:
            if not broken:
                raise
            self.screen.note("(stopped waiting for the restart; it goes on, and a cell waits for it)")
            return False
        return True

    async def ask_restart(self) -> None:
        """The restart command: confirm, then restart (kernels this console may restart)."""
        if not self.link.can_restart:
            self.screen.note("(only the console that started the kernel can restart it)")
            return
        try:
            answer = await self.screen.ask("Restart the kernel? Everything defined in it is lost (y/[n]) ")
        except (EOFError, KeyboardInterrupt):
            return
        if answer.strip().lower() not in ("y", "yes"):
            self.screen.note("(not restarted)")
            return
        self.screen.note("(restarting the kernel)")
        await self.before_restart()
        self._start_restart(now=False)
        await self.wait_restart()


def warm_up(settings: Settings, early_kernel: bool) -> None:
    """Begin importing jupyter_client (and looking up a kernelspec's language) in its thread
    (``console.warmup``): it is what the first cell waits for when the kernel was launched
    before the UI was imported, so it starts once the console is built, and overlaps the wait
    for the terminal's answer to the start-up query and the first prompt's drawing."""
    from console import warmup

    local = settings.existing is None and not settings.server  # a kernelspec of this machine
    warmup.start(settings.kernel if local and not early_kernel else "")


async def _nothing() -> None:
    """No preparation before a restart."""
