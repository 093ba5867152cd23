"""The console: wires the kernel link, the session, the printer and the prompt together.

The prompt appears at once; the kernel is started (or attached to) in the background and a cell
typed before it is ready is held, then run. While a cell runs, keys are caught (Ctrl-C
interrupts, the rest is type-ahead for the next prompt) and output is printed as it arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import replace
from typing import Any

from console import render
from console.history import ConsoleHistory, history_path
from console.keys import KeyCatcher
from console.link import KernelLink, LinkError, LinkTimeout, Msg, UserInputError
from console.output import Printer
from console.probe import GraphicsProbe
from console.prompt import (
    Completeness,
    EnterState,
    HelpToolbar,
    KernelCompleter,
    PromptState,
    create_prompt_session,
    lexer_for,
    local_completeness,
)
from console.session import (
    CellOutcome,
    ConsoleSession,
    InputCancelled,
    SessionHooks,
)
from console.settings import Settings, key_sequences

IS_COMPLETE_TIMEOUT = 0.5
COMPLETE_TIMEOUT = 3.0
INSPECT_TIMEOUT = 2.0
HISTORY_TIMEOUT = 3.0
DROP_NOTE_INTERVAL = 10.0  # seconds between notes about unreadable kernel messages
RESTART_WORD = "%mycon restart"  # a console command, never sent to the kernel
RESTART_NOTE_QUIET = 5.0  # seconds in which further signs of one restart are not repeated


class StartFailed(Exception):
    """The kernel could not be started or reached; ``code`` is the exit status."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class Console:
    """One interactive console on one kernel."""

    def __init__(self, settings: Settings, input: Any = None, output: Any = None) -> None:
        self.settings = settings
        self.printer = Printer()
        self.options = render.RenderOptions(
            width=self._width(),
            color=settings.color and not os.environ.get("NO_COLOR"),  # no-color.org
            graphics=settings.graphics,
            mime_order=render.mime_order(settings.mime_order),
            prompts=render.Prompts(settings.in_prompt, settings.continuation_prompt, settings.out_prompt),
        )
        self.link = _make_link(settings)
        self.link.encrypt = settings.encrypt
        self.link.on_kernel_output = self._on_kernel_output
        self.link.on_death = self._on_death
        self.link.on_revival = self._on_revival
        self.link.on_drop = self._on_drop
        self.link.on_silent = self._on_silent
        hooks = SessionHooks(
            write=self.printer.write,
            ask_input=self._ask_input,
            on_other=self._on_other,
            on_kernel_status=self._on_kernel_status,
        )
        self.session = ConsoleSession(self.link, hooks, self.options)
        self.printer.watch(self.session.area.seen)  # rows others write, for in-place redraws
        self.history = ConsoleHistory(settings.history_size)
        self.state = PromptState(count=lambda: self.session.execution_count, prompts=self.options.prompts)
        self.file_extension = ".txt"
        self.toolbar = HelpToolbar(self._inspect, self._width)
        self.prompt = create_prompt_session(
            self.state,
            ask_complete=self._is_complete,
            completer=KernelCompleter(self._complete),
            history=self.history,
            toolbar=self.toolbar,
            vi_mode=settings.vi_mode,
            style=settings.style,
            keys=settings.keys,
            input=input,
            output=output,
            enter_state=EnterState(),
            probe_complete=self._probe_complete,
        )
        self.prompt.tempfile_suffix = lambda: self.file_extension
        if not self.options.color:
            from prompt_toolkit.output import ColorDepth

            self.prompt.color_depth = ColorDepth.MONOCHROME

        self.printer.set_app(self.prompt.app)
        self.printer.style_note = lambda text: render.style(text, render.DIM, self.options)
        self.catcher = KeyCatcher(self.prompt.input, self._on_ctrl_c)
        self._start: asyncio.Task[None] | None = None
        self._start_error: StartFailed | None = None
        self._running = False
        self._interrupt_failed = False  # an interrupt went unanswered: Ctrl-C abandons the cell
        self._next_input = ""
        self._keep_kernel = False
        self._tasks: set[asyncio.Future[Any]] = set()
        self._drops = 0
        self._drop_quiet_until = 0.0
        self._start_wait: asyncio.Future[None] | None = None
        self._restart: asyncio.Task[None] | None = None
        self._restart_noted = -RESTART_NOTE_QUIET
        self._clients: dict[str, int] = {}  # other clients' session ids -> their number
        self._other_wait: tuple[str, str] | None = None  # (cell msg_id, client) whose input the kernel awaits
        self._add_restart_key()

    def add_typeahead(self, text: str) -> None:
        """Keys typed before the prompt existed go to the prompt first, as if typed there."""
        if text:
            _store_typeahead(self.prompt.input, text)

    @staticmethod
    def _width() -> int:
        return shutil.get_terminal_size((80, 24)).columns

    # -- start-up ---------------------------------------------------------------------------

    async def _connect(self) -> None:
        """Start or attach, wait until ready, then load banner, lexer and history."""
        s = self.settings
        try:
            # jupyter_client is heavy: import it off the event loop so the prompt stays live.
            from console import warmup

            local = s.existing is None and not s.server  # a kernelspec of this machine
            warmup.start(s.kernel if local else "")
            await asyncio.to_thread(warmup.wait)
            if local and warmup.language:
                # The spec names the language: the console's own history is usable now,
                # before the kernel answers (its own history joins at the next prompt).
                self.history.open_file(history_path(warmup.language))
                self.history.done_loading()
            if s.server:
                if s.existing is not None:
                    await self.link.attach(s.existing)
                else:
                    await self.link.start(s.kernel)
            elif s.existing is not None:
                from console.link import resolve_connection_file

                path = s.connection_file or resolve_connection_file(s.existing)
                await self.link.attach(path, s.ssh)
            else:
                await self.link.start(s.kernel, s.connection_file)
                self._background(asyncio.to_thread(lexer_for, warmup.language))  # while it boots
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
        # Importing a pygments lexer takes 30-150 ms: done in a thread, it never holds a cell back.
        self._background(self._set_lexer(str(lang.get("pygments_lexer") or lang.get("name") or "")))
        self.file_extension = str(lang.get("file_extension") or ".txt")
        self.printer.write(render.render_banner(info, self.link.attach_hint(), self.options))
        if not self.history.has_file:
            self.history.open_file(history_path(str(lang.get("name") or "unknown")))
        self.link.watch_heartbeat()
        # Ready: a held cell may run now. History and the counter follow in the background.
        self._background(self._load_extras())

    def _background(self, work: Awaitable[Any]) -> None:
        """Run ``work`` as a task the loop keeps (it holds tasks only weakly)."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _set_lexer(self, name: str) -> None:
        """Highlight the input with the kernel's language, once its lexer is imported."""
        self.state.lexer = await asyncio.to_thread(lexer_for, name)
        self._invalidate()

    async def _load_extras(self) -> None:
        """Kernel history into the prompt's history; the counter of an attached kernel."""
        try:
            await self._load_kernel_history()
            if not self.link.owned:
                await self.session.sync_execution_count(HISTORY_TIMEOUT, on_late=self._invalidate)
        except LinkError:
            pass
        finally:
            self.history.done_loading()
            self._invalidate()

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
        self._start_error = error
        self.history.done_loading()
        app = self.prompt.app
        if app.is_running and app.future is not None and not app.future.done():
            app.exit(exception=error)

    def _invalidate(self) -> None:
        if self.prompt.app.is_running:
            self.prompt.app.invalidate()

    async def _wait_started(self) -> bool:
        """Hold a cell until the kernel is ready; False when the user gave up (Ctrl-C)."""
        assert self._start is not None
        if not self._start.done():
            self._start_wait = asyncio.ensure_future(asyncio.shield(self._start))
            note = asyncio.get_running_loop().call_later(
                1.0,
                self.printer.write,
                render.style("(waiting for the kernel to start; Ctrl-C drops this cell)\n", render.DIM, self.options),
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
        if self._start_error is not None:
            raise self._start_error
        return True

    # -- kernel questions from the prompt ---------------------------------------------------

    async def _is_complete(self, code: str) -> Completeness:
        if not self.link.ready:
            return local_completeness(code)
        try:
            reply = await self.link.request("is_complete_request", {"code": code}, IS_COMPLETE_TIMEOUT)
        except LinkError:
            return local_completeness(code)
        content = reply.get("content", {})
        status = str(content.get("status", "unknown"))
        if status == "unknown":
            return local_completeness(code)
        return status, str(content.get("indent", ""))

    async def _probe_complete(self, code: str) -> Completeness | None:
        """The kernel's answer for text being typed (None: not ready, busy or no answer)."""
        if not self.link.ready or self._running:
            return None
        try:
            reply = await self.link.request("is_complete_request", {"code": code}, IS_COMPLETE_TIMEOUT)
        except LinkError:
            return None
        content = reply.get("content", {})
        status = str(content.get("status", "unknown"))
        return None if status == "unknown" else (status, str(content.get("indent", "")))

    async def _complete(self, code: str, cursor: int) -> dict[str, Any] | None:
        if not self.link.ready:
            return None
        try:
            reply = await self.link.request(
                "complete_request", {"code": code, "cursor_pos": cursor}, COMPLETE_TIMEOUT
            )
        except LinkError:
            return None
        content = reply.get("content", {})
        return content if content.get("status", "ok") == "ok" else None

    async def _inspect(self, code: str, cursor: int) -> dict[str, Any] | None:
        if not self.link.ready or self._running:
            return None
        try:
            reply = await self.link.request(
                "inspect_request",
                {"code": code, "cursor_pos": cursor, "detail_level": 0},
                INSPECT_TIMEOUT,
            )
        except LinkError:
            return None
        content: dict[str, Any] = reply.get("content", {})
        return content if content.get("status") == "ok" else None

    # -- running ----------------------------------------------------------------------------

    def _on_ctrl_c(self) -> None:
        if self._start_wait is not None:
            self._start_wait.cancel()  # drop the held cell; the kernel goes on starting
            return
        if self._running and self._interrupt_failed:
            self.session.abandon()  # the kernel ignored the interrupt: give the prompt back
            return
        if self._running and self.link.client is not None:
            self._background(self._interrupt())  # kept: a collected task would never send

    async def _interrupt(self) -> None:
        try:
            await self.link.interrupt()
        except Exception as e:
            self._interrupt_failed = True
            self.printer.write(render.style(
                f"could not interrupt the kernel: {e}; Ctrl-C again stops waiting for this cell\n",
                render.RED, self.options,
            ))

    def _on_sigint(self) -> None:
        """SIGINT outside prompt_toolkit's raw mode (a brief window): same as Ctrl-C."""
        self._on_ctrl_c()

    async def _ask_input(self, prompt: str, password: bool) -> str:
        """Answer input()/getpass at the terminal; Ctrl-C cancels, Ctrl-D is end of file."""
        from prompt_toolkit import PromptSession

        self.printer.flush()
        self.catcher.hand_over()
        session: PromptSession[str] = PromptSession(input=self.prompt.input, output=self.prompt.output)
        self.printer.set_app(None)
        try:
            return await session.prompt_async(prompt, is_password=password)
        except KeyboardInterrupt:
            self.printer.write("\n")
            raise InputCancelled() from None
        finally:
            self.printer.set_app(self.prompt.app)

    def _on_kernel_output(self, text: str) -> None:
        """What the kernel process itself writes to its stdout/stderr (not cell output)."""
        self.printer.write(render.style(text, render.DIM, self.options))

    def _on_other(self, msg: Msg) -> None:
        """Another client's input and output, shown live above the prompt."""
        msg_type = msg["header"]["msg_type"]
        if msg_type == render.INPUT_WAIT:
            self._on_other_input_wait(msg)
            return
        if msg_type == "status" and self._other_wait is not None:
            if msg.get("parent_header", {}).get("msg_id") == self._other_wait[0]:
                if (msg.get("content") or {}).get("execution_state") == "idle":
                    self._other_wait = None  # that cell is over, whatever became of its input
        if not self.settings.include_other_output:
            return
        if msg_type == "shutdown_reply":
            if (msg.get("content") or {}).get("restart"):
                self._restart_note("(another client is restarting the kernel: its variables are lost)")
            else:
                self._note("(another client shut the kernel down)", render.RED)
            return
        if msg_type == "iopub_welcome":
            sender = str(msg["header"].get("session") or "")
            if self.link.ready and not self.link.owned and sender != self.link.kernel_session:
                # Every subscriber sees every welcome: one from the kernel process we know only
                # means that another client subscribed. One from a new process: the kernel
                # came back on its ports.
                self.link.kernel_session = sender
                self._restart_note("(the kernel's output channel reconnected: it was probably restarted)")
                self._on_revival_sync()
            return
        if msg_type == "execute_input":
            text = render.render_input(msg.get("content", {}), self.options, who=self._client_label(msg))
            self.printer.write(text)
            return
        self.session.area.show(msg, live=False)  # an update of their display comes with a note

    def _on_other_input_wait(self, msg: Msg) -> None:
        """Our kernel waits for another client's input, or no longer does: said once each."""
        content = msg.get("content") or {}
        cell = str(msg.get("parent_header", {}).get("msg_id") or "")
        who = self._client_label(msg)
        if content.get("state") == "waiting":
            if self._other_wait is not None and self._other_wait[0] == cell:
                return  # the same wait, announced again for a client that just subscribed
            self._other_wait = (cell, who)
        elif self._other_wait is not None and self._other_wait[0] == cell:
            self._other_wait = None
        else:
            return  # the end of a wait we never saw begin
        if self.settings.include_other_output:
            self.printer.ensure_line_start()
            self.printer.write(render.render_input_wait(content, self.options, who=who))
            self._invalidate()

    def _client_label(self, msg: Msg) -> str:
        """``client N``: N numbers other clients' session ids in order of first sight."""
        sid = str(msg.get("parent_header", {}).get("session") or "")
        if sid not in self._clients:
            self._clients[sid] = len(self._clients) + 1
        return f"client {self._clients[sid]}"

    def _on_drop(self, why: str) -> None:
        """A kernel message that could not be read (bad signature or frames): said, at most
        once per DROP_NOTE_INTERVAL, with a running count."""
        self._drops += 1
        now = time.monotonic()
        if now < self._drop_quiet_until:
            return
        self._drop_quiet_until = now + DROP_NOTE_INTERVAL
        why = why if len(why) <= 100 else why[:99] + "…"
        self._note(f"(ignored an unreadable message from the kernel, {self._drops} so far: {why})")

    def _note(self, text: str, color: str = "") -> None:
        """A line of the console's own above the prompt."""
        self.printer.ensure_line_start()
        self.printer.write(render.style(text + "\n", color or render.DIM, self.options))
        self._invalidate()

    # -- a kernel that dies or restarts -----------------------------------------------------

    def _on_kernel_status(self, state: str) -> None:
        if state in ("starting", "restarting") and not self.link.restart_is_ours():
            self._restart_note("(the kernel is restarting: its variables are lost)")
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
            self._note(f"mycon: the restarted kernel does not answer: {e}", render.RED)

    def _restart_note(self, text: str) -> None:
        """Say once (not once per sign of it) that another client's kernel restarted."""
        self.session.execution_count = 1
        self._other_wait = None
        now = asyncio.get_running_loop().time()
        if now - self._restart_noted < RESTART_NOTE_QUIET:
            return
        self._restart_noted = now
        self._note(text)

    def _on_death(self, reason: str) -> None:
        """The heartbeat stopped: restart an owned kernel, wait for an attached one."""
        if self.link.owned:
            self._note(
                f"mycon: {reason}; restarting it. Lost: everything defined in it "
                "(variables, imports, functions); your input history is kept.",
                render.RED,
            )
            self._start_restart(now=True)
        else:
            again = f"; `{RESTART_WORD}` starts it again" if self.link.can_restart else ""
            self._note(
                f"mycon: {reason}; it may be gone. Waiting for it to answer again "
                f"(cells are kept, not run); Ctrl-D leaves{again}.",
                render.RED,
            )

    def _on_silent(self, reason: str) -> None:
        """Our kernel's process runs but its heartbeat is silent: say so, keep it."""
        self._note(
            f"mycon: {reason}, but its process is running (busy in C code, or stuck). "
            f"Ctrl-C interrupts a cell; `{RESTART_WORD}` restarts the kernel.",
            render.RED,
        )

    def _on_revival(self) -> None:
        if self.link.owned:
            self._note("(the kernel answers again)")
            return
        self._background(self._revive_attached())

    async def _revive_attached(self) -> None:
        """The heartbeat answers again: say so once the kernel is ready (iopub live) again."""
        try:
            await self.link.reconfirm(self.settings.kernel_timeout)
        except LinkError as e:
            self._note(f"mycon: the kernel answers its heartbeat but not requests: {e}", render.RED)
            return
        self._note("(the kernel answers again)")
        self._on_revival_sync()

    def _on_revival_sync(self) -> None:
        self._background(self._resync())

    async def _resync(self) -> None:
        try:
            self.session.execution_count = 1
            await self.session.sync_execution_count(HISTORY_TIMEOUT, on_late=self._invalidate)
        except LinkError:
            pass
        self._invalidate()

    def _start_restart(self, now: bool) -> None:
        self._other_wait = None  # a restarted kernel waits for nobody
        if self._restart is None or self._restart.done():
            self._restart = asyncio.ensure_future(self._do_restart(now))

    async def _do_restart(self, now: bool) -> None:
        try:
            await self.link.restart(now=now)
            await self.link.wait_ready(self.settings.kernel_timeout)
        except LinkError as e:
            self._note(f"mycon: {e}", render.RED)
            return
        self.session.execution_count = 1
        self._note("(kernel restarted)")

    async def _wait_restart(self) -> None:
        if self._restart is not None and not self._restart.done():
            with self.catcher.active():
                await asyncio.shield(self._restart)

    def _add_restart_key(self) -> None:
        """Ctrl-X Ctrl-K (the ``restart`` action) at the prompt asks to restart the kernel (the
        typed text is kept)."""
        from prompt_toolkit.key_binding import KeyBindings, merge_key_bindings

        kb = KeyBindings()

        def _(event: Any) -> None:
            self._next_input = event.app.current_buffer.text
            event.app.exit(result=RESTART_WORD)

        for sequence in key_sequences(self.settings.keys, "restart"):
            kb.add(*sequence)(_)

        self.prompt.key_bindings = merge_key_bindings([self.prompt.key_bindings or KeyBindings(), kb])

    async def _ask_restart(self) -> None:
        """The restart command: confirm, then restart (kernels this console may restart)."""
        if not self.link.can_restart:
            self._note("(only the console that started the kernel can restart it)")
            return
        from prompt_toolkit import PromptSession

        session: PromptSession[str] = PromptSession(input=self.prompt.input, output=self.prompt.output)
        try:
            answer = await session.prompt_async("Restart the kernel? Everything defined in it is lost (y/[n]) ")
        except (EOFError, KeyboardInterrupt):
            return
        if answer.strip().lower() not in ("y", "yes"):
            self._note("(not restarted)")
            return
        self._note("(restarting the kernel)")
        self._start_restart(now=False)
        await self._wait_restart()

    async def run_cell(self, code: str) -> CellOutcome:
        """Run one cell with keys caught (Ctrl-C interrupts, others are type-ahead)."""
        self.options = replace(self.options, width=self._width())
        self.session.options = self.options
        if self._other_wait is not None:
            self._note(f"(the kernel waits for input from {self._other_wait[1]}: this cell runs once it is answered)")
        self._running = True
        self._interrupt_failed = False
        try:
            with self.catcher.active():
                return await self.session.run_cell(code)
        finally:
            self._running = False
            self.printer.flush()

    async def _handle_payloads(self, outcome: CellOutcome) -> bool:
        """Act on the reply's payloads; returns False when the console should exit."""
        for payload in outcome.payloads:
            source = payload.get("source")
            if source == "page":
                await self._page(payload.get("data") or {})
            elif source == "set_next_input":
                self._next_input = str(payload.get("text") or "")
            elif source == "ask_exit":
                self._keep_kernel = bool(payload.get("keepkernel"))
                return False
            elif source == "edit_magic":
                await self._edit_file(str(payload.get("filename", "")), payload.get("line_number"))
        return True

    async def _page(self, data: dict[str, Any]) -> None:
        text = render.render_page(data, self.options)
        self.printer.ensure_line_start()
        rows = shutil.get_terminal_size((80, 24)).lines
        if text.count("\n") + 1 < rows - 1 or not sys.stdout.isatty():
            self.printer.write(text if text.endswith("\n") else text + "\n")
            self.printer.flush()
            return
        pager = os.environ.get("PAGER") or "less -R"
        try:
            await asyncio.to_thread(
                subprocess.run, shlex.split(pager), input=text.encode(), check=False
            )
        except OSError:
            self.printer.write(text + "\n")

    async def _edit_file(self, filename: str, line: Any) -> None:
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        if not filename:
            fd, filename = tempfile.mkstemp(suffix=self.file_extension)
            os.close(fd)
        argv = shlex.split(editor) + ([f"+{line}"] if isinstance(line, int) else []) + [filename]
        try:
            await asyncio.to_thread(subprocess.run, argv, check=False)
            with open(filename, encoding="utf-8") as f:
                self._next_input = f.read().rstrip("\n")
        except OSError as e:
            self.printer.write(f"cannot run editor {editor!r}: {e}\n")

    async def _confirm_exit(self) -> bool:
        if not self.settings.confirm_exit:
            return True
        from prompt_toolkit import PromptSession

        session: PromptSession[str] = PromptSession(input=self.prompt.input, output=self.prompt.output)
        question = "Do you really want to exit ([y]/n)? "
        try:
            answer = await session.prompt_async(question)
        except (EOFError, KeyboardInterrupt):
            return True
        return answer.strip().lower() in ("", "y", "yes")

    # -- main loop --------------------------------------------------------------------------

    async def run(self) -> int:
        """Read and run cells until the user leaves; returns the exit status."""
        loop = asyncio.get_running_loop()
        previous = signal.getsignal(signal.SIGINT)
        signal.signal(signal.SIGINT, lambda *_: loop.call_soon_threadsafe(self._on_sigint))
        self._start = asyncio.create_task(self._connect())
        # SIGTERM or a closed terminal (SIGHUP): leave as on Ctrl-D, shutting an owned kernel
        # down and removing its connection file, instead of dying on the spot.
        main = asyncio.current_task()
        ended_by: list[int] = []

        def terminate(signum: int) -> None:
            ended_by.append(signum)
            if main is not None:
                main.cancel()

        for signum in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(signum, terminate, signum)
        try:
            return await self._loop()
        except StartFailed as e:
            self.printer.ensure_line_start()
            sys.stderr.write(f"mycon: {e}\n")
            return e.code
        except asyncio.CancelledError:
            if not ended_by:
                raise
            return 128 + ended_by[0]
        finally:
            signal.signal(signal.SIGINT, previous)
            for signum in (signal.SIGTERM, signal.SIGHUP):
                loop.remove_signal_handler(signum)
            await self._close()

    async def _loop(self) -> int:
        while True:
            self.printer.ensure_line_start()
            if self._start_error is not None:
                raise self._start_error
            default, self._next_input = self._next_input, ""
            try:
                code = await self.prompt.prompt_async(default=default)
            except KeyboardInterrupt:
                continue
            except EOFError:
                if await self._confirm_exit():
                    return 0
                continue
            if not code.strip():
                continue
            if code.split() == RESTART_WORD.split():
                if await self._wait_started():
                    await self._ask_restart()
                continue
            if not await self._wait_started():
                self.printer.write("(not run: the kernel is still starting)\n")
                continue
            await self._wait_restart()
            if not self.link.alive and not self.link.owned:
                self._note("(not run: the kernel does not answer; the cell is kept. Ctrl-D leaves)")
                self._next_input = code
                continue
            outcome = await self.run_cell(code)
            if outcome.status == "aborted":
                # stop_on_error: an error before it (maybe another client's) made the kernel
                # skip this cell. Nothing ran; the cell comes back to be run again.
                self._note("(not run: the kernel skipped this cell after an earlier error; it is back at the prompt)")
                self._next_input = code
                continue
            if outcome.status == "abandoned":
                self.printer.ensure_line_start()
                self.printer.write(render.style(f"mycon: {outcome.error}\n", render.RED, self.options))
                continue
            if outcome.status == "dead":
                self.printer.ensure_line_start()
                if self.link.kernel_comes_back or not self.link.alive:
                    note = f"(the cell did not finish: {outcome.error})\n"
                    self.printer.write(render.style(note, render.RED, self.options))
                    await self._wait_restart()
                    continue
                sys.stderr.write(f"mycon: {outcome.error}\n")
                return 1
            if not await self._handle_payloads(outcome):
                return 0
            self.printer.ensure_line_start()
            self.printer.write("\n")  # a blank line between cells, as in IPython

    async def _close(self) -> None:
        if self._start is not None and not self._start.done():
            self._start.cancel()
            with contextlib.suppress(BaseException):
                await self._start
        if self.link.client is not None:
            shutdown = self.link.owned and not self._keep_kernel
            await self.link.close(shutdown=shutdown)
        with contextlib.suppress(OSError):  # the terminal may be gone (SIGHUP)
            self.printer.flush()


def _make_link(settings: Settings) -> KernelLink:
    """A link to a local or ssh-tunnelled kernel, or (``--server``) to one in a Jupyter server."""
    if not settings.server:
        return KernelLink()
    from console.server import ServerLink, parse_server

    return ServerLink(address=parse_server(settings.server, settings.token))


def _store_typeahead(prompt_input: Any, text: str) -> None:
    """Keys typed before the prompt existed (read by the start-up terminal query) go to the
    prompt first, as if typed there."""
    from prompt_toolkit.input.typeahead import store_typeahead
    from prompt_toolkit.input.vt100_parser import Vt100Parser
    from prompt_toolkit.key_binding import KeyPress

    keys: list[KeyPress] = []
    parser = Vt100Parser(keys.append)
    parser.feed(text)
    parser.flush()
    store_typeahead(prompt_input, keys)


def run_console(settings: Settings, probe: GraphicsProbe | None = None) -> int:
    """Run the console to completion; returns the process exit status.

    ``probe``: the start-up graphics query, sent before this module was imported (see
    ``console.probe``); its answer is read here, keys typed meanwhile go to the first prompt.
    """
    try:
        if not sys.stdin.isatty():
            sys.stderr.write("mycon: the console needs a terminal on stdin (to run code from a pipe: mycon exec -)\n")
            return 2
        console = Console(settings)
    finally:
        graphics, typed = probe.finish() if probe is not None else (None, "")
    render.set_probed_graphics(graphics)
    console.add_typeahead(typed)
    return asyncio.run(console.run())
